// Boost.Beast HTTP/1.1 server for the management API; see http_server.hpp.
//
// One Connection object per accepted socket (Unix or TCP, same template), driven entirely by
// completion handlers on the daemon's io_context. A connection is in one state at a time:
//
//   reading ──header──▶ (auth, 100-continue) ──body──▶ handling ──Response──▶ writing ─┐
//      ▲                                                   │                           │
//      │                                               Deferred ──send/timeout/stop──▶ │
//      └───────────────────────── keep-alive ◀─────────────────────────────────────────┘
//
// One steady_timer per connection enforces the idle/request/deferred timeouts of the state it
// is in. While a Deferred is pending the connection keeps a read outstanding so that a client
// that hangs up is noticed (the deferred is cancelled; the handler's on_cancel runs). After an
// error response that leaves request bytes unread (401, 413, 431) the connection closes
// "lingering": it half-closes and drains briefly, so the client reads the response instead of
// a connection reset.
#include "common/api/http_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <optional>

#include "common/core/asio.hpp"
#include "common/core/log.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace vmroam::api {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1 << 20;
// Bytes of a pipelined next request buffered while a Deferred is pending.
constexpr std::size_t kMaxPipelined = 64 * 1024;

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void on_server_stop() = 0;
  virtual void force_close() = 0;
};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer length so that a prefix match takes as long as a full mismatch.
  std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i)
    if (lower(authorization[i]) != kScheme[i]) return {};
  if (authorization[kScheme.size()] != ' ') return {};
  auto token = authorization.substr(kScheme.size() + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(net::io_context& io_in, HttpServerOptions options_in, RequestHandler handler_in)
      : io(io_in), options(std::move(options_in)), handler(std::move(handler_in)), stop_timer(io_in) {}

  net::io_context& io;
  HttpServerOptions options;
  RequestHandler handler;
  std::optional<net::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<net::ip::tcp::acceptor> tcp_acceptor;
  std::uint16_t bound_port = 0;
  // Identity of the socket file we created, so that we never unlink a successor's.
  bool unix_created = false;
  dev_t unix_dev = 0;
  ino_t unix_ino = 0;
  std::map<std::uint64_t, std::weak_ptr<ConnectionBase>> connections;
  std::uint64_t next_id = 1;
  bool stopping = false;
  bool destroyed = false;
  std::function<void()> on_stopped;
  net::steady_timer stop_timer;

  Result<void> listen_unix();
  Result<void> listen_tcp();
  template <class Acceptor>
  void accept(Acceptor& acceptor, bool remote);
  void close_listeners();
  void remove_socket_file();
  void remove(std::uint64_t id);
  void maybe_stopped();
  template <class F>
  void for_each_connection(F f) {
    // Copy first: closing a connection erases it from the map.
    std::vector<std::shared_ptr<ConnectionBase>> live;
    for (auto& [id, weak] : connections)
      if (auto c = weak.lock()) live.push_back(std::move(c));
    for (auto& c : live) f(*c);
  }
};

namespace {

template <class Socket>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(std::shared_ptr<HttpServer::Impl> server, Socket socket, bool remote, std::uint64_t id)
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(server_->io),
        remote_(remote),
        id_(id) {}

  void start() { read_header(); }

  void on_server_stop() override {
    switch (state_) {
      case State::reading:
        // Idle between requests: nothing in flight, close now.
        if (buffer_.size() == 0 && (!parser_ || !parser_->got_some())) close();
        break;
      case State::deferred:
        finish_deferred(unavailable("the server is stopping"));
        break;
      default:
        break;  // the response in flight finishes, then the connection closes
    }
  }

  void force_close() override { close(); }

 private:
  enum class State { reading, handling, deferred, writing, lingering, closed };

  const HttpServerOptions& opts() const { return server_->options; }

