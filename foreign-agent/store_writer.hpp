// StoreWriter: the FA's durable store, committed on a thread of its own.
//
// Why a thread: a commit is an fsync (WAL, synchronous=FULL), 5–40 ms on a busy disk, and the
// FA's event loop also carries the data path (the userspace tunnel driver, the buffer TUN). A
// commit on the loop at the moment the HA's Registration Reply arrives held the first tunnelled
// packets for the VM behind it (~36 ms at the FA, docs/performance.md). Here the loop hands the batch over
// and goes on delivering; the writer thread fsyncs; the completion comes back to the loop.
//
// Rules that keep this as simple as one thread:
//   * the writer thread touches nothing but the Store; all agent state stays on the loop;
//   * hand-off by Asio post in both directions, no shared mutable state, no mutex of ours;
//   * commits are applied in the order they were queued, synchronous or not, so a later
//     synchronous commit (or a load) sees every earlier one;
//   * a completion runs on the loop and never after the writer is destroyed (weak token);
//     destruction waits for every queued commit to be durable;
//   * the thread drops every capability it was born with (capabilities are per thread on
//     Linux, and it is created before the daemon drops its own): it needs none to write a file
//     its process owns.
// "Acknowledged means on disk" still holds: callers answer their client (API response,
// revocation ack) from the completion, not before.
#pragma once

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop

#include "common/core/result.hpp"
#include "common/store/store.hpp"

namespace vmroam::fa {

class StoreWriter {
 public:
  using Done = std::function<void(const Result<void>&)>;

  StoreWriter(boost::asio::io_context& loop, store::Store store);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Waits (blocking the caller) until `batch` — and everything queued before it — is durable.
  [[nodiscard]] Result<void> commit(const store::Batch& batch);
  // Queues `batch`; `done` runs on the loop once it is durable or has failed.
  void commit_async(store::Batch batch, Done done);
  // Everything queued before is applied first.
  [[nodiscard]] Result<std::vector<store::VisitorRecord>> load_visitors();

 private:
  // Runs `fn` on the writer thread and waits for its result.
  template <typename T, typename F>
  T run_sync(F fn);

  boost::asio::io_context& loop_;
  store::Store store_;
  boost::asio::io_context work_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::thread thread_;
};

}  // namespace vmroam::fa
