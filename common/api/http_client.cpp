// Boost.Beast HTTP client; see http_client.hpp.
//
// One ClientExchange per request: connect (resolve first for TCP) → TLS handshake (https) →
// write → read, all under one deadline timer that closes the socket when it fires, so every
// pending operation ends with an error that finish() reports as "timeout".
#include "common/api/http_client.hpp"

#include <memory>

#include "common/api/tls_context.hpp"
#include "common/core/asio.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace vmroam::api {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

Result<Endpoint> Endpoint::parse(std::string_view s) {
  Endpoint ep;
  if (s.starts_with("unix:")) s.remove_prefix(5);
  if (s.starts_with("https://")) {
    auto plain = parse("http://" + std::string(s.substr(8)));
    if (!plain) return fail("bad_endpoint", "expected https://host:port: " + std::string(s));
    plain->tls = true;
    return plain;
  }
  if (s.starts_with("/") || s.starts_with("./") || s.starts_with("../")) {
    ep.kind = Kind::unix_socket;
    ep.path = std::string(s);
    return ep;
  }
  if (!s.starts_with("http://"))
    return fail("bad_endpoint",
                "expected a socket path, https://host:port or http://host:port: " + std::string(s));
  std::string_view rest = s.substr(7);
  if (rest.ends_with("/")) rest.remove_suffix(1);
  std::string_view host, port;
  if (rest.starts_with("[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return fail("bad_endpoint", "expected http://[v6]:port: " + std::string(s));
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return fail("bad_endpoint", "missing :port in " + std::string(s));
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || host.find('/') != std::string_view::npos)
    return fail("bad_endpoint", "bad host in " + std::string(s));
  unsigned long p = 0;
  if (port.empty() || port.size() > 5) return fail("bad_endpoint", "bad port in " + std::string(s));
  for (char c : port) {
    if (c < '0' || c > '9') return fail("bad_endpoint", "bad port in " + std::string(s));
    p = p * 10 + static_cast<unsigned long>(c - '0');
  }
  if (p == 0 || p > 65535) return fail("bad_endpoint", "bad port in " + std::string(s));
  ep.kind = Kind::tcp;
  ep.host = std::string(host);
  ep.port = static_cast<std::uint16_t>(p);
  return ep;
}

std::string Endpoint::to_string() const {
  if (kind == Kind::unix_socket) return path;
  bool v6 = host.find(':') != std::string::npos;
  return (tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string describe_error(const ClientResponse& r) {
  if (r.json.is_object() && r.json.contains("error") && r.json["error"].is_object()) {
    const Json& e = r.json["error"];
    std::string s = e.value("code", "error");
    if (e.contains("field") && e["field"].is_string()) s += " (" + e["field"].get<std::string>() + ")";
    if (e.contains("message") && e["message"].is_string()) s += ": " + e["message"].get<std::string>();
    return s;
  }
  return "HTTP " + std::to_string(r.status);
}

namespace {

using TlsSocket = net::ssl::stream<net::ip::tcp::socket>;
template <class Socket>
Socket& raw(Socket& s) {
  return s;
}
net::ip::tcp::socket& raw(TlsSocket& s) { return s.next_layer(); }

template <class Socket>
class ClientExchange : public std::enable_shared_from_this<ClientExchange<Socket>> {
 public:
  ClientExchange(net::io_context& io, HttpClient::Callback done)
      : socket_(io), timer_(io), done_(std::move(done)) {}
  // TLS: `tls` stays alive with the exchange; `host` is checked against the certificate.
  ClientExchange(net::io_context& io, std::shared_ptr<TlsContext> tls, std::string host,
                 HttpClient::Callback done)
      : socket_(io, tls->ssl),
        timer_(io),
        done_(std::move(done)),
        tls_(std::move(tls)),
        host_(std::move(host)) {}

  http::request<http::string_body>& request() { return req_; }
  Socket& socket() { return socket_; }

  void start_deadline(std::chrono::milliseconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = this->shared_from_this()](const error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      error_code ignored;
      raw(self->socket_).close(ignored);
      if (self->on_deadline_) self->on_deadline_();
    });
  }
  void on_deadline(std::function<void()> f) { on_deadline_ = std::move(f); }

  void on_connected(const error_code& ec) {
    if (ec) return fail_with("connect_failed", ec);
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      handshake();
    } else {
      write();
    }
  }

  void fail_with(std::string_view code, const error_code& ec) {
    if (timed_out_) return finish(fail("timeout", "no complete response in time"));
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      // After the handshake the agent may still refuse us: under TLS 1.3 a missing or bad
      // client certificate arrives as an alert on our first read.
      if (ec.category() == net::error::get_ssl_category() ||
          ec.category() == net::ssl::error::get_stream_category())
        return finish(
            fail("tls_failed", "TLS with " + host_ + ": " + tls_failure(ec, socket_.native_handle())));
    }
    finish(fail(code, ec.message()));
  }

  void finish(Result<ClientResponse> r) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    error_code ignored;
    raw(socket_).close(ignored);
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(r));
  }

 private:
  void handshake() {
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      error_code ec;
      net::ip::make_address(host_, ec);
      // SNI carries names only (RFC 6066 §3); the certificate must name the host either way.
      // (SSL_set_tlsext_host_name spelled out: the macro's C cast trips -Wold-style-cast.)
      if (ec)
        SSL_ctrl(socket_.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host_.c_str()));
      socket_.set_verify_callback(net::ssl::host_name_verification(host_));
      socket_.async_handshake(
          net::ssl::stream_base::client, [self = this->shared_from_this()](const error_code& hec) {
            if (!hec) return self->write();
            if (self->timed_out_) return self->fail_with("timeout", hec);
            std::string why = tls_failure(hec, self->socket_.native_handle());
            // A plaintext server answers our ClientHello with HTTP: not a TLS record.
            if (hec.value() && why.find("wrong version number") != std::string::npos)
              why += " (does the agent's API speak plain HTTP? then use http://)";
            self->finish(fail("tls_failed", "TLS handshake with " + self->host_ + ": " + why));
          });
    }
  }

  void write() {
    http::async_write(socket_, req_, [self = this->shared_from_this()](const error_code& wec, std::size_t) {
      if (wec) return self->fail_with("bad_response", wec);
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(HttpClient::kMaxResponse);
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](const error_code& ec, std::size_t) {
                       if (ec) return self->fail_with("bad_response", ec);
                       self->on_response();
                     });
  }

  void on_response() {
    auto& msg = parser_->get();
    ClientResponse r;
    r.status = static_cast<int>(msg.result_int());
    r.content_type = std::string(msg[http::field::content_type]);
    r.text = std::move(msg.body());
    if (r.content_type.starts_with(kJsonType) && !r.text.empty()) {
      r.json = Json::parse(r.text, nullptr, false);
      if (r.json.is_discarded()) return finish(fail("bad_response", "invalid JSON in the response body"));
    }
    finish(std::move(r));
  }

  Socket socket_;
  net::steady_timer timer_;
  HttpClient::Callback done_;
  std::function<void()> on_deadline_;
  http::request<http::string_body> req_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool finished_ = false;
  bool timed_out_ = false;
  std::shared_ptr<TlsContext> tls_;
  std::string host_;
};