  void arm(std::chrono::milliseconds d) {
    auto gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = this->shared_from_this(), gen](const error_code& ec) {
      if (!ec && gen == self->timer_gen_) self->on_timeout();
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  void read_header() {
    state_ = State::reading;
    if (server_->stopping) {
      close();
      return;
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opts().header_limit));
    parser_->body_limit(opts().body_limit);
    keep_alive_ = false;
    arm(buffer_.size() ? opts().request_timeout : opts().idle_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(const error_code& ec) {
    if (state_ == State::closed) return;
    if (ec) return on_read_error(ec);
    arm(opts().request_timeout);
    auto& req = parser_->get();
    if (remote_) {
      auto token = bearer_token(req[http::field::authorization]);
      if (token.empty() || !constant_time_equal(token, server_->options.token)) {
        respond(unauthorized(token.empty() ? "a bearer token is required on TCP" : "wrong bearer token"),
                true);
        return;
      }
    }
    if (parser_->is_done()) return on_request();
    if (lower_equals(req[http::field::expect], "100-continue")) {
      // RFC 9110 §10.1.1: tell the client to send the body we are willing to read.
      continue_.emplace(http::status::continue_, 11);
      http::async_write(socket_, *continue_,
                        [self = this->shared_from_this()](const error_code& wec, std::size_t) {
                          if (self->state_ == State::closed) return;
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  static bool lower_equals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (lower(a[i]) != lower(b[i])) return false;
    return true;
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                       if (self->state_ == State::closed) return;
                       if (ec) return self->on_read_error(ec);
                       self->on_request();
                     });
  }

  void on_read_error(const error_code& ec) {
    if (ec == http::error::body_limit) {
      respond(too_large(413, "request body larger than " + std::to_string(opts().body_limit) + " bytes"),
              true);
    } else if (ec == http::error::header_limit) {
      respond(too_large(431, "request header larger than " + std::to_string(opts().header_limit) + " bytes"),
              true);
    } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      respond(bad_request("malformed HTTP request: " + ec.message()), true);
    } else {
      close();  // the peer went away, or our timer closed the socket
    }
  }

  void on_request() {
    disarm();
    state_ = State::handling;
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    Request request;
    request.method = parse_method(msg.method_string());
    request.remote = remote_;
    request.content_type = std::string(msg[http::field::content_type]);
    if (!parse_target(msg.target(), request)) {
      respond(bad_request("bad request target"), false);
      return;
    }
    request.body = std::move(msg.body());
    parser_.reset();
    if (server_->destroyed) return close();
    Reply reply = server_->handler(request);
    if (auto* response = std::get_if<Response>(&reply)) {
      respond(std::move(*response), false);
      return;
    }
    state_ = State::deferred;
    deferred_ = std::get<Deferred>(std::move(reply));
    std::weak_ptr<Connection> weak = this->shared_from_this();
    deferred_->attach([weak](Response r) {
      if (auto self = weak.lock()) self->on_deferred_done(std::move(r));
    });
    if (state_ != State::deferred) return;  // the handler had already sent
    arm(opts().deferred_timeout);
    watch();
  }

  void on_deferred_done(Response r) {
    if (state_ != State::deferred) return;
    deferred_.reset();
    stop_watching();
    respond(std::move(r), false);
  }

  // Cancel the deferred (running the handler's on_cancel) and answer with `r` instead.
  void finish_deferred(Response r) {
    if (state_ != State::deferred) return;
    if (deferred_) deferred_->cancel();
    deferred_.reset();
    stop_watching();
    respond(std::move(r), false);
  }

  // Keep a read outstanding while the handler works, to notice a client that hangs up.
  void watch() {
    watching_ = true;
    socket_.async_read_some(
        buffer_.prepare(1024),
        [self = this->shared_from_this()](const error_code& ec, std::size_t n) { self->on_watch(ec, n); });
  }
  void stop_watching() {
    if (!watching_) return;
    error_code ignored;
    socket_.cancel(ignored);
  }
  void on_watch(const error_code& ec, std::size_t n) {
    watching_ = false;
    if (!ec) buffer_.commit(n);
    if (state_ == State::deferred) {
      if (ec) {
        close();  // the client went away: cancels the deferred
        return;
      }
      if (buffer_.size() < kMaxPipelined) watch();
      return;
    }
    if (resume_after_watch_) {
      resume_after_watch_ = false;
      if (state_ != State::closed) read_header();
    }
  }

  void respond(Response r, bool unread_input) {
    state_ = State::writing;
    bool keep = keep_alive_ && !unread_input && !server_->stopping;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res_.set(name, value);
    res_.body() = r.body_text();
    res_.keep_alive(keep);
    res_.prepare_payload();
    close_after_write_ = !keep;
    linger_after_write_ = unread_input;
    arm(opts().request_timeout);
    http::async_write(socket_, res_, [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(const error_code& ec) {
    if (state_ == State::closed) return;
    disarm();
    if (ec) return close();
    if (close_after_write_) {
      if (linger_after_write_) return linger();
      error_code ignored;
      socket_.shutdown(net::socket_base::shutdown_send, ignored);
      return close();
    }
    if (watching_) {
      // The cancelled watch read has not completed yet; continue from its handler.
      state_ = State::reading;
      resume_after_watch_ = true;
      return;
    }
    read_header();
  }

  void linger() {
    state_ = State::lingering;
    error_code ignored;
    socket_.shutdown(net::socket_base::shutdown_send, ignored);
    arm(kLingerTime);
    drain();
  }
  void drain() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                              if (self->state_ != State::lingering) return;
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerBytes) return self->close();
                              self->drain();
                            });
  }

  void on_timeout() {
    switch (state_) {
      case State::deferred:
        finish_deferred(unavailable("no response within the deferred timeout"));
        break;
      case State::closed:
        break;
      default:
        close();
        break;
    }
  }

  void close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    disarm();
    if (deferred_) {
      auto d = std::move(*deferred_);
      deferred_.reset();
      d.cancel();
    }
    error_code ignored;
    socket_.close(ignored);
    server_->remove(id_);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Socket socket_;
  net::steady_timer timer_;
  std::uint64_t timer_gen_ = 0;
  bool remote_;
  std::uint64_t id_;
  State state_ = State::reading;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  std::optional<Deferred> deferred_;
  bool keep_alive_ = false;
  bool close_after_write_ = false;
  bool linger_after_write_ = false;
  bool watching_ = false;
  bool resume_after_watch_ = false;
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
};

}  // namespace

