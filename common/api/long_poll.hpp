// LongPoll: the API layer's registry of HTTP requests that wait for something to happen.
//
// A handler that cannot answer yet (GET /v1/visitors/{id}?wait_ms=N) calls wait(key, …) and
// returns the Deferred it gets. The agent does not hold HTTP requests: it reports what
// happened to a key ("visitor vm1's outcome is durable", "vm1 was removed", "the daemon
// stops"), and the API layer calls complete(key, answer), which answers every request
// waiting on that key. A request that is still waiting when its time is up gets on_timeout();
// one whose client went away (the transport cancels it) is forgotten.
//
// Timers: one per waiting request, on the daemon's io_context. Not thread-safe (one loop).
// Asio stays inside the .cpp file.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/api/router.hpp"

namespace boost::asio {
class io_context;
}

namespace vmroam::api {

class LongPoll {
 public:
  using Answer = std::function<Response()>;

  explicit LongPoll(boost::asio::io_context& io);
  // Requests still waiting are left to the transport (it cancels them when it stops).
  ~LongPoll();
  LongPoll(const LongPoll&) = delete;
  LongPoll& operator=(const LongPoll&) = delete;

  // A reply for a request that waits on `key`: answered by complete(key, …), or by
  // `on_timeout()` once `timeout` has passed.
  [[nodiscard]] Deferred wait(const std::string& key, std::chrono::milliseconds timeout, Answer on_timeout);
  // Answers every request waiting on `key` with `answer()` (called once per request).
  // Returns how many were answered.
  std::size_t complete(const std::string& key, const Answer& answer);
  // Answers every waiting request (the daemon stops).
  std::size_t complete_all(const Answer& answer);
  [[nodiscard]] std::size_t waiting(const std::string& key) const;

  // A reply that is answered exactly once, later (e.g. once a store commit is durable): the
  // Deferred for the transport and the function that answers it.
  [[nodiscard]] static std::pair<Deferred, std::function<void(Response)>> once();

 private:
  struct Waiter;
  void forget(const std::string& key, const Waiter* w);

  boost::asio::io_context& io_;
  std::map<std::string, std::vector<std::shared_ptr<Waiter>>, std::less<>> waiters_;
  // Timer and cancel callbacks that outlive this registry find it gone and do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace vmroam::api
