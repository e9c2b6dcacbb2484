// CommitPipeline: a Store's commits on a writer thread, so that the event loop decides the
// next batch while the previous one is being made durable.
//
// Why: a commit is an fsync (WAL, synchronous=FULL), milliseconds on a real disk. A loop that
// waits for it handles nothing else meanwhile, so throughput is batch / (fsync + decide).
// Overlapped, it is batch / max(fsync, decide). "Acknowledged means on disk" still holds: the
// caller answers its clients from the completion, never before (docs/home-agent.md
// "Durability").
//
// Rules that keep this as simple as one thread:
//   * the writer thread touches nothing but the Store and the batch handed to it;
//   * commits run in the order they were queued; completions run on the loop in that order;
//   * hand-off by Asio post and one std::future per commit, no mutex of ours;
//   * settle() waits for every queued commit and runs its completion now (a synchronous
//     caller must see the outcome of everything before it); the loop's own delivery of an
//     already-run completion is then a no-op;
//   * after settle() the writer thread is idle, so the caller may use the Store directly
//     (commit, load) on the loop: the future's wait orders its accesses after the thread's;
//   * the thread drops every capability it was born with (capabilities are per thread on
//     Linux; it is created before the daemon drops its own): writing our own file needs none;
//   * destruction waits for every queued commit to be durable; completions not yet run are
//     dropped (the caller settles first if it wants them).
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop

#include "common/core/result.hpp"
#include "common/store/store.hpp"

namespace vmroam::store {

class CommitPipeline {
 public:
  using Done = std::function<void(const Result<void>&)>;

  // `store` outlives the pipeline; while a commit is queued only the writer thread uses it.
  CommitPipeline(boost::asio::io_context& loop, Store& store);
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Queues `batch`; `done` runs on the loop once it is durable or has failed, after the
  // completions of everything queued before it.
  void commit_async(Batch batch, Done done);
  // Waits for every queued commit (including those a completion queues) and runs their
  // completions now, in order. The Store is then the caller's until the next commit_async.
  void settle();
  [[nodiscard]] bool idle() const { return queue_.empty(); }
  // Commits queued and not yet completed.
  [[nodiscard]] std::size_t in_flight() const { return queue_.size(); }

 private:
  struct Pending {
    std::future<Result<void>> result;
    Done done;
  };
  // Runs, in order, the completions whose commits have finished.
  void deliver_ready();
  void deliver_front();

  boost::asio::io_context& loop_;
  Store& store_;
  boost::asio::io_context work_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::deque<std::shared_ptr<Pending>> queue_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::thread thread_;
};

}  // namespace vmroam::store
