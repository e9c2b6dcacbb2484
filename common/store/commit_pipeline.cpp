// CommitPipeline: commits on the writer thread, completions in order on the loop (see the
// header).
#include "common/store/commit_pipeline.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

namespace vmroam::store {

namespace {

// Capabilities are per thread: this one was created with the process's full set and must not
// keep it once the daemon has dropped to CAP_NET_ADMIN + CAP_NET_RAW. It needs none.
void drop_thread_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  (void)::syscall(SYS_capset, &header, data);  // lowering never fails for lack of privilege
}

}  // namespace

CommitPipeline::CommitPipeline(boost::asio::io_context& loop, Store& store)
    : loop_(loop), store_(store), guard_(boost::asio::make_work_guard(work_)) {
  thread_ = std::thread([this] {
    drop_thread_capabilities();
    work_.run();
  });
}

CommitPipeline::~CommitPipeline() {
  alive_.reset();  // deliveries still queued on the loop become no-ops
  guard_.reset();  // run() returns once every queued commit is done
  thread_.join();
}

void CommitPipeline::commit_async(Batch batch, Done done) {
  std::promise<Result<void>> promise;
  auto pending = std::make_shared<Pending>(Pending{promise.get_future(), std::move(done)});
  queue_.push_back(pending);
  std::weak_ptr<int> alive = alive_;
  // A commit in flight is work for the loop: it must not run out of work before delivery.
  auto loop_work = boost::asio::make_work_guard(loop_);
  boost::asio::post(work_, [this, batch = std::move(batch), promise = std::move(promise), alive,
                            loop_work = std::move(loop_work)]() mutable {
    promise.set_value(store_.commit(batch));
    boost::asio::post(loop_, [this, alive, loop_work = std::move(loop_work)] {
      if (alive.lock()) deliver_ready();
    });
  });
}

void CommitPipeline::deliver_front() {
  std::shared_ptr<Pending> p = std::move(queue_.front());
  queue_.pop_front();  // before `done`: it may queue the next commit
  const Result<void> r = p->result.get();
  if (p->done) p->done(r);
}

void CommitPipeline::deliver_ready() {
  while (!queue_.empty() &&
         queue_.front()->result.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
    deliver_front();
}

void CommitPipeline::settle() {
  while (!queue_.empty()) {
    queue_.front()->result.wait();
    deliver_front();
  }
}

}  // namespace vmroam::store
