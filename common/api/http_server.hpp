// HTTP/1.1 transport for the management API on the daemon's single io_context (no threads).
//
// Listens on a Unix socket (mode 0660; trusted by file permissions, no token) and optionally
// on TCP, where every request needs "Authorization: Bearer TOKEN" (RFC 6750 §2.1), compared in
// constant time. With a TLS context (common/api/tls.hpp) the TCP listener speaks only TLS: a
// connection whose first byte is not a TLS handshake record gets a plaintext 400 tls_required
// and is closed; a failed handshake (no or a bad client certificate under mutual TLS, a
// protocol older than TLS 1.2) is logged as api_tls_refused and closed. set_tls() swaps the
// context for connections accepted from then on (a reload); open ones keep theirs. Each request is parsed by
// Boost.Beast, turned into an api::Request and given to the handler on the loop; a Response is written back
// at once, a Deferred when the handler completes it (long-poll). Keep-alive connections are reused.
//
// Limits and timers (HttpServerOptions):
//   body_limit      64 KiB      larger body → 413 too_large, connection closed
//   header_limit     8 KiB      larger header → 431 too_large, connection closed
//   idle_timeout    60 s        no request byte yet (new or keep-alive connection) → closed
//   request_timeout 10 s        from a request's first byte to its last (a slow client, e.g.
//                               one header byte a second, gets 408 request_timeout and the
//                               connection closes), per write, and for a TLS handshake (from
//                               the connection's accept)
//   deferred_timeout 10 min     a Deferred not completed by then → 503 unavailable
//   stop_timeout     5 s        graceful stop forcibly closes what is still open
//   max_connections 128         open connections per listener (Unix and TCP apart, so remote
//                               clients cannot lock out the local socket); more are closed
//                               at once
//   max_connections_per_peer 16 open TCP connections from one remote address
// So a client can make the server hold at most max_connections × (body_limit + header_limit)
// of request bytes per listener. Refusals anyone can cause (over a limit, plaintext or a failed
// handshake on the TLS port) are logged under a budget (common/core/rate_limit.hpp):
// api_connection_refused and api_tls_refused, 10 lines at once and then one per 5 s each, the
// next line counting what was skipped.
// Graceful stop: listeners close (the Unix socket file is removed), idle connections close,
// in-flight requests get their response with "Connection: close", pending Deferreds are
// cancelled with 503; then the on_stopped callback runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/api/router.hpp"
#include "common/api/tls.hpp"
#include "common/core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace vmroam::api {

struct HttpServerOptions {
  std::string unix_path;            // empty: no Unix socket
  std::string tcp_address;          // empty: no TCP listener; e.g. "127.0.0.1"
  std::uint16_t tcp_port = 0;       // 0: an ephemeral port (see HttpServer::tcp_port())
  std::string token;                // required when TCP is on
  std::shared_ptr<TlsContext> tls;  // TLS on TCP (make_server_tls); null: plaintext TCP
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 8 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds deferred_timeout{600'000};
  std::chrono::milliseconds stop_timeout{5'000};
  std::size_t max_connections = 128;
  std::size_t max_connections_per_peer = 16;
};

using RequestHandler = std::function<Reply(const Request&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, RequestHandler handler);
  // Closes everything at once (no graceful drain) and removes the socket file.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listeners and starts accepting. A stale Unix socket file (nobody answers on
  // it) is removed; a live one fails with socket_in_use, a non-socket with not_a_socket.
  // Other errors: missing_token, unix_listen_failed, tcp_listen_failed.
  [[nodiscard]] Result<void> start();
  // Graceful stop (see above); `on_stopped` runs on the loop once every connection is closed.
  void stop(std::function<void()> on_stopped = {});

  // TLS connections accepted from now on use `tls` (not null; the listener must have been
  // started with TLS: a plaintext listener stays plaintext until a restart).
  void set_tls(std::shared_ptr<TlsContext> tls);
  [[nodiscard]] bool tls_enabled() const;

  // The bound TCP port (useful with tcp_port 0); 0 without TCP.
  [[nodiscard]] std::uint16_t tcp_port() const;
  // Open connections (for metrics and tests).
  [[nodiscard]] std::size_t connection_count() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Constant-time comparison (the time depends only on the lengths), for bearer tokens.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

// The token from an Authorization header value "Bearer TOKEN" (scheme case-insensitive,
// RFC 9110 §11.1); empty if the header is not a bearer credential.
[[nodiscard]] std::string_view bearer_token(std::string_view authorization);

}  // namespace vmroam::api