// Resolves the endpoint's host and connects `x` to it, then on_connected().
template <class Exchange>
void connect_tcp(net::io_context& io, const Endpoint& endpoint, const std::shared_ptr<Exchange>& x,
                 std::chrono::milliseconds timeout) {
  auto resolver = std::make_shared<net::ip::tcp::resolver>(io);
  x->on_deadline([resolver] { resolver->cancel(); });
  x->start_deadline(timeout);
  resolver->async_resolve(
      endpoint.host, std::to_string(endpoint.port),
      [x, resolver](const error_code& ec, const net::ip::tcp::resolver::results_type& results) {
        if (ec) return x->fail_with("connect_failed", ec);
        net::async_connect(
            raw(x->socket()), results,
            [x](const error_code& cec, const net::ip::tcp::endpoint&) { x->on_connected(cec); });
      });
}

template <class Socket>
void fill_request(ClientExchange<Socket>& x, Method method, const std::string& target,
                  const std::optional<Json>& body, const std::string& host, const std::string& token) {
  auto& req = x.request();
  req.version(11);
  req.method_string(to_string(method));
  req.target(target);
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "vmroam");
  req.set(http::field::accept, kJsonType);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (body) {
    req.set(http::field::content_type, kJsonType);
    req.body() = body->dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  req.keep_alive(false);
  req.prepare_payload();
}

}  // namespace

HttpClient::HttpClient(Endpoint endpoint, std::string token, TlsClientFiles tls)
    : endpoint_(std::move(endpoint)), token_(std::move(token)), tls_(std::move(tls)) {}

void HttpClient::async_request(net::io_context& io, Method method, std::string target,
                               std::optional<Json> body, std::chrono::milliseconds timeout,
                               Callback done) const {
  if (endpoint_.kind == Endpoint::Kind::unix_socket) {
    auto x = std::make_shared<ClientExchange<net::local::stream_protocol::socket>>(io, std::move(done));
    fill_request(*x, method, target, body, "localhost", token_);
    x->start_deadline(timeout);
    x->socket().async_connect(net::local::stream_protocol::endpoint(endpoint_.path),
                              [x](const error_code& ec) { x->on_connected(ec); });
    return;
  }
  bool v6 = endpoint_.host.find(':') != std::string::npos;
  const std::string host_header =
      (v6 ? "[" + endpoint_.host + "]" : endpoint_.host) + ":" + std::to_string(endpoint_.port);
  if (!endpoint_.tls) {
    auto x = std::make_shared<ClientExchange<net::ip::tcp::socket>>(io, std::move(done));
    fill_request(*x, method, target, body, host_header, token_);
    connect_tcp(io, endpoint_, x, timeout);
    return;
  }
  auto tls = make_client_tls(tls_);
  if (!tls) {
    net::post(io, [done = std::move(done), e = tls.error()] { done(fail(e)); });
    return;
  }
  auto x = std::make_shared<ClientExchange<TlsSocket>>(io, std::move(*tls), endpoint_.host, std::move(done));
  fill_request(*x, method, target, body, host_header, token_);
  connect_tcp(io, endpoint_, x, timeout);
}

Result<ClientResponse> HttpClient::request(Method method, std::string_view target,
                                           const std::optional<Json>& body,
                                           std::chrono::milliseconds timeout) const {
  net::io_context io;
  std::optional<Result<ClientResponse>> out;
  async_request(io, method, std::string(target), body, timeout,
                [&out](Result<ClientResponse> r) { out = std::move(r); });
  io.run();
  if (!out) std::abort();  // every path ends in finish()
  return std::move(*out);
}

}  // namespace vmroam::api
