// The connection half of the API's HTTP server (http_server.cpp), for that file only: the
// server's shared state (HttpServer::Impl) and one Connection per accepted socket.
//
// One Connection object per accepted socket (Unix, TCP or TLS over TCP, same template), driven
// entirely by completion handlers on the daemon's io_context. A connection is in one state at
// a time (a TLS one first screens its first byte and does the handshake, under the request
// timeout, before it starts reading):
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
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/api/http_server.hpp"
#include "common/api/tls_context.hpp"
#include "common/core/asio.hpp"
#include "common/core/log.hpp"
#include "common/core/rate_limit.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace vmroam::api::http_detail {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1 << 20;
// Bytes of a pipelined next request buffered while a Deferred is pending.
constexpr std::size_t kMaxPipelined = 64 * 1024;
// The first read of a request (the parser reads the rest of the header in larger steps).
constexpr std::size_t kFirstRead = 4096;
// The first byte of every TLS connection: a handshake record (RFC 8446 §5.1, RFC 5246 §6.2.1).
constexpr std::uint8_t kTlsHandshakeRecord = 22;

using TlsSocket = net::ssl::stream<net::ip::tcp::socket>;
// The byte stream under a socket: itself, or the TCP socket under TLS. Cancel, shutdown,
// close and draining act on it.
template <class Socket>
Socket& raw(Socket& s) {
  return s;
}
inline net::ip::tcp::socket& raw(TlsSocket& s) { return s.next_layer(); }

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void on_server_stop() = 0;
  virtual void force_close() = 0;
};

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace vmroam::api::http_detail

namespace vmroam::api {

namespace net = boost::asio;

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
  // One open connection: the object, which listener accepted it, and its peer address (TCP).
  struct Slot {
    std::weak_ptr<http_detail::ConnectionBase> connection;
    bool remote = false;
    std::string peer;
  };
  std::map<std::uint64_t, Slot> connections;
  // The budget for the log lines of refusals anyone can cause, per kind
  // ("api_connection_refused", "api_tls_refused"): 10 at once, then one per 5 s.
  RateLimit refusal_log{/*per_second=*/0.2, /*burst=*/10};
  std::shared_ptr<TlsContext> tls;  // for the next TLS connection (set_tls swaps it)
  std::uint64_t next_id = 1;
  bool stopping = false;
  bool destroyed = false;
  std::function<void()> on_stopped;
  net::steady_timer stop_timer;

  Result<void> listen_unix();
  Result<void> listen_tcp();
  template <class Acceptor>
  void accept(Acceptor& acceptor, bool remote);
  template <class Socket>
  void spawn(Socket socket, bool remote, std::string peer);
  // Why a new connection is refused ("max_connections", "max_connections_per_peer"), or empty.
  [[nodiscard]] std::string_view over_limit(bool remote, const std::string& peer) const;
  // api_tls_refused, under its budget.
  void log_tls_refused(const std::string& peer, std::string_view reason);
  // Whether a refusal of `kind` is logged now; if so, the refusals of that kind not logged since
  // its previous line, for the "suppressed" field.
  [[nodiscard]] std::optional<std::string> refusal_line(std::string_view kind);
  void close_listeners();
  void remove_socket_file();
  void remove(std::uint64_t id);
  void maybe_stopped();
  template <class F>
  void for_each_connection(F f) {
    // Copy first: closing a connection erases it from the map.
    std::vector<std::shared_ptr<http_detail::ConnectionBase>> live;
    for (auto& [id, slot] : connections)
      if (auto c = slot.connection.lock()) live.push_back(std::move(c));
    for (auto& c : live) f(*c);
  }
};

}  // namespace vmroam::api

namespace vmroam::api::http_detail {

template <class Socket>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(std::shared_ptr<HttpServer::Impl> server, Socket socket, bool remote, std::uint64_t id,
             std::shared_ptr<TlsContext> tls = {})
      : server_(std::move(server)),
        socket_(std::move(socket)),
        timer_(server_->io),
        remote_(remote),
        id_(id),
        tls_(std::move(tls)) {}

