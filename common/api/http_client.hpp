// HTTP/1.1 client for the management API, used by vmroamctl and the migration driver.
//
//   auto ep = Endpoint::parse("/run/vmroam/fa.sock");   // or "https://10.0.0.2:8186"
//   HttpClient client(*ep, token, {ca_file, cert_file, key_file});   // TLS files for https://
//   auto r = client.request(Method::post, "/v1/visitors", body, std::chrono::seconds(5));
//   if (!r) …r.error().code is connect_failed | timeout | bad_response | tls_config | tls_failed…
//   else if (r->status != 201) …r->json["error"]…
//
// request() blocks on a private io_context; async_request() runs on the caller's loop (the
// migration driver waits for several agents at once). One connection per request; an
// HTTP error status is a successful Result carrying that status and body. An https://
// endpoint is checked against the CA file (the system's CAs without one): its certificate
// must name the endpoint's host (DNS name or IP address in subjectAltName, RFC 6125).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/api/message.hpp"
#include "common/api/tls.hpp"
#include "common/core/result.hpp"

namespace boost::asio {
class io_context;
}

namespace vmroam::api {

struct Endpoint {
  enum class Kind { unix_socket, tcp };
  Kind kind = Kind::unix_socket;
  std::string path;        // unix_socket
  std::string host;        // tcp: name or address (IPv6 without brackets)
  std::uint16_t port = 0;  // tcp
  bool tls = false;        // tcp: https://

  // "/path.sock", "./path.sock", "unix:/path.sock", "http://host:port", "http://[::1]:port",
  // "https://host:port". Fails with bad_endpoint.
  [[nodiscard]] static Result<Endpoint> parse(std::string_view s);
  [[nodiscard]] std::string to_string() const;
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string text;  // the raw body
  Json json;         // the parsed body when content_type is JSON, else null
};

class HttpClient {
 public:
  using Callback = std::function<void(Result<ClientResponse>)>;
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  // Responses larger than this are bad_response (lists of many bindings still fit).
  static constexpr std::size_t kMaxResponse = 64 * 1024 * 1024;

  explicit HttpClient(Endpoint endpoint, std::string token = {}, TlsClientFiles tls = {});

  // Errors: connect_failed, timeout (the whole exchange took longer), bad_response
  // (closed early, not HTTP, or invalid JSON with a JSON content type); for https://
  // tls_config (a TLS file is unusable, common/api/tls.hpp) and tls_failed (the handshake or
  // the agent refused: wrong CA, expired, name mismatch, no client certificate, plaintext).
  [[nodiscard]] Result<ClientResponse> request(Method method, std::string_view target,
                                               const std::optional<Json>& body = std::nullopt,
                                               std::chrono::milliseconds timeout = kDefaultTimeout) const;

  // The same on `io`; `done` runs on that loop exactly once.
  void async_request(boost::asio::io_context& io, Method method, std::string target, std::optional<Json> body,
                     std::chrono::milliseconds timeout, Callback done) const;

  [[nodiscard]] const Endpoint& endpoint() const { return endpoint_; }

 private:
  Endpoint endpoint_;
  std::string token_;
  TlsClientFiles tls_;
};

// "bad_field (home_address): not an IPv4 address: 10.1.0" from an error body, for CLIs;
// "HTTP <status>" if the body is not a docs/api.md error.
[[nodiscard]] std::string describe_error(const ClientResponse& r);

}  // namespace vmroam::api
