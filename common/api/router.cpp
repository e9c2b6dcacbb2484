// Router and deferred replies; see router.hpp.
#include "common/api/router.hpp"

#include <algorithm>
#include <cstdlib>

namespace vmroam::api {

namespace detail {
struct DeferredState {
  std::optional<Response> pending;     // sent before the transport attached
  std::function<void(Response)> sink;  // set by the transport
  std::function<void()> on_cancel;     // set by the handler
  bool done = false;                   // sent or cancelled
};
}  // namespace detail

bool Responder::send(Response r) const {
  if (!state_ || state_->done) return false;
  state_->done = true;
  state_->on_cancel = nullptr;
  if (state_->sink) {
    auto sink = std::move(state_->sink);
    state_->sink = nullptr;
    sink(std::move(r));
  } else {
    state_->pending = std::move(r);
  }
  return true;
}

bool Responder::active() const { return state_ && !state_->done; }

void Responder::on_cancel(std::function<void()> fn) const {
  if (state_ && !state_->done) state_->on_cancel = std::move(fn);
}

void Deferred::attach(std::function<void(Response)> sink) const {
  if (state_->pending) {
    Response r = std::move(*state_->pending);
    state_->pending.reset();
    sink(std::move(r));
    return;
  }
  if (!state_->done) state_->sink = std::move(sink);
}

void Deferred::cancel() const {
  if (state_->done) return;
  state_->done = true;
  state_->sink = nullptr;
  auto fn = std::move(state_->on_cancel);
  state_->on_cancel = nullptr;
  if (fn) fn();
}

bool Deferred::done() const { return state_->done && !state_->pending; }

std::pair<Deferred, Responder> make_deferred() {
  auto state = std::make_shared<detail::DeferredState>();
  Deferred d;
  d.state_ = state;
  Responder r;
  r.state_ = std::move(state);
  return {std::move(d), std::move(r)};
}

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

}  // namespace

void Router::add(Method method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/' || !handler) std::abort();
  Route route{method, {}, std::move(handler)};
  for (auto seg : split_path(pattern)) {
    if (seg.empty() || (seg.find_first_of("{}") != std::string_view::npos && !is_param(seg))) std::abort();
    route.segments.emplace_back(seg);
  }
  routes_.push_back(std::move(route));
}

std::optional<PathParams> Router::match(const Route& route, const std::vector<std::string_view>& segments,
                                        bool& bad_escape) {
  if (route.segments.size() != segments.size()) return std::nullopt;
  PathParams params;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& want = route.segments[i];
    if (is_param(want)) {
      if (segments[i].empty()) return std::nullopt;
      auto decoded = percent_decode(segments[i], false);
      if (!decoded) {
        bad_escape = true;
        return std::nullopt;
      }
      params[want.substr(1, want.size() - 2)] = std::move(*decoded);
    } else if (want != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

Reply Router::dispatch(const Request& request) const {
  auto segments = split_path(request.path);
  std::vector<Method> allowed;
  bool bad_escape = false;
  for (const auto& route : routes_) {
    auto params = match(route, segments, bad_escape);
    if (!params) continue;
    if (route.method == request.method) return route.handler(request, *params);
    if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end())
      allowed.push_back(route.method);
  }
  if (bad_escape) return bad_request("bad percent escape in path");
  if (!allowed.empty()) return method_not_allowed(allow_header(allowed));
  return not_found("no such path: " + request.path);
}

std::string allow_header(const std::vector<Method>& methods) {
  std::string s;
  for (Method m : methods) {
    if (!s.empty()) s += ", ";
    s += to_string(m);
  }
  return s;
}

}  // namespace vmroam::api
