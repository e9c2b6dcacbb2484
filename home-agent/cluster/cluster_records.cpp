#include "home-agent/cluster/cluster_records.hpp"

#include <nlohmann/json.hpp>

#include <unordered_map>
#include <variant>

#include "common/core/hex.hpp"

namespace vmroam::ha {

using Json = nlohmann::json;

namespace {

std::string home_id(Ipv4Prefix p) { return p.address.to_string() + "_" + std::to_string(p.length); }

// Decodes `text` with `read`, which may throw nlohmann's type errors on a malformed value:
// they stop here as a named error (nothing throws past this file).
template <typename T, typename F>
Result<T> decode(std::string_view text, const char* what, F read) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail("cluster_bad_value", std::string(what) + ": not a JSON object");
  try {
    return read(j);
  } catch (const Json::exception& e) {
    return fail("cluster_bad_value", std::string(what) + ": " + e.what());
  }
}

Ipv4 ipv4_of(const Json& j, const char* key) {
  auto a = Ipv4::parse(j.at(key).get<std::string>());
  if (!a) throw Json::type_error::create(302, std::string(key) + ": not an IPv4 address", &j);
  return *a;
}

// IPv6 home addresses: written only when there are some, so values written before dual-stack
// VMs existed (and by HAs that predate them) read as "none".
Json v6_to_json(const std::vector<Ipv6>& list) {
  Json a = Json::array();
  for (const auto& x : list) a.push_back(x.to_string());
  return a;
}

std::vector<Ipv6> v6_of(const Json& j, const char* key) {
  std::vector<Ipv6> out;
  if (!j.contains(key)) return out;
  for (const auto& e : j.at(key)) {
    auto a = Ipv6::parse(e.get<std::string>());
    if (!a) throw Json::type_error::create(302, std::string(key) + ": not an IPv6 address", &j);
    out.push_back(*a);
  }
  return out;
}

}  // namespace

ClusterKeys::ClusterKeys(const std::string& prefix, Ipv4Prefix home_prefix)
    : home_(prefix + "/homes/" + home_id(home_prefix) + "/"),
      members_(prefix + "/members/"),
      home_id_(home_id(home_prefix)) {}

ClusterKeys::Parsed ClusterKeys::parse(std::string_view key) const {
  if (key.substr(0, home_.size()) != home_) return {};
  const std::string_view rest = key.substr(home_.size());
  if (rest == "leader") return {Kind::leader, {}};
  for (auto [dir, kind] :
       {std::pair{std::string_view("bindings/"), Kind::binding},
        std::pair{std::string_view("replay/"), Kind::replay}, std::pair{std::string_view("vms/"), Kind::vm},
        std::pair{std::string_view("revocations/"), Kind::revocation}}) {
    if (rest.substr(0, dir.size()) == dir && rest.size() > dir.size())
      return {kind, std::string(rest.substr(dir.size()))};
  }
  return {};
}

std::string encode(const store::BindingRecord& r) {
  Json j{{"hoa", r.home_address.to_string()},
         {"coa", r.care_of_address.to_string()},
         {"fa", r.foreign_agent.to_string()},
         {"lifetime", r.lifetime_granted},
         {"flags", r.flags},
         {"encapsulation", r.encapsulation},
         {"registered_at_ms", r.registered_at_unix_ms},
         {"identification", r.identification},
         {"move_seq", r.move_seq},
         {"params", r.params}};
  if (r.expires_at_unix_ms) j["expires_at_ms"] = *r.expires_at_unix_ms;
  if (!r.home_addresses_v6.empty()) j["hoa_v6"] = v6_to_json(r.home_addresses_v6);
  return j.dump();
}

std::string encode(const store::ReplayRecord& r) {
  return Json{{"hoa", r.home_address.to_string()}, {"last_identification", r.last_identification}}.dump();
}

std::string encode(const store::VmRecord& r) {
  Json fas = Json::array();
  for (auto a : r.allowed_fas) fas.push_back(a.to_string());
  Json j{
      {"id", r.id},   {"hoa", r.home_address.to_string()}, {"mac", r.mac.to_string()}, {"allowed_fas", fas},
      {"spi", r.spi}, {"algorithm", r.algorithm},          {"key", to_hex(r.key)},     {"params", r.params}};
  if (r.fa_ha_spi) j["fa_ha_spi"] = *r.fa_ha_spi;
  if (!r.home_addresses_v6.empty()) j["hoa_v6"] = v6_to_json(r.home_addresses_v6);
  return j.dump();
}

