// StoreWriter: commits on the writer thread, completions back on the loop (see the header).
#include "foreign-agent/store_writer.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <future>

namespace vmroam::fa {

namespace {

// Capabilities are per thread: this one was created with the process's full set and must not
// keep it once the daemon has dropped to CAP_NET_ADMIN + CAP_NET_RAW. It needs none.
void drop_thread_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  (void)::syscall(SYS_capset, &header, data);  // lowering never fails for lack of privilege
}

}  // namespace

StoreWriter::StoreWriter(boost::asio::io_context& loop, store::Store store)
    : loop_(loop), store_(std::move(store)), guard_(boost::asio::make_work_guard(work_)) {
  thread_ = std::thread([this] {
    drop_thread_capabilities();
    work_.run();
  });
}

StoreWriter::~StoreWriter() {
  alive_.reset();  // completions still queued on the loop become no-ops
  guard_.reset();  // run() returns once every queued commit is done
  thread_.join();
}

template <typename T, typename F>
T StoreWriter::run_sync(F fn) {
  std::promise<T> promise;
  auto future = promise.get_future();
  boost::asio::post(work_, [&] { promise.set_value(fn()); });
  return future.get();
}

Result<void> StoreWriter::commit(const store::Batch& batch) {
  return run_sync<Result<void>>([&] { return store_.commit(batch); });
}

void StoreWriter::commit_async(store::Batch batch, Done done) {
  std::weak_ptr<int> alive = alive_;
  // A commit in flight is work for the loop: it must not run out of work before the completion.
  auto loop_work = boost::asio::make_work_guard(loop_);
  boost::asio::post(work_, [this, batch = std::move(batch), done = std::move(done), alive,
                            loop_work = std::move(loop_work)]() mutable {
    Result<void> r = store_.commit(batch);
    boost::asio::post(loop_,
                      [r = std::move(r), done = std::move(done), alive, loop_work = std::move(loop_work)] {
                        if (alive.lock() && done) done(r);
                      });
  });
}

Result<std::vector<store::VisitorRecord>> StoreWriter::load_visitors() {
  return run_sync<Result<std::vector<store::VisitorRecord>>>([&] { return store_.load_visitors(); });
}

}  // namespace vmroam::fa
