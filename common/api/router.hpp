// Maps (method, path pattern) to handlers; pure, no sockets.
//
//   Router r;
//   r.add(Method::get, "/v1/vms/{id}", [&](const Request&, const PathParams& p) -> Reply {
//     return Response::make_json(200, vm_json(p.at("id")));
//   });
//   Reply reply = r.dispatch(request);   // 404 unknown path, 405 + Allow for a wrong method
//
// Patterns are '/'-separated segments; "{name}" matches one non-empty segment, which is
// percent-decoded into PathParams. Routes are tried in the order added, so add literal
// routes ("/v1/visitors/{id}/activate") in any order — segment counts must match anyway.
//
// Deferred replies: a handler that cannot answer yet (long-poll GET …?wait_ms=N) returns a
// Deferred and keeps the paired Responder; it calls responder.send(response) later from the
// event loop. If the client goes away, the server stops or its deferred timeout passes first,
// the transport cancels: the handler's on_cancel callback runs and later sends are ignored.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/api/message.hpp"

namespace vmroam::api {

using PathParams = std::map<std::string, std::string, std::less<>>;

namespace detail {
struct DeferredState;
}
class Deferred;

// The handler's end of a deferred reply. Copyable; all copies share one state.
class Responder {
 public:
  Responder() = default;
  // Completes the reply (first call wins). Returns false if already completed or cancelled.
  bool send(Response r) const;
  // False once sent or cancelled: a long-poll may stop watching.
  [[nodiscard]] bool active() const;
  // Runs once if the transport cancels before send() (client gone, timeout, server stop).
  void on_cancel(std::function<void()> fn) const;

 private:
  friend std::pair<Deferred, Responder> make_deferred();
  std::shared_ptr<detail::DeferredState> state_;
};

// The transport's end of a deferred reply.
class Deferred {
 public:
  // Where the response goes; called at most once, possibly at once if the handler already sent.
  void attach(std::function<void(Response)> sink) const;
  // The client is gone / timed out / the server stops: runs the handler's on_cancel.
  void cancel() const;
  [[nodiscard]] bool done() const;

 private:
  friend std::pair<Deferred, Responder> make_deferred();
  std::shared_ptr<detail::DeferredState> state_;
};

[[nodiscard]] std::pair<Deferred, Responder> make_deferred();

using Reply = std::variant<Response, Deferred>;
using Handler = std::function<Reply(const Request&, const PathParams&)>;

class Router {
 public:
  // Aborts on a malformed pattern (a programming error, found at start-up).
  void add(Method method, std::string_view pattern, Handler handler);
  [[nodiscard]] Reply dispatch(const Request& request) const;

 private:
  struct Route {
    Method method;
    std::vector<std::string> segments;  // "{name}" for a parameter
    Handler handler;
  };
  // Whether `segments` fits `route`; fills params. Fails with bad_target on a broken escape.
  static std::optional<PathParams> match(const Route& route, const std::vector<std::string_view>& segments,
                                         bool& bad_escape);
  std::vector<Route> routes_;
};

// The Allow header value for a set of methods, e.g. "GET, POST".
[[nodiscard]] std::string allow_header(const std::vector<Method>& methods);

}  // namespace vmroam::api
