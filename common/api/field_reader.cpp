// Validating JSON field reader; see field_reader.hpp.
#include "common/api/field_reader.hpp"

#include <algorithm>
#include <cstdlib>

#include "common/core/hex.hpp"

namespace vmroam::api {

namespace {

std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "a string";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    default:
      return "null";
  }
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

constexpr std::size_t kMaxId = 64;

}  // namespace

FieldReader FieldReader::from_body(std::string_view body, bool empty_is_object) {
  FieldReader r;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (!empty_is_object) r.set_error(bad_json("the request body is empty; a JSON object is required"));
    return r;
  }
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    r.set_error(bad_json("the request body is not valid JSON"));
  } else if (!j.is_object()) {
    r.set_error(bad_json("the request body must be a JSON object, not " + describe(j)));
  } else {
    r.object_ = std::move(j);
  }
  return r;
}

FieldReader FieldReader::from_query(const Request& request) {
  FieldReader r;
  r.source_ = Source::query;
  for (const auto& [k, v] : request.query) r.object_[k] = v;
  return r;
}

FieldReader::FieldReader(Json object, std::string prefix) : prefix_(std::move(prefix)) {
  if (object.is_object()) {
    object_ = std::move(object);
  } else {
    set_error(bad_field(prefix_, "must be an object, not " + describe(object)));
  }
}

const Response& FieldReader::error() const {
  if (!error_) std::abort();
  return *error_;
}

bool FieldReader::has(std::string_view name) const {
  auto it = object_.find(name);
  return it != object_.end() && !it->is_null();
}

std::string FieldReader::full(std::string_view name) const {
  if (prefix_.empty()) return std::string(name);
  return prefix_ + "." + std::string(name);
}

void FieldReader::set_error(Response r) {
  if (!error_) error_ = std::move(r);
}

void FieldReader::fail_field(std::string_view name, std::string_view message) {
  set_error(bad_field(full(name), message));
}

const Json* FieldReader::find(std::string_view name) {
  known_.emplace(name);
  if (error_) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

const Json* FieldReader::need(std::string_view name) {
  const Json* v = find(name);
  if (!v && !error_) set_error(missing_field(full(name)));
  return v;
}

std::string FieldReader::require_string(std::string_view name, std::size_t min_len, std::size_t max_len) {
  if (!need(name)) return {};
  return optional_string(name, min_len, max_len).value_or(std::string{});
}

std::optional<std::string> FieldReader::optional_string(std::string_view name, std::size_t min_len,
                                                        std::size_t max_len) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail_field(name, "must be a string, not " + describe(*v));
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() < min_len) {
    fail_field(name,
               min_len == 1 ? "must not be empty" : "shorter than " + std::to_string(min_len) + " bytes");
    return std::nullopt;
  }
  if (s.size() > max_len) {
    fail_field(name, "longer than " + std::to_string(max_len) + " bytes");
    return std::nullopt;
  }
  return s;
}

std::string FieldReader::require_id(std::string_view name) {
  std::string s = require_string(name, 1, kMaxId);
  if (!std::all_of(s.begin(), s.end(), is_id_char)) {
    fail_field(name, "may contain only letters, digits, '.', '_' and '-': " + s);
    return {};
  }
  return s;
}

std::string FieldReader::require_enum(std::string_view name,
                                      std::initializer_list<std::string_view> allowed) {
  if (!need(name)) return {};
  return optional_enum(name, allowed).value_or(std::string{});
}

std::optional<std::string> FieldReader::optional_enum(std::string_view name,
                                                      std::initializer_list<std::string_view> allowed) {
  auto s = optional_string(name, 0, 256);
  if (!s) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += a;
  }
  fail_field(name, "must be one of " + list + ": " + *s);
  return std::nullopt;
}

Ipv4 FieldReader::require_ipv4(std::string_view name) {
  if (!need(name)) return {};
  return optional_ipv4(name).value_or(Ipv4{});
}

std::optional<Ipv4> FieldReader::optional_ipv4(std::string_view name) {
  auto s = optional_string(name, 0, 64);
  if (!s) return std::nullopt;
  auto a = Ipv4::parse(*s);
  if (!a) {
    fail_field(name, "not an IPv4 address: " + *s);
    return std::nullopt;
  }
  return *a;
}

std::vector<Ipv4> FieldReader::require_ipv4_list(std::string_view name, std::size_t min_items,
                                                 std::size_t max_items) {
  if (!need(name)) return {};
  auto list = optional_ipv4_list(name, max_items);
  if (!list) return {};
  if (list->size() < min_items) {
    fail_field(name, "needs at least " + std::to_string(min_items) + " address(es)");
    return {};
  }
  return std::move(*list);
}

std::optional<std::vector<Ipv4>> FieldReader::optional_ipv4_list(std::string_view name,
                                                                 std::size_t max_items) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    fail_field(name, "must be an array of IPv4 addresses, not " + describe(*v));
    return std::nullopt;
  }
  if (v->size() > max_items) {
    fail_field(name, "more than " + std::to_string(max_items) + " items");
    return std::nullopt;
  }
  std::vector<Ipv4> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    std::string where = std::string(name) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) {
      fail_field(where, "must be a string, not " + describe(item));
      return std::nullopt;
    }
    auto a = Ipv4::parse(item.get_ref<const std::string&>());
    if (!a) {
      fail_field(where, "not an IPv4 address: " + item.get<std::string>());
      return std::nullopt;
    }
    out.push_back(*a);
  }
  return out;
}