Result<void> HttpServer::Impl::listen_unix() {
  const std::string& path = options.unix_path;
  net::local::stream_protocol::endpoint ep;
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    return fail("unix_listen_failed", "path too long: " + path);
  ep = net::local::stream_protocol::endpoint(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return fail("not_a_socket", path + " exists and is not a socket");
    net::local::stream_protocol::socket probe(io);
    error_code ec;
    probe.connect(ep, ec);
    if (!ec) return fail("socket_in_use", "another process answers on " + path);
    // Stale: left by a predecessor that did not stop cleanly.
    ::unlink(path.c_str());
  }
  error_code ec;
  unix_acceptor.emplace(io);
  unix_acceptor->open(ep.protocol(), ec);
  if (!ec) {
    // The socket file is created by bind(); umask makes it 0660 from the start, so there is
    // no window in which others could connect. The daemon is single-threaded at this point.
    mode_t old = ::umask(0117);
    unix_acceptor->bind(ep, ec);
    ::umask(old);
  }
  if (!ec && ::chmod(path.c_str(), 0660) != 0) ec = error_code(errno, boost::system::system_category());
  if (!ec) unix_acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    unix_acceptor.reset();
    return fail("unix_listen_failed", path + ": " + ec.message());
  }
  if (::stat(path.c_str(), &st) == 0) {
    unix_created = true;
    unix_dev = st.st_dev;
    unix_ino = st.st_ino;
  }
  accept(*unix_acceptor, false);
  return ok();
}

Result<void> HttpServer::Impl::listen_tcp() {
  error_code ec;
  auto address = net::ip::make_address(options.tcp_address, ec);
  if (ec) return fail("tcp_listen_failed", "bad address: " + options.tcp_address);
  net::ip::tcp::endpoint ep(address, options.tcp_port);
  tcp_acceptor.emplace(io);
  tcp_acceptor->open(ep.protocol(), ec);
  if (!ec) tcp_acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) tcp_acceptor->bind(ep, ec);
  if (!ec) tcp_acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (!ec) bound_port = tcp_acceptor->local_endpoint(ec).port();
  if (ec) {
    tcp_acceptor.reset();
    return fail("tcp_listen_failed",
                options.tcp_address + ":" + std::to_string(options.tcp_port) + ": " + ec.message());
  }
  accept(*tcp_acceptor, true);
  return ok();
}

