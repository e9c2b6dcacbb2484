// LongPoll: waiting requests per key, their timers, completion (see the header).
#include "common/api/long_poll.hpp"

#include <algorithm>

#include "common/core/asio.hpp"

namespace vmroam::api {

struct LongPoll::Waiter {
  explicit Waiter(boost::asio::io_context& io) : timer(io) {}
  Responder responder;
  boost::asio::steady_timer timer;
};

LongPoll::LongPoll(boost::asio::io_context& io) : io_(io) {}

LongPoll::~LongPoll() {
  alive_.reset();
  for (auto& [key, list] : waiters_)
    for (auto& w : list) w->timer.cancel();
}

Deferred LongPoll::wait(const std::string& key, std::chrono::milliseconds timeout, Answer on_timeout) {
  // Plain names, not a structured binding: clang 14 cannot capture those in a lambda.
  auto made = make_deferred();
  Deferred deferred = made.first;
  Responder responder = made.second;
  auto w = std::make_shared<Waiter>(io_);
  w->responder = responder;
  std::weak_ptr<int> alive = alive_;
  const Waiter* id = w.get();
  w->timer.expires_after(timeout);
  w->timer.async_wait([this, alive, key, id, on_timeout = std::move(on_timeout),
                       responder](const boost::system::error_code& ec) {
    if (ec || !alive.lock()) return;
    // A send that finds the request gone (cancelled meanwhile) is simply not delivered.
    if (responder.active()) static_cast<void>(responder.send(on_timeout()));
    forget(key, id);
  });
  // The client went away (or the server's own deadline passed): stop watching.
  responder.on_cancel([this, alive, key, id] {
    if (alive.lock()) forget(key, id);
  });
  waiters_[key].push_back(std::move(w));
  return deferred;
}

void LongPoll::forget(const std::string& key, const Waiter* w) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  auto pos = std::find_if(list.begin(), list.end(), [w](const auto& p) { return p.get() == w; });
  if (pos == list.end()) return;
  (*pos)->timer.cancel();
  list.erase(pos);
  if (list.empty()) waiters_.erase(it);
}

std::size_t LongPoll::complete(const std::string& key, const Answer& answer) {
  auto it = waiters_.find(key);
  if (it == waiters_.end()) return 0;
  auto list = std::move(it->second);
  waiters_.erase(it);
  std::size_t answered = 0;
  for (auto& w : list) {
    w->timer.cancel();
    if (w->responder.send(answer())) ++answered;
  }
  return answered;
}

std::size_t LongPoll::complete_all(const Answer& answer) {
  std::size_t answered = 0;
  while (!waiters_.empty()) answered += complete(waiters_.begin()->first, answer);
  return answered;
}

std::size_t LongPoll::waiting(const std::string& key) const {
  auto it = waiters_.find(key);
  return it == waiters_.end() ? 0 : it->second.size();
}

std::pair<Deferred, std::function<void(Response)>> LongPoll::once() {
  auto made = make_deferred();
  Deferred deferred = made.first;
  Responder responder = made.second;
  // send() is false only when the transport cancelled first (client gone): nobody to tell.
  return {deferred, [responder](Response r) { static_cast<void>(responder.send(std::move(r))); }};
}

}  // namespace vmroam::api
