// Request/response values and error bodies; see message.hpp.
#include "common/api/message.hpp"

#include <array>

namespace vmroam::api {

namespace {

struct MethodName {
  Method method;
  std::string_view name;
};
constexpr std::array<MethodName, 7> kMethods{{
    {Method::get, "GET"},
    {Method::head, "HEAD"},
    {Method::post, "POST"},
    {Method::put, "PUT"},
    {Method::patch, "PATCH"},
    {Method::delete_, "DELETE"},
    {Method::options, "OPTIONS"},
}};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view to_string(Method m) {
  for (const auto& e : kMethods)
    if (e.method == m) return e.name;
  return "OTHER";
}

Method parse_method(std::string_view s) {
  for (const auto& e : kMethods)
    if (e.name == s) return e.method;
  return Method::other;
}

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (s.size() - i < 3) return fail("bad_target", "truncated percent escape in " + std::string(s));
      int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
      if (h < 0 || l < 0) return fail("bad_target", "bad percent escape in " + std::string(s));
      out += static_cast<char>(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<void> parse_target(std::string_view target, Request& out) {
  if (target.empty() || target.front() != '/') return fail("bad_target", "not an origin-form target");
  auto q = target.find('?');
  out.path = std::string(target.substr(0, q));
  out.query.clear();
  if (q == std::string_view::npos) return ok();
  std::string_view rest = target.substr(q + 1);
  if (auto hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    VMROAM_TRY(std::string name, percent_decode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      VMROAM_TRY(value, percent_decode(pair.substr(eq + 1), true));
    }
    out.query[std::move(name)] = std::move(value);
  }
  return ok();
}

std::string Response::body_text() const {
  if (!is_json()) return text;
  // Invalid UTF-8 in a string we echo back must not throw: replace it.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response Response::make_json(int status, Json body) {
  Response r;
  r.status = status;
  r.json = std::move(body);
  return r;
}

Response Response::make_text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.status = status;
  r.text = std::move(body);
  r.content_type = std::string(content_type);
  return r;
}

Response error_response(int status, std::string_view code, std::string_view field, std::string_view message) {
  Json e = Json::object();
  e["code"] = std::string(code);
  if (!field.empty()) e["field"] = std::string(field);
  e["message"] = std::string(message);
  return Response::make_json(status, Json{{"error", std::move(e)}});
}

Response bad_json(std::string_view message) { return error_response(400, "bad_json", {}, message); }
Response bad_field(std::string_view field, std::string_view message) {
  return error_response(400, "bad_field", field, message);
}
Response missing_field(std::string_view field) {
  return error_response(400, "missing_field", field, "required field is missing");
}
Response bad_request(std::string_view message) { return error_response(400, "bad_request", {}, message); }
Response unauthorized(std::string_view message) {
  Response r = error_response(401, "unauthorized", {}, message);
  // RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}
Response not_found(std::string_view message) { return error_response(404, "not_found", {}, message); }
Response method_not_allowed(std::string_view allow) {
  Response r = error_response(405, "method_not_allowed", {}, "allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}
Response conflict(std::string_view message) { return error_response(409, "conflict", {}, message); }
Response request_timeout(std::string_view message) {
  return error_response(408, "request_timeout", {}, message);
}
Response too_large(int status, std::string_view message) {
  return error_response(status, "too_large", {}, message);
}
Response internal(std::string_view message) { return error_response(500, "internal", {}, message); }
Response unavailable(std::string_view message) { return error_response(503, "unavailable", {}, message); }
Response internal(const Error& e) { return internal(e.to_string()); }

}  // namespace vmroam::api