  void start() {
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      screen();
    } else {
      read_header();
    }
  }

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

  // A TLS port answers a plaintext client in plaintext, so that it learns why (curl or a
  // client given http:// instead of https://) rather than seeing the connection drop.
  void screen() {
    arm(opts().request_timeout);
    raw(socket_).async_wait(
        net::socket_base::wait_read, [self = this->shared_from_this()](const error_code& ec) {
          if (self->state_ == State::closed) return;
          std::uint8_t first = 0;
          error_code pec = ec;
          std::size_t n = 0;
          if (!pec)
            n = raw(self->socket_).receive(net::buffer(&first, 1), net::socket_base::message_peek, pec);
          if (pec || n == 0) return self->close();
          if (first != kTlsHandshakeRecord) {
            self->server_->log_tls_refused(self->peer(), "plaintext on the TLS port");
            return self->respond_plaintext(
                error_response(400, "tls_required", "", "this port speaks only TLS: use https://"));
          }
          self->handshake();
        });
  }

  void handshake() {
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      socket_.async_handshake(
          net::ssl::stream_base::server, [self = this->shared_from_this()](const error_code& ec) {
            if (self->state_ == State::closed) return;
            if (ec) {
              self->server_->log_tls_refused(self->peer(), tls_failure(ec, self->socket_.native_handle()));
              return self->close();
            }
            self->read_header();
          });
    }
  }

  std::string peer() {
    error_code ec;
    auto ep = raw(socket_).remote_endpoint(ec);
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      return ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    } else {
      return "local";
    }
  }

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
    if (buffer_.size() == 0) return await_request();
    arm(opts().request_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
  }

  // Between requests the idle timeout runs; the request timeout starts with the first byte,
  // so a client that trickles its header (slowloris) is cut off after request_timeout, not
  // after idle_timeout.
  void await_request() {
    arm(opts().idle_timeout);
    socket_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                              if (self->state_ != State::reading) return;
                              if (ec) return self->on_read_error(ec);
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void on_header(const error_code& ec) {
    if (state_ != State::reading) return;  // closed, or answered by on_timeout meanwhile
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
                          self->continue_.reset();
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
                       if (self->state_ != State::reading) return;
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
    raw(socket_).cancel(ignored);
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
    prepare(std::move(r), keep);
    close_after_write_ = !keep;
    linger_after_write_ = unread_input;
    arm(opts().request_timeout);
    http::async_write(socket_, res_, [self = this->shared_from_this()](const error_code& ec, std::size_t) {
      self->on_written(ec);
    });
  }

  // Written on the TCP socket under TLS; the client's request is left unread, so linger.
  void respond_plaintext(Response r) {
    state_ = State::writing;
    prepare(std::move(r), false);
    close_after_write_ = true;
    linger_after_write_ = true;
    arm(opts().request_timeout);
    http::async_write(
        raw(socket_), res_,
        [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_written(ec); });
  }

  void prepare(Response r, bool keep) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res_.set(name, value);
    res_.body() = r.body_text();
    res_.keep_alive(keep);
    res_.prepare_payload();
  }

  void on_written(const error_code& ec) {
    if (state_ == State::closed) return;
    disarm();
    if (ec) return close();
    if (close_after_write_) {
      if (linger_after_write_) return linger();
      error_code ignored;
      raw(socket_).shutdown(net::socket_base::shutdown_send, ignored);
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
    raw(socket_).cancel(ignored);  // a request read still outstanding (after a 408)
    raw(socket_).shutdown(net::socket_base::shutdown_send, ignored);
    arm(kLingerTime);
    drain();
  }
  void drain() {
    raw(socket_).async_read_some(net::buffer(scratch_),
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
      case State::reading:
        // A request was started but not finished in time: say so (RFC 9110 §15.5.9), then
        // close. Nothing started (idle, or a TLS handshake that never came): just close.
        if (continue_) {
          close();  // the 100 Continue is still being written: no second write at once
        } else if (buffer_.size() > 0 || (parser_ && parser_->got_some())) {
          // The read stays outstanding while the answer is written (one read and one write
          // may be in flight); its handler ignores what it gets, and linger() cancels it.
          respond(request_timeout("request not received within " +
                                  std::to_string(opts().request_timeout.count()) + " ms"),
                  true);
        } else {
          close();
        }
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
    raw(socket_).close(ignored);
    server_->remove(id_);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Socket socket_;
  net::steady_timer timer_;
  std::uint64_t timer_gen_ = 0;
  bool remote_;
  std::uint64_t id_;
  std::shared_ptr<TlsContext> tls_;  // keeps the context this connection was accepted with
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

}  // namespace vmroam::api::http_detail
