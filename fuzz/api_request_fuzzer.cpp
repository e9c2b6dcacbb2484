// Fuzz target: the management API's request path from the bytes a client sends to the
// response it gets (common/api: the HTTP/1.1 request parse with the server's header and body
// limits, parse_target and percent_decode, the Router's matching and percent-decoding of path
// segments, and the FieldReader every handler validates its body and query with).
//
// The input is one raw HTTP request. It is parsed by Beast's request parser configured as
// http_connection.hpp configures it, turned into an api::Request the same way, and dispatched
// to a router whose routes have the shapes of the agents' (docs/api.md): literal and {id}
// segments, GET/POST/PUT/DELETE, JSON bodies and query strings read with every FieldReader
// accessor. Beyond "no crash, no undefined behaviour, no leak" it aborts unless
//   * every response has a status in 200..599 and serialises (body_text() never throws);
//   * a 4xx/5xx JSON response carries {"error": {"code": …}} (docs/api.md's error shape);
//   * a 405 names the allowed methods;
//   * a handler that accepted a body saw every field it read pass its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http.hpp>

#include "common/api/field_reader.hpp"
#include "common/api/router.hpp"

namespace {

namespace api = vmroam::api;
namespace http = boost::beast::http;

void require(bool condition) {
  if (!condition) std::abort();
}

api::Response read_vm(const api::Request& req, const api::PathParams& p) {
  auto f = api::FieldReader::from_body(req.body);
  auto id = f.require_id("id");
  auto hoa = f.require_ipv4("home_address");
  auto mac = f.require_mac("mac");
  auto fas = f.optional_ipv4_list("allowed_fas");
  auto spi = f.optional_uint("spi", 256, 0xffffffffu);
  auto algorithm = f.optional_enum("algorithm", {"hmac-sha256", "hmac-md5"});
  auto key = f.optional_hex_key("key", 16, 64);
  auto name = f.optional_string("name", 0, 64);
  auto flag = f.optional_bool("reverse_tunnel");
  if (id != p.at("id")) f.fail_field("id", "does not match the path");
  f.reject_unknown();
  if (!f.ok()) return f.error();
  require(id.size() >= 1 && id.size() <= 64);
  require(!spi || (*spi >= 256 && *spi <= 0xffffffffu));
  require(!key || (key->size() >= 16 && key->size() <= 64));
  require(!name || name->size() <= 64);
  require(!fas || fas->size() <= 64);
  (void)hoa, (void)mac, (void)algorithm, (void)flag;
  return api::Response::make_json(201, {{"id", id}});
}

api::Response read_move(const api::Request& req, const api::PathParams&) {
  auto f = api::FieldReader::from_body(req.body, true);
  auto phase = f.require_enum("phase", {"prepare", "stopped", "cancel"});
  auto at = f.optional_uint("stopped_at_us", 1'000'000'000'000'000ull, 9'999'999'999'000'000ull);
  auto care_of = f.optional_ipv4("care_of");
  auto mac = f.optional_mac("mac");
  auto peers = f.optional_ipv4_list("peers", 4);
  auto key = f.optional_hex_key("key", 16, 32);
  auto note = f.optional_string("note");
  auto fa = f.require_ipv4_list("foreign_agents", 1, 8);
  f.reject_unknown();
  if (!f.ok()) return f.error();
  require(!at || *at >= 1'000'000'000'000'000ull);
  require(fa.size() >= 1 && fa.size() <= 8);
  (void)phase, (void)care_of, (void)mac, (void)peers, (void)key, (void)note;
  return api::Response::make_json(200, api::Json::object());
}

api::Response read_query(const api::Request& req, const api::PathParams&) {
  auto f = api::FieldReader::from_query(req);
  auto wait = f.optional_uint("wait_ms", 0, 60'000);
  auto since = f.optional_uint("since", 0, UINT64_MAX);
  auto hoa = f.optional_ipv4("home_address");
  auto state = f.optional_enum("state", {"away", "home"});
  auto verbose = f.optional_bool("verbose");
  f.reject_unknown();
  if (!f.ok()) return f.error();
  require(!wait || *wait <= 60'000);
  (void)since, (void)hoa, (void)state, (void)verbose;
  return api::Response::make_json(200, api::Json::array());
}

const api::Router& router() {
  static const api::Router r = [] {
    api::Router rt;
    auto ok = [](const api::Request&, const api::PathParams&) -> api::Reply {
      return api::Response::make_text(200, "ok\n");
    };
    rt.add(api::Method::get, "/v1/health", ok);
    rt.add(api::Method::get, "/metrics", ok);
    rt.add(api::Method::get, "/v1/bindings", read_query);
    rt.add(api::Method::get, "/v1/vms/{id}", read_query);
    rt.add(api::Method::put, "/v1/vms/{id}", read_vm);
    rt.add(api::Method::delete_, "/v1/vms/{id}", ok);
    rt.add(api::Method::post, "/v1/vms/{id}/handover", read_move);
    rt.add(api::Method::post, "/v1/visitors/{id}/activate", read_move);
    rt.add(api::Method::post, "/v1/visitors/{id}/{step}", read_move);
    return rt;
  }();
  return r;
}

void check(const api::Response& r) {
  require(r.status >= 200 && r.status <= 599);
  const std::string body = r.body_text();
  if (r.status >= 400 && r.is_json()) {
    require(r.json.is_object() && r.json.contains("error") && r.json["error"].contains("code"));
    require(r.json["error"]["code"].is_string() && !r.json["error"]["code"].get<std::string>().empty());
  }
  if (r.status == 405) {
    bool allow = false;
    for (const auto& [name, value] : r.headers) allow = allow || (name == "Allow" && !value.empty());
    require(allow);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The server's parser and limits (HttpServerOptions defaults).
  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;  // the connection answers 400/413/431 and closes
    if (used == 0) break;
    rest.remove_prefix(used);
  }
  if (!parser.is_done()) return 0;
  auto& msg = parser.get();
  api::Request request;
  request.method = api::parse_method(msg.method_string());
  request.content_type = std::string(msg[http::field::content_type]);
  if (!api::parse_target(msg.target(), request)) return 0;  // 400 bad request target
  request.body = msg.body();
  request.remote = size % 2 == 1;
  api::Reply reply = router().dispatch(request);
  if (auto* response = std::get_if<api::Response>(&reply)) check(*response);
  return 0;
}
