#include "common/config/json_reader.hpp"

#include <fstream>

#include <sstream>
#include "common/core/hex.hpp"

namespace vmroam::config {

ObjectReader::ObjectReader(const Json& object, std::string path) : object_(object), path_(std::move(path)) {
  if (!object_.is_object())
    add_error("bad_field", (path_.empty() ? std::string("document") : path_) + ": expected an object");
}

bool ObjectReader::has(std::string_view key) const {
  return object_.is_object() && object_.contains(std::string(key));
}

std::string ObjectReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void ObjectReader::add_error(std::string_view code, std::string context) {
  if (!error_) error_ = Error{code, std::move(context)};
}

const Json* ObjectReader::take(std::string_view key) {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(std::string(key));
  if (it == object_.end()) return nullptr;
  seen_.emplace(key);
  return &*it;
}

std::string ObjectReader::required_string(std::string_view key) {
  const Json* v = take(key);
  if (!v) {
    add_error("missing_field", path_of(key) + ": required");
    return {};
  }
  if (!v->is_string()) {
    add_error("bad_field", path_of(key) + ": expected a string");
    return {};
  }
  return v->get<std::string>();
}

std::string ObjectReader::optional_string(std::string_view key, std::string fallback) {
  if (!has(key)) return fallback;
  return required_string(key);
}

std::uint64_t ObjectReader::required_uint(std::string_view key, std::uint64_t min, std::uint64_t max) {
  const Json* v = take(key);
  if (!v) {
    add_error("missing_field", path_of(key) + ": required");
    return min;
  }
  if (!v->is_number_unsigned() || v->get<std::uint64_t>() < min || v->get<std::uint64_t>() > max) {
    add_error("bad_field",
              path_of(key) + ": expected an integer " + std::to_string(min) + ".." + std::to_string(max));
    return min;
  }
  return v->get<std::uint64_t>();
}

std::uint64_t ObjectReader::optional_uint(std::string_view key, std::uint64_t fallback, std::uint64_t min,
                                          std::uint64_t max) {
  if (!has(key)) return fallback;
  return required_uint(key, min, max);
}

Result<void> read_section(ObjectReader& root, std::string_view key,
                          const std::function<void(ObjectReader&)>& read) {
  const Json* section = root.optional_object(key);
  if (!section) return ok();
  std::string path = root.path_of(key);
  ObjectReader r(*section, std::move(path));
  read(r);
  if (auto e = r.finish()) return fail(*e);
  return ok();
}

bool ObjectReader::optional_bool(std::string_view key, bool fallback) {
  const Json* v = take(key);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    add_error("bad_field", path_of(key) + ": expected true or false");
    return fallback;
  }
  return v->get<bool>();
}

Ipv4 ObjectReader::required_ipv4(std::string_view key) {
  auto s = required_string(key);
  if (!ok()) return {};
  auto a = Ipv4::parse(s);
  if (!a) {
    add_error("bad_field", path_of(key) + ": not an IPv4 address: " + s);
    return {};
  }
  return *a;
}

Ipv4 ObjectReader::optional_ipv4(std::string_view key, Ipv4 fallback) {
  if (!has(key)) return fallback;
  return required_ipv4(key);
}

Ipv4Prefix ObjectReader::required_prefix(std::string_view key) {
  auto s = required_string(key);
  if (!ok()) return {};
  auto p = Ipv4Prefix::parse(s);
  if (!p) {
    add_error("bad_field", path_of(key) + ": not an IPv4 prefix (a.b.c.d/len): " + s);
    return {};
  }
  return *p;
}

std::optional<Ipv6Prefix> ObjectReader::optional_prefix_v6(std::string_view key) {
  if (!has(key)) return std::nullopt;
  auto s = required_string(key);
  if (!ok()) return std::nullopt;
  auto p = Ipv6Prefix::parse(s);
  if (!p || s.find('/') == std::string::npos) {
    add_error("bad_field", path_of(key) + ": not an IPv6 prefix (address/len): " + s);
    return std::nullopt;
  }
  return *p;
}

MacAddress ObjectReader::required_mac(std::string_view key) {
  auto s = required_string(key);
  if (!ok()) return {};
  auto m = MacAddress::parse(s);
  if (!m) {
    add_error("bad_field", path_of(key) + ": not a MAC address (xx:xx:xx:xx:xx:xx): " + s);
    return {};
  }
  return *m;
}

std::optional<MacAddress> ObjectReader::optional_mac(std::string_view key) {
  if (!has(key)) return std::nullopt;
  auto m = required_mac(key);
  if (!ok()) return std::nullopt;
  return m;
}

std::string ObjectReader::optional_enum(std::string_view key, std::string fallback,
                                        std::initializer_list<std::string_view> choices) {
  if (!has(key)) return fallback;
  auto s = required_string(key);
  if (!ok()) return fallback;
  for (auto c : choices)
    if (s == c) return s;
  std::string list;
  for (auto c : choices) {
    if (!list.empty()) list += ", ";
    list += c;
  }
  add_error("bad_field", path_of(key) + ": \"" + s + "\" is not one of " + list);
  return fallback;
}

