// Validating reader for a JSON request body (or a query string), so that a handler checks
// every field before it changes anything.
//
// Like ByteReader, it is sticky: after the first problem each read returns a default value
// and the first error is kept; the handler reads everything and checks ok() once:
//
//   auto f = FieldReader::from_body(req.body);
//   auto id  = f.require_id("id");
//   auto hoa = f.require_ipv4("home_address");
//   auto key = f.require_hex_key("key", 16, 64);
//   auto lifetime = f.optional_uint("lifetime", 1, 65535).value_or(1800);
//   f.reject_unknown();                       // names the first field nobody read
//   if (!f.ok()) return f.error();            // 400 {"error":{"code":"bad_field","field":…}}
//
// A JSON null counts as absent. Errors name the field (with `prefix`, e.g. "peers[2]").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/message.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"

namespace vmroam::api {

class FieldReader {
 public:
  // Parses `body` as a JSON object; bad_json if it is not one. An empty body is bad_json
  // unless `empty_is_object` (POST …/activate and friends take no body).
  [[nodiscard]] static FieldReader from_body(std::string_view body, bool empty_is_object = false);
  // Query parameters as fields; numbers are read from their decimal text.
  [[nodiscard]] static FieldReader from_query(const Request& request);
  // An already parsed value (must be an object, else bad_field naming `prefix`).
  explicit FieldReader(Json object, std::string prefix = {});

  [[nodiscard]] bool ok() const { return !error_; }
  // The first error as a response; aborts if ok() (a programming error).
  [[nodiscard]] const Response& error() const;
  // The object being read (for handlers that keep extra data verbatim).
  [[nodiscard]] const Json& object() const { return object_; }
  [[nodiscard]] bool has(std::string_view name) const;

  // Strings: non-empty unless min_len is 0; at most max_len bytes.
  std::string require_string(std::string_view name, std::size_t min_len = 1, std::size_t max_len = 256);
  std::optional<std::string> optional_string(std::string_view name, std::size_t min_len = 1,
                                             std::size_t max_len = 256);
  // Identifiers used in URL paths: 1..64 of [A-Za-z0-9._-].
  std::string require_id(std::string_view name);
  // One of `allowed`.
  std::string require_enum(std::string_view name, std::initializer_list<std::string_view> allowed);
  std::optional<std::string> optional_enum(std::string_view name,
                                           std::initializer_list<std::string_view> allowed);

  Ipv4 require_ipv4(std::string_view name);
  std::optional<Ipv4> optional_ipv4(std::string_view name);
  std::vector<Ipv4> require_ipv4_list(std::string_view name, std::size_t min_items = 1,
                                      std::size_t max_items = 64);
  std::optional<std::vector<Ipv4>> optional_ipv4_list(std::string_view name, std::size_t max_items = 64);
  std::optional<Ipv6> optional_ipv6(std::string_view name);
  std::optional<std::vector<Ipv6>> optional_ipv6_list(std::string_view name, std::size_t max_items = 64);
  MacAddress require_mac(std::string_view name);
  std::optional<MacAddress> optional_mac(std::string_view name);

  // Unsigned integers within [min, max] (JSON numbers without fraction, or query text).
  std::uint64_t require_uint(std::string_view name, std::uint64_t min, std::uint64_t max);
  std::optional<std::uint64_t> optional_uint(std::string_view name, std::uint64_t min, std::uint64_t max);
  std::optional<bool> optional_bool(std::string_view name);

  // A hex string ("0x" prefix allowed) decoding to min_bytes..max_bytes bytes.
  Bytes require_hex_key(std::string_view name, std::size_t min_bytes, std::size_t max_bytes);
  std::optional<Bytes> optional_hex_key(std::string_view name, std::size_t min_bytes, std::size_t max_bytes);

  // bad_field naming the first field that no read above asked for (RFC-style strictness:
  // a typo such as "lifetme" is an error, not silently ignored).
  void reject_unknown();

  // Record a handler's own check on a field (cross-field rules), keeping the first error.
  void fail_field(std::string_view name, std::string_view message);

 private:
  enum class Source { json, query };
  FieldReader() = default;
  // The value if present and non-null (marks the name as known either way).
  const Json* find(std::string_view name);
  const Json* need(std::string_view name);
  std::string full(std::string_view name) const;
  void set_error(Response r);
  std::optional<std::uint64_t> to_uint(std::string_view name, const Json& v, std::uint64_t min,
                                       std::uint64_t max);

  Json object_ = Json::object();
  std::string prefix_;
  Source source_ = Source::json;
  std::set<std::string, std::less<>> known_;
  std::optional<Response> error_;
};

}  // namespace vmroam::api
