// A path-tracking reader over a JSON object, for configuration files: every error names the
// exact key ("dataplane.route_table: expected an integer 1..4294967295"), unknown keys are
// rejected by name (a typo must never be silently ignored), and nothing throws.
//
//   ObjectReader r(json, "registration");
//   auto max = r.optional_uint("max_lifetime_s", 600, 1, 65534);
//   ...
//   if (auto e = r.finish()) return fail(*e);   // first error, or an unknown key
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/result.hpp"

namespace vmroam::config {

using Json = nlohmann::json;

class ObjectReader {
 public:
  // `path` is the dotted location of this object in the document ("" for the root).
  ObjectReader(const Json& object, std::string path);

  [[nodiscard]] bool has(std::string_view key) const;
  [[nodiscard]] std::string path_of(std::string_view key) const;

  std::string required_string(std::string_view key);
  std::string optional_string(std::string_view key, std::string fallback);
  std::uint64_t required_uint(std::string_view key, std::uint64_t min, std::uint64_t max);
  std::uint64_t optional_uint(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                              std::uint64_t max);
  // optional_uint for a 32-bit field: max must fit it.
  std::uint32_t optional_u32(std::string_view key, std::uint32_t fallback, std::uint32_t min,
                             std::uint32_t max) {
    return static_cast<std::uint32_t>(optional_uint(key, fallback, min, max));
  }
  bool optional_bool(std::string_view key, bool fallback);
  Ipv4 required_ipv4(std::string_view key);
  Ipv4 optional_ipv4(std::string_view key, Ipv4 fallback);
  Ipv4Prefix required_prefix(std::string_view key);
  // An IPv6 prefix (address/len); nullopt when the key is absent or bad (then an error).
  std::optional<Ipv6Prefix> optional_prefix_v6(std::string_view key);
  MacAddress required_mac(std::string_view key);
  std::optional<MacAddress> optional_mac(std::string_view key);
  // One of `choices`; the error lists them.
  std::string optional_enum(std::string_view key, std::string fallback,
                            std::initializer_list<std::string_view> choices);
  // A nested object / array, or nullptr when absent (the key is marked as seen).
  const Json* optional_object(std::string_view key);
  const Json* optional_array(std::string_view key);

  // Record an error found by the caller (keeps only the first).
  void add_error(std::string_view code, std::string context);
  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  // The first error, or an error for the first key nobody asked for.
  [[nodiscard]] std::optional<Error> finish() const;

 private:
  const Json* take(std::string_view key);
  const Json& object_;
  std::string path_;
  std::set<std::string, std::less<>> seen_;
  std::optional<Error> error_;
};

// The object `key` of `root`, when present, read by `read` with a reader for it (path `key`,
// or root's path + "." + key); returns that section's first error or unknown key.
[[nodiscard]] Result<void> read_section(ObjectReader& root, std::string_view key,
                                        const std::function<void(ObjectReader&)>& read);

// Parses text as JSON; the error names line and column.
[[nodiscard]] Result<Json> parse_json_text(std::string_view text);

// Reads a whole (small) file. Errors name the path.
[[nodiscard]] Result<std::string> read_text_file(const std::string& path);

// A security association in a config file: the algorithm is bound to the SPI (RFC 5944 §3.5.1).
struct SecurityAssociationConfig {
  std::uint32_t spi = 0;
  std::string algorithm;  // "hmac-sha256" | "hmac-md5"
  std::vector<std::uint8_t> key;
};
// {"spi": 256.., "algorithm": …, "key": hex ≥ 16 bytes}; errors name `path`.
[[nodiscard]] Result<SecurityAssociationConfig> parse_security_association(const Json& obj,
                                                                           const std::string& path);
[[nodiscard]] Json to_json_redacted(const SecurityAssociationConfig& sa);

// TLS for the TCP API: {"cert_file", "key_file", "client_ca_file"?} (the files are read when
// the listener opens and on each reload, common/api/tls.hpp).
struct ApiTlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: no client certificate required
  bool operator==(const ApiTlsFiles&) const = default;
};

// The "api" section both agents share: {"unix_socket", "tcp": "addr:port", "token_file",
// "tls": {…}, "insecure": bool}. A TCP listener needs "tls", or "insecure": true to serve the
// API in plaintext on purpose (docs/security.md).
struct ApiSection {
  std::string unix_socket;
  std::optional<std::string> tcp;
  std::optional<std::string> token_file;
  std::optional<ApiTlsFiles> tls;
  bool insecure = false;
};
// Reads root["api"] if present (defaults in `api` otherwise); records errors in `root`.
void read_api_section(ObjectReader& root, ApiSection& api);
[[nodiscard]] Json to_json(const ApiSection& api);

// Algorithm names accepted in configs and the API.
inline constexpr std::string_view kAlgorithmHmacSha256 = "hmac-sha256";
inline constexpr std::string_view kAlgorithmHmacMd5 = "hmac-md5";

}  // namespace vmroam::config
