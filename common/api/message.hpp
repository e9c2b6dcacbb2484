// The management API's request and response values, and the error bodies of docs/api.md.
//
// Pure: no sockets. The HTTP transport (http_server.hpp) turns bytes into a Request and a
// Response back into bytes; handlers see only these values, so they are tested without I/O.
//
// Every error a handler returns has the body
//   {"error": {"code": "bad_field", "field": "home_address", "message": "…"}}
// built by the helpers below, so the code/status pairs of docs/api.md live in one place.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace vmroam::api {

using Json = nlohmann::json;

enum class Method { get, head, post, put, patch, delete_, options, other };

[[nodiscard]] std::string_view to_string(Method m);
// "GET" → Method::get; anything unknown → Method::other.
[[nodiscard]] Method parse_method(std::string_view s);

struct Request {
  Method method = Method::get;
  // The path as sent (still percent-encoded); the router splits and decodes it per segment,
  // so an encoded '/' inside an id stays inside that segment.
  std::string path;
  // Query parameters, percent-decoded; a repeated name keeps its last value.
  std::map<std::string, std::string, std::less<>> query;
  // The only headers handlers may care about; auth is settled by the transport.
  std::string content_type;
  std::string body;
  // True when the request came over TCP (authenticated by token) rather than the Unix socket.
  bool remote = false;
};

// Split "/v1/x?a=1&b=%20" into path and decoded query. Fails with bad_target on a target that
// is not origin-form ("/…") or on a broken percent escape.
[[nodiscard]] Result<void> parse_target(std::string_view target, Request& out);
// Decode %XX escapes (and '+' as space when `plus_is_space`, for query strings).
[[nodiscard]] Result<std::string> percent_decode(std::string_view s, bool plus_is_space);

inline constexpr std::string_view kJsonType = "application/json";
// Prometheus text exposition format 0.0.4.
inline constexpr std::string_view kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";

struct Response {
  int status = 200;
  // The body when content_type is JSON (the default); serialised by body_text().
  Json json;
  // The body otherwise (metrics, plain text).
  std::string text;
  std::string content_type{kJsonType};
  // Extra headers, e.g. {"Allow", "GET, POST"} on a 405.
  std::vector<std::pair<std::string, std::string>> headers;

  [[nodiscard]] bool is_json() const { return content_type == kJsonType; }
  [[nodiscard]] std::string body_text() const;

  [[nodiscard]] static Response make_json(int status, Json body);
  [[nodiscard]] static Response make_text(int status, std::string body,
                                          std::string_view content_type = "text/plain; charset=utf-8");
};

// The error body. `field` is omitted when empty.
[[nodiscard]] Response error_response(int status, std::string_view code, std::string_view field,
                                      std::string_view message);

// One helper per error code of docs/api.md, with its status.
[[nodiscard]] Response bad_json(std::string_view message);                           // 400
[[nodiscard]] Response bad_field(std::string_view field, std::string_view message);  // 400
[[nodiscard]] Response missing_field(std::string_view field);                        // 400
[[nodiscard]] Response bad_request(std::string_view message);                        // 400
[[nodiscard]] Response unauthorized(std::string_view message);                       // 401
[[nodiscard]] Response not_found(std::string_view message);                          // 404
[[nodiscard]] Response method_not_allowed(std::string_view allow);                   // 405
[[nodiscard]] Response request_timeout(std::string_view message);                    // 408
[[nodiscard]] Response conflict(std::string_view message);                           // 409
[[nodiscard]] Response too_large(int status, std::string_view message);              // 413/431
[[nodiscard]] Response internal(std::string_view message);                           // 500
[[nodiscard]] Response unavailable(std::string_view message);                        // 503

// A library Error (e.g. from the store) as a 500 with its code in the message; use the
// specific helpers above for anything the client can fix.
[[nodiscard]] Response internal(const Error& e);

}  // namespace vmroam::api
