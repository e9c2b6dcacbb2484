// Store records to and from rows (record_codec.hpp).
#include "common/store/record_codec.hpp"

#include <nlohmann/json.hpp>

namespace vmroam::store::codec {

using sqlite::Binder;
using sqlite::Row;

namespace {

// allowed_fas is a JSON array of dotted addresses (the column CHECKs it is an array).
std::string fas_to_json(const std::vector<Ipv4>& fas) {
  std::string s = "[";
  for (std::size_t i = 0; i < fas.size(); ++i) {
    if (i) s += ",";
    s += "\"" + fas[i].to_string() + "\"";
  }
  return s + "]";
}

std::vector<Ipv4> fas_from_json(const std::string& text, Row& row) {
  std::vector<Ipv4> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    row.mark("allowed_fas", text);
    return out;
  }
  for (const auto& e : j) {
    auto a = e.is_string() ? Ipv4::parse(e.get<std::string>()) : Result<Ipv4>(fail("bad_ipv4"));
    if (!a) {
      row.mark("allowed_fas", text);
      return {};
    }
    out.push_back(*a);
  }
  return out;
}

// IPv6 address lists are JSON arrays of text addresses (the columns CHECK they are arrays).
std::string v6_to_json(const std::vector<Ipv6>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& a : list) j.push_back(a.to_string());
  return j.dump();
}

std::vector<Ipv6> v6_from_json(const std::string& text, Row& row, const char* what) {
  std::vector<Ipv6> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    row.mark(what, text);
    return out;
  }
  for (const auto& e : j) {
    auto a = e.is_string() ? Ipv6::parse(e.get<std::string>()) : Result<Ipv6>(fail("bad_ipv6"));
    if (!a) {
      row.mark(what, text);
      return {};
    }
    out.push_back(*a);
  }
  return out;
}

std::optional<Ipv6> opt_v6(Row& row, const char* what) {
  if (row.is_null()) {
    (void)row.text();  // steps past the NULL column
    return std::nullopt;
  }
  const std::string text = row.text();
  auto a = Ipv6::parse(text);
  if (!a) {
    row.mark(what, text);
    return std::nullopt;
  }
  return *a;
}

// The four traffic columns both bindings and visitors end with.
void bind_counters(Binder& b, const TrafficCounters& c) {
  b.u64(c.packets_in).u64(c.bytes_in).u64(c.packets_out).u64(c.bytes_out);
}
TrafficCounters read_counters(Row& row) {
  TrafficCounters c;
  c.packets_in = row.u64();
  c.bytes_in = row.u64();
  c.packets_out = row.u64();
  c.bytes_out = row.u64();
  return c;
}

}  // namespace

void bind(Binder& b, const VmRecord& r) {
  b.text(r.id).ipv4(r.home_address).mac(r.mac).text(fas_to_json(r.allowed_fas)).i64(r.spi).text(r.algorithm);
  b.blob(r.key).opt_i64(r.fa_ha_spi).text(r.params).text(v6_to_json(r.home_addresses_v6));
}
void bind(Binder& b, const BindingRecord& r) {
  b.ipv4(r.home_address).ipv4(r.care_of_address).ipv4(r.foreign_agent).i64(r.lifetime_granted).i64(r.flags);
  b.text(r.encapsulation).i64(r.registered_at_unix_ms).opt_i64(r.expires_at_unix_ms).u64(r.identification);
  b.u64(r.move_seq);
  bind_counters(b, r.counters);
  b.text(r.params).text(v6_to_json(r.home_addresses_v6));
}
void bind(Binder& b, const ReplayRecord& r) { b.ipv4(r.home_address).u64(r.last_identification); }
void bind(Binder& b, const VisitorRecord& r) {
  b.text(r.id)
      .ipv4(r.home_address)
      .mac(r.mac)
      .ipv4(r.home_gateway)
      .mac(r.home_gateway_mac)
      .ipv4(r.home_agent);
  b.i64(r.spi).text(r.algorithm).blob(r.key).i64(r.lifetime_requested).text(r.encapsulation).text(r.state);
  b.opt_i64(r.last_reply_code).text(r.reason).u64(r.identification_sent).opt_i64(r.expires_at_unix_ms);
  b.i64(r.created_at_unix_ms);
  bind_counters(b, r.counters);
  b.text(r.params).text(v6_to_json(r.home_addresses_v6)).text(v6_to_json(r.granted_v6));
  if (r.home_gateway_v6) {
    b.text(r.home_gateway_v6->to_string());
  } else {
    b.null();
  }
}