const Json* ObjectReader::optional_object(std::string_view key) {
  const Json* v = take(key);
  if (v && !v->is_object()) {
    add_error("bad_field", path_of(key) + ": expected an object");
    return nullptr;
  }
  return v;
}

const Json* ObjectReader::optional_array(std::string_view key) {
  const Json* v = take(key);
  if (v && !v->is_array()) {
    add_error("bad_field", path_of(key) + ": expected an array");
    return nullptr;
  }
  return v;
}

std::optional<Error> ObjectReader::finish() const {
  if (error_) return error_;
  if (object_.is_object()) {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!seen_.contains(it.key())) return Error{"unknown_field", path_of(it.key()) + ": unknown key"};
    }
  }
  return std::nullopt;
}

Result<SecurityAssociationConfig> parse_security_association(const Json& obj, const std::string& path) {
  ObjectReader r(obj, path);
  SecurityAssociationConfig sa;
  // SPIs 0–255 are reserved (RFC 5944 §1.9).
  sa.spi = static_cast<std::uint32_t>(r.required_uint("spi", 256, 0xffffffffu));
  sa.algorithm = r.optional_enum("algorithm", "hmac-sha256", {kAlgorithmHmacSha256, kAlgorithmHmacMd5});
  auto key_hex = r.required_string("key");
  if (r.ok()) {
    auto key = from_hex(key_hex);
    if (!key) {
      r.add_error("bad_field", r.path_of("key") + ": " + key.error().context);
    } else if (key->size() < 16) {
      // RFC 5944 §3.5.1: at least 128-bit keys.
      r.add_error("bad_field", r.path_of("key") + ": at least 16 bytes (32 hex digits) required");
    } else {
      sa.key = std::move(*key);
    }
  }
  if (auto e = r.finish()) return fail(*e);
  return sa;
}

Json to_json_redacted(const SecurityAssociationConfig& sa) {
  return Json{{"spi", sa.spi}, {"algorithm", sa.algorithm}, {"key", "(redacted)"}};
}

void read_api_section(ObjectReader& root, ApiSection& api) {
  const Json* section = root.optional_object("api");
  if (!section) return;
  ObjectReader a(*section, root.path_of("api"));
  api.unix_socket = a.optional_string("unix_socket", api.unix_socket);
  if (a.has("tcp")) api.tcp = a.required_string("tcp");
  if (a.has("token_file")) api.token_file = a.required_string("token_file");
  if (const Json* tls = a.optional_object("tls")) {
    ObjectReader t(*tls, a.path_of("tls"));
    ApiTlsFiles files;
    files.cert_file = t.required_string("cert_file");
    files.key_file = t.required_string("key_file");
    files.client_ca_file = t.optional_string("client_ca_file", "");
    if (auto e = t.finish()) a.add_error(e->code, e->context);
    api.tls = std::move(files);
  }
  api.insecure = a.optional_bool("insecure", false);
  if (a.ok() && api.tcp && !api.token_file)
    a.add_error("missing_field", a.path_of("token_file") + ": required when api.tcp is set");
  // No plaintext API on the network by accident: the token would cross it in clear.
  if (a.ok() && api.tcp && !api.tls && !api.insecure)
    a.add_error("missing_field", a.path_of("tls") +
                                     ": required when api.tcp is set (or \"insecure\": true to serve the "
                                     "API in plaintext, bearer token included)");
  if (a.ok() && api.tls && api.insecure)
    a.add_error("bad_field", a.path_of("insecure") + ": true contradicts api.tls");
  if (a.ok() && !api.tcp && (api.tls || api.insecure))
    a.add_error("bad_field",
                a.path_of(api.tls ? "tls" : "insecure") + ": only for the TCP listener (api.tcp)");
  if (auto e = a.finish()) root.add_error(e->code, e->context);
}

Json to_json(const ApiSection& api) {
  Json j{{"unix_socket", api.unix_socket}};
  if (api.tcp) j["tcp"] = *api.tcp;
  if (api.token_file) j["token_file"] = *api.token_file;
  if (api.tls) {
    j["tls"] = {{"cert_file", api.tls->cert_file}, {"key_file", api.tls->key_file}};
    if (!api.tls->client_ca_file.empty()) j["tls"]["client_ca_file"] = api.tls->client_ca_file;
  }
  j["insecure"] = api.insecure;
  return j;
}

Result<Json> parse_json_text(std::string_view text) {
  // The SAX-less parse with a callback would not give a position; parse with exceptions
  // disabled first (cheap), and only on failure re-parse catching parse_error for its position.
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) return j;
  try {
    Json reparsed = Json::parse(text);
    (void)reparsed;
  } catch (const Json::parse_error& e) {
    return fail("bad_json", std::string("at byte ") + std::to_string(e.byte) + ": " + e.what());
  } catch (const Json::exception& e) {
    // A syntactically valid number too large for a double ("1E400") is out_of_range, not a
    // parse_error: a config file holding one must be refused, not end the daemon (a fuzz
    // finding; regression input fuzz/corpus/config/regression-number-overflow).
    return fail("bad_json", e.what());
  }
  return fail("bad_json", "not valid JSON");
}

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("io_error", path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("io_error", path + ": read failed");
  return ss.str();
}

}  // namespace vmroam::config