std::string encode(const store::RevocationRecord& r) {
  return Json{{"id", r.revocation_id},
              {"fa", r.foreign_agent.to_string()},
              {"hoa", r.home_address.to_string()},
              {"message", to_hex(r.message)},
              {"created_at_ms", r.created_at_unix_ms},
              {"params", r.params}}
      .dump();
}

Result<store::BindingRecord> decode_binding(std::string_view text) {
  return decode<store::BindingRecord>(text, "binding", [](const Json& j) {
    store::BindingRecord r;
    r.home_address = ipv4_of(j, "hoa");
    r.care_of_address = ipv4_of(j, "coa");
    r.foreign_agent = ipv4_of(j, "fa");
    r.lifetime_granted = j.at("lifetime").get<std::uint16_t>();
    r.flags = j.at("flags").get<std::uint8_t>();
    r.encapsulation = j.at("encapsulation").get<std::string>();
    r.registered_at_unix_ms = j.at("registered_at_ms").get<std::int64_t>();
    if (j.contains("expires_at_ms")) r.expires_at_unix_ms = j.at("expires_at_ms").get<std::int64_t>();
    r.identification = j.at("identification").get<std::uint64_t>();
    r.move_seq = j.at("move_seq").get<std::uint64_t>();
    r.params = j.at("params").get<std::string>();
    r.home_addresses_v6 = v6_of(j, "hoa_v6");
    return r;
  });
}

Result<store::ReplayRecord> decode_replay(std::string_view text) {
  return decode<store::ReplayRecord>(text, "replay", [](const Json& j) {
    return store::ReplayRecord{ipv4_of(j, "hoa"), j.at("last_identification").get<std::uint64_t>()};
  });
}

Result<store::VmRecord> decode_vm(std::string_view text) {
  return decode<store::VmRecord>(text, "vm", [&](const Json& j) {
    store::VmRecord r;
    r.id = j.at("id").get<std::string>();
    r.home_address = ipv4_of(j, "hoa");
    auto mac = MacAddress::parse(j.at("mac").get<std::string>());
    if (!mac) throw Json::type_error::create(302, "mac: not a MAC address", &j);
    r.mac = *mac;
    for (const auto& a : j.at("allowed_fas")) {
      auto fa = Ipv4::parse(a.get<std::string>());
      if (!fa) throw Json::type_error::create(302, "allowed_fas: not an IPv4 address", &j);
      r.allowed_fas.push_back(*fa);
    }
    r.spi = j.at("spi").get<std::uint32_t>();
    r.algorithm = j.at("algorithm").get<std::string>();
    auto key = from_hex(j.at("key").get<std::string>());
    if (!key) throw Json::type_error::create(302, "key: not hex", &j);
    r.key = std::move(*key);
    if (j.contains("fa_ha_spi")) r.fa_ha_spi = j.at("fa_ha_spi").get<std::uint32_t>();
    r.params = j.at("params").get<std::string>();
    r.home_addresses_v6 = v6_of(j, "hoa_v6");
    return r;
  });
}

Result<store::RevocationRecord> decode_revocation(std::string_view text) {
  return decode<store::RevocationRecord>(text, "revocation", [&](const Json& j) {
    store::RevocationRecord r;
    r.revocation_id = j.at("id").get<std::uint32_t>();
    r.foreign_agent = ipv4_of(j, "fa");
    r.home_address = ipv4_of(j, "hoa");
    auto message = from_hex(j.at("message").get<std::string>());
    if (!message || message->empty()) throw Json::type_error::create(302, "message: not hex", &j);
    r.message = std::move(*message);
    r.created_at_unix_ms = j.at("created_at_ms").get<std::int64_t>();
    r.params = j.at("params").get<std::string>();
    return r;
  });
}

namespace {

// For each HoA whose binding the batch puts: the position of the last such put and its
// Identification.
std::unordered_map<std::uint32_t, std::pair<std::size_t, std::uint64_t>> last_binding_puts(
    const store::Batch& batch) {
  std::unordered_map<std::uint32_t, std::pair<std::size_t, std::uint64_t>> last;
  std::size_t i = 0;
  for (const auto& any : batch.ops()) {
    if (const auto* b = std::get_if<store::BindingRecord>(&any))
      last[b->home_address.value()] = {i, b->identification};
    ++i;
  }
  return last;
}

}  // namespace