void bind(Binder& b, const RevocationRecord& r) {
  b.i64(r.revocation_id).ipv4(r.foreign_agent).ipv4(r.home_address).blob(r.message);
  b.i64(r.created_at_unix_ms).text(r.params);
}

VmRecord read_vm(Row& row) {
  VmRecord r;
  r.id = row.text();
  r.home_address = row.ipv4("home_address");
  r.mac = row.mac("mac");
  std::string fas = row.text();
  r.allowed_fas = fas_from_json(fas, row);
  r.spi = row.uint<std::uint32_t>("spi");
  r.algorithm = row.text();
  r.key = row.blob();
  r.fa_ha_spi = row.opt_uint<std::uint32_t>("fa_ha_spi");
  r.params = row.text();
  r.home_addresses_v6 = v6_from_json(row.text(), row, "home_addresses_v6");
  return r;
}
BindingRecord read_binding(Row& row) {
  BindingRecord r;
  r.home_address = row.ipv4("home_address");
  r.care_of_address = row.ipv4("care_of_address");
  r.foreign_agent = row.ipv4("foreign_agent");
  r.lifetime_granted = row.uint<std::uint16_t>("lifetime_granted");
  r.flags = row.uint<std::uint8_t>("flags");
  r.encapsulation = row.text();
  r.registered_at_unix_ms = row.i64();
  r.expires_at_unix_ms = row.opt_i64();
  r.identification = row.u64();
  r.move_seq = row.u64();
  r.counters = read_counters(row);
  r.params = row.text();
  r.home_addresses_v6 = v6_from_json(row.text(), row, "home_addresses_v6");
  return r;
}
ReplayRecord read_replay(Row& row) {
  ReplayRecord r;
  r.home_address = row.ipv4("home_address");
  r.last_identification = row.u64();
  return r;
}
VisitorRecord read_visitor(Row& row) {
  VisitorRecord r;
  r.id = row.text();
  r.home_address = row.ipv4("home_address");
  r.mac = row.mac("mac");
  r.home_gateway = row.ipv4("home_gateway");
  r.home_gateway_mac = row.mac("home_gateway_mac");
  r.home_agent = row.ipv4("home_agent");
  r.spi = row.uint<std::uint32_t>("spi");
  r.algorithm = row.text();
  r.key = row.blob();
  r.lifetime_requested = row.uint<std::uint16_t>("lifetime_requested");
  r.encapsulation = row.text();
  r.state = row.text();
  r.last_reply_code = row.opt_uint<std::uint8_t>("last_reply_code");
  r.reason = row.text();
  r.identification_sent = row.u64();
  r.expires_at_unix_ms = row.opt_i64();
  r.created_at_unix_ms = row.i64();
  r.counters = read_counters(row);
  r.params = row.text();
  r.home_addresses_v6 = v6_from_json(row.text(), row, "home_addresses_v6");
  r.granted_v6 = v6_from_json(row.text(), row, "granted_v6");
  r.home_gateway_v6 = opt_v6(row, "home_gateway_v6");
  return r;
}
RevocationRecord read_revocation(Row& row) {
  RevocationRecord r;
  r.revocation_id = row.uint<std::uint32_t>("revocation_id");
  r.foreign_agent = row.ipv4("foreign_agent");
  r.home_address = row.ipv4("home_address");
  r.message = row.blob();
  r.created_at_unix_ms = row.i64();
  r.params = row.text();
  return r;
}
}  // namespace vmroam::store::codec
