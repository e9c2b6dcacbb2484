// Boost.Beast HTTP/1.1 server for the management API; see http_server.hpp. The connections
// are in http_connection.hpp; here: the listeners, accepting, graceful stop, and the
// bearer-token helpers.
#include "common/api/http_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "common/api/http_connection.hpp"

namespace vmroam::api {

namespace net = boost::asio;
using boost::system::error_code;
using http_detail::Connection;
using http_detail::ConnectionBase;
using http_detail::lower;
using http_detail::TlsSocket;

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
      self->accept(acceptor, remote);
      return;
    }
    std::string peer = "local";
    if constexpr (std::is_same_v<std::decay_t<decltype(socket)>, net::ip::tcp::socket>) {
      error_code pec;
      auto ep = socket.remote_endpoint(pec);
      peer = pec ? "?" : ep.address().to_string();
    }
    if (auto why = self->over_limit(remote, peer); !why.empty()) {
      // Closed at once (the socket goes out of scope): the client sees the connection end.
      if (auto n = self->refusal_line("api_connection_refused"))
        log_warn("api_connection_refused",
                 {{"peer", peer}, {"reason", std::string(why)}, {"suppressed", *n}});
    } else {
      self->spawn(std::move(socket), remote, std::move(peer));
    }
    self->accept(acceptor, remote);
  });
}

std::string_view HttpServer::Impl::over_limit(bool remote, const std::string& peer) const {
  std::size_t same_listener = 0, same_peer = 0;
  for (const auto& [id, slot] : connections) {
    if (slot.remote != remote) continue;
    ++same_listener;
    if (remote && slot.peer == peer) ++same_peer;
  }
  if (same_listener >= options.max_connections) return "max_connections";
  if (remote && same_peer >= options.max_connections_per_peer) return "max_connections_per_peer";
  return {};
}

std::optional<std::string> HttpServer::Impl::refusal_line(std::string_view kind) {
  if (!refusal_log.admit(kind, std::chrono::steady_clock::now())) return std::nullopt;
  return std::to_string(refusal_log.take_suppressed(kind));
}

void HttpServer::Impl::log_tls_refused(const std::string& peer, std::string_view reason) {
  if (auto n = refusal_line("api_tls_refused"))
    log_info("api_tls_refused", {{"peer", peer}, {"reason", std::string(reason)}, {"suppressed", *n}});
}

template <class Socket>
void HttpServer::Impl::spawn(Socket socket, bool remote, std::string peer) {
  auto id = next_id++;
  if constexpr (std::is_same_v<Socket, net::ip::tcp::socket>) {
    if (tls) {
      auto t = std::make_shared<Connection<TlsSocket>>(
          shared_from_this(), TlsSocket(std::move(socket), tls->ssl), remote, id, tls);
      connections.emplace(id, Slot{t, remote, std::move(peer)});
      t->start();
      return;
    }
  }
  auto plain = std::make_shared<Connection<Socket>>(shared_from_this(), std::move(socket), remote, id);
  connections.emplace(id, Slot{plain, remote, std::move(peer)});
  plain->start();
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
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {
  impl_->tls = impl_->options.tls;
}

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

void HttpServer::set_tls(std::shared_ptr<TlsContext> tls) {
  if (impl_->tls && tls) impl_->tls = std::move(tls);
}

bool HttpServer::tls_enabled() const { return impl_->tls != nullptr; }

std::uint16_t HttpServer::tcp_port() const { return impl_->bound_port; }

std::size_t HttpServer::connection_count() const { return impl_->connections.size(); }

}  // namespace vmroam::api