std::vector<cluster::Mutation> to_mutations(const ClusterKeys& keys, const store::Batch& batch) {
  std::vector<cluster::Mutation> out;
  out.reserve(batch.size());
  const auto bound = last_binding_puts(batch);
  // The binding put later in this batch carries this replay state (the overview).
  auto carried = [&](std::size_t at, const store::ReplayRecord& r) {
    auto it = bound.find(r.home_address.value());
    return it != bound.end() && it->second.first > at && it->second.second == r.last_identification;
  };
  std::size_t at = 0;
  auto put = [&](std::string key, std::string value) {
    out.push_back({false, std::move(key), std::move(value), 0});
  };
  auto erase = [&](std::string key) { out.push_back({true, std::move(key), {}, 0}); };
  for (const auto& any : batch.ops()) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, store::BindingRecord>)
            put(keys.binding(op.home_address), encode(op));
          else if constexpr (std::is_same_v<T, store::Batch::DeleteBinding>)
            erase(keys.binding(op.home_address));
          else if constexpr (std::is_same_v<T, store::ReplayRecord>) {
            if (!carried(at, op)) put(keys.replay(op.home_address), encode(op));
          } else if constexpr (std::is_same_v<T, store::Batch::DeleteReplay>)
            erase(keys.replay(op.home_address));
          else if constexpr (std::is_same_v<T, store::VmRecord>)
            put(keys.vm(op.id), encode(op));
          else if constexpr (std::is_same_v<T, store::Batch::DeleteVm>)
            erase(keys.vm(op.id));
          else if constexpr (std::is_same_v<T, store::RevocationRecord>)
            put(keys.revocation(op.revocation_id), encode(op));
          else if constexpr (std::is_same_v<T, store::Batch::DeleteRevocation>)
            erase(keys.revocation(op.revocation_id));
          // Visitors are the FA's; a home agent never writes them.
        },
        any);
    ++at;
  }
  return out;
}

namespace {

// Each HoA's replay state from whichever of its binding and replay keys was written last.
void replay_from_bindings(store::Snapshot& snap,
                          const std::unordered_map<std::uint32_t, std::int64_t>& binding_rev,
                          const std::unordered_map<std::uint32_t, std::int64_t>& replay_rev) {
  std::unordered_map<std::uint32_t, std::size_t> at;
  for (std::size_t i = 0; i < snap.replay.size(); ++i) at[snap.replay[i].home_address.value()] = i;
  for (const auto& b : snap.bindings) {
    const std::uint32_t h = b.home_address.value();
    auto r = replay_rev.find(h);
    if (r != replay_rev.end() && r->second >= binding_rev.at(h)) continue;  // replay/<hoa> is later
    const store::ReplayRecord from_binding{b.home_address, b.identification};
    if (auto i = at.find(h); i != at.end())
      snap.replay[i->second] = from_binding;
    else
      snap.replay.push_back(from_binding);
  }
}

}  // namespace

Result<store::Snapshot> to_snapshot(const ClusterKeys& keys, const std::vector<cluster::KeyValue>& kvs) {
  store::Snapshot snap;
  std::unordered_map<std::uint32_t, std::int64_t> binding_rev, replay_rev;
  for (const auto& kv : kvs) {
    const auto parsed = keys.parse(kv.key);
    auto bad = [&](const Error& e) { return fail(e.code, kv.key + ": " + e.context); };
    switch (parsed.kind) {
      case ClusterKeys::Kind::binding: {
        auto r = decode_binding(kv.value);
        if (!r) return bad(r.error());
        binding_rev[r->home_address.value()] = kv.mod_revision;
        snap.bindings.push_back(std::move(*r));
        break;
      }
      case ClusterKeys::Kind::replay: {
        auto r = decode_replay(kv.value);
        if (!r) return bad(r.error());
        replay_rev[r->home_address.value()] = kv.mod_revision;
        snap.replay.push_back(*r);
        break;
      }
      case ClusterKeys::Kind::vm: {
        auto r = decode_vm(kv.value);
        if (!r) return bad(r.error());
        snap.vms.push_back(std::move(*r));
        break;
      }
      case ClusterKeys::Kind::revocation: {
        auto r = decode_revocation(kv.value);
        if (!r) return bad(r.error());
        snap.revocations.push_back(std::move(*r));
        break;
      }
      case ClusterKeys::Kind::leader:
      case ClusterKeys::Kind::unknown:
        break;
    }
  }
  replay_from_bindings(snap, binding_rev, replay_rev);
  return snap;
}

}  // namespace vmroam::ha