template <class Acceptor>
void HttpServer::Impl::accept(Acceptor& acceptor, bool remote) {
  acceptor.async_accept([self = shared_from_this(), &acceptor, remote](const error_code& ec, auto socket) {
    if (self->stopping || self->destroyed || !acceptor.is_open()) return;
    if (ec) {
      if (ec == net::error::operation_aborted) return;
      log_warn("api_accept_failed", {{"error", ec.message()}});
    } else if (self->connections.size() >= self->options.max_connections) {
      log_warn("api_connection_refused", {{"reason", "max_connections"}});
    } else {
      auto id = self->next_id++;
      auto c = std::make_shared<Connection<decltype(socket)>>(self, std::move(socket), remote, id);
      self->connections.emplace(id, c);
      c->start();
    }
    self->accept(acceptor, remote);
  });
}

void HttpServer::Impl::close_listeners() {
  error_code ignored;
  if (unix_acceptor) unix_acceptor->close(ignored);
  if (tcp_acceptor) tcp_acceptor->close(ignored);
  remove_socket_file();
}

void HttpServer::Impl::remove_socket_file() {
  if (!unix_created) return;
  unix_created = false;
  struct stat st {};
  if (::stat(options.unix_path.c_str(), &st) == 0 && st.st_dev == unix_dev && st.st_ino == unix_ino)
    ::unlink(options.unix_path.c_str());
}

void HttpServer::Impl::remove(std::uint64_t id) {
  connections.erase(id);
  if (stopping && connections.empty()) net::post(io, [self = shared_from_this()] { self->maybe_stopped(); });
}

void HttpServer::Impl::maybe_stopped() {
  if (!stopping || !connections.empty() || !on_stopped) return;
  stop_timer.cancel();
  auto cb = std::move(on_stopped);
  on_stopped = nullptr;
  cb();
}

HttpServer::HttpServer(net::io_context& io, HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  impl_->destroyed = true;
  impl_->stopping = true;
  impl_->on_stopped = nullptr;
  impl_->stop_timer.cancel();
  impl_->close_listeners();
  impl_->for_each_connection([](ConnectionBase& c) { c.force_close(); });
}

Result<void> HttpServer::start() {
  if (impl_->options.unix_path.empty() && impl_->options.tcp_address.empty())
    return fail("no_listener", "neither a Unix socket path nor a TCP address is configured");
  if (!impl_->options.tcp_address.empty() && impl_->options.token.empty())
    return fail("missing_token", "a TCP listener needs a bearer token");
  if (!impl_->options.unix_path.empty()) VMROAM_TRY_VOID(impl_->listen_unix());
  if (!impl_->options.tcp_address.empty()) {
    auto r = impl_->listen_tcp();
    if (!r) {
      impl_->close_listeners();
      return r;
    }
  }
  return ok();
}

void HttpServer::stop(std::function<void()> on_stopped) {
  auto& impl = *impl_;
  impl.on_stopped = std::move(on_stopped);
  if (!impl.stopping) {
    impl.stopping = true;
    impl.close_listeners();
    impl.for_each_connection([](ConnectionBase& c) { c.on_server_stop(); });
    impl.stop_timer.expires_after(impl.options.stop_timeout);
    impl.stop_timer.async_wait([weak = std::weak_ptr<Impl>(impl_)](const error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->for_each_connection([](ConnectionBase& c) { c.force_close(); });
    });
  }
  net::post(impl.io, [self = impl_] { self->maybe_stopped(); });
}

std::uint16_t HttpServer::tcp_port() const { return impl_->bound_port; }

std::size_t HttpServer::connection_count() const { return impl_->connections.size(); }

}  // namespace vmroam::api