std::optional<Ipv6> FieldReader::optional_ipv6(std::string_view name) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail_field(name, "must be an IPv6 address string, not " + describe(*v));
    return std::nullopt;
  }
  auto a = Ipv6::parse(v->get_ref<const std::string&>());
  if (!a) {
    fail_field(name, "not an IPv6 address: " + v->get<std::string>());
    return std::nullopt;
  }
  return *a;
}

std::optional<std::vector<Ipv6>> FieldReader::optional_ipv6_list(std::string_view name,
                                                                 std::size_t max_items) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    fail_field(name, "must be an array of IPv6 addresses, not " + describe(*v));
    return std::nullopt;
  }
  if (v->size() > max_items) {
    fail_field(name, "more than " + std::to_string(max_items) + " items");
    return std::nullopt;
  }
  std::vector<Ipv6> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const Json& item = (*v)[i];
    const std::string where = std::string(name) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) {
      fail_field(where, "must be a string, not " + describe(item));
      return std::nullopt;
    }
    auto a = Ipv6::parse(item.get_ref<const std::string&>());
    if (!a) {
      fail_field(where, "not an IPv6 address: " + item.get<std::string>());
      return std::nullopt;
    }
    out.push_back(*a);
  }
  return out;
}

MacAddress FieldReader::require_mac(std::string_view name) {
  if (!need(name)) return {};
  return optional_mac(name).value_or(MacAddress{});
}

std::optional<MacAddress> FieldReader::optional_mac(std::string_view name) {
  auto s = optional_string(name, 0, 64);
  if (!s) return std::nullopt;
  auto m = MacAddress::parse(*s);
  if (!m) {
    fail_field(name, "not a MAC address (aa:bb:cc:dd:ee:ff): " + *s);
    return std::nullopt;
  }
  return *m;
}

std::optional<std::uint64_t> FieldReader::to_uint(std::string_view name, const Json& v, std::uint64_t min,
                                                  std::uint64_t max) {
  std::uint64_t n = 0;
  if (source_ == Source::query && v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail_field(name, "not an unsigned integer: " + s);
      return std::nullopt;
    }
    for (char c : s) {
      std::uint64_t d = static_cast<std::uint64_t>(c - '0');
      if (n > (UINT64_MAX - d) / 10) {
        fail_field(name, "out of range: " + s);
        return std::nullopt;
      }
      n = n * 10 + d;
    }
  } else if (v.is_number_unsigned()) {
    n = v.get<std::uint64_t>();
  } else if (v.is_number_integer()) {
    fail_field(name, "must not be negative");
    return std::nullopt;
  } else {
    fail_field(name, "must be an unsigned integer, not " + describe(v));
    return std::nullopt;
  }
  if (n < min || n > max) {
    fail_field(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ": " +
                         std::to_string(n));
    return std::nullopt;
  }
  return n;
}

std::uint64_t FieldReader::require_uint(std::string_view name, std::uint64_t min, std::uint64_t max) {
  const Json* v = need(name);
  if (!v) return 0;
  return to_uint(name, *v, min, max).value_or(0);
}

std::optional<std::uint64_t> FieldReader::optional_uint(std::string_view name, std::uint64_t min,
                                                        std::uint64_t max) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  return to_uint(name, *v, min, max);
}

std::optional<bool> FieldReader::optional_bool(std::string_view name) {
  const Json* v = find(name);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->get<bool>();
  if (source_ == Source::query && v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  fail_field(name, "must be true or false, not " + describe(*v));
  return std::nullopt;
}

Bytes FieldReader::require_hex_key(std::string_view name, std::size_t min_bytes, std::size_t max_bytes) {
  if (!need(name)) return {};
  return optional_hex_key(name, min_bytes, max_bytes).value_or(Bytes{});
}

std::optional<Bytes> FieldReader::optional_hex_key(std::string_view name, std::size_t min_bytes,
                                                   std::size_t max_bytes) {
  auto s = optional_string(name, 0, 2 + 2 * max_bytes + 2);
  if (!s) return std::nullopt;
  auto b = from_hex(*s);
  // Never echo key material back in an error message.
  if (!b) {
    fail_field(name, "not a hex string (" + b.error().to_string() + ")");
    return std::nullopt;
  }
  if (b->size() < min_bytes || b->size() > max_bytes) {
    fail_field(name, "key must be " + std::to_string(min_bytes) + ".." + std::to_string(max_bytes) +
                         " bytes, got " + std::to_string(b->size()));
    return std::nullopt;
  }
  return std::move(*b);
}

void FieldReader::reject_unknown() {
  if (error_) return;
  for (const auto& item : object_.items()) {
    if (!known_.contains(item.key())) {
      set_error(bad_field(full(item.key()), "unknown field"));
      return;
    }
  }
}

}  // namespace vmroam::api
