#include "home-agent/cluster/cluster_status.hpp"

#include <algorithm>
#include <map>

namespace vmroam::ha {

using Json = nlohmann::json;

std::string encode(const MemberRecord& r) {
  return Json{
      {"node", r.node}, {"home_prefix", r.home_prefix},         {"role", r.role},
      {"api", r.api},   {"service_address", r.service_address}, {"watched_revision", r.watched_revision}}
      .dump();
}

Result<MemberRecord> decode_member(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("cluster_bad_value", "member: not a JSON object");
  try {
    return MemberRecord{j.at("node").get<std::string>(),
                        j.at("home_prefix").get<std::string>(),
                        j.at("role").get<std::string>(),
                        j.at("api").get<std::string>(),
                        j.at("service_address").get<std::string>(),
                        j.at("watched_revision").get<std::int64_t>()};
  } catch (const Json::exception& e) {
    return fail("cluster_bad_value", std::string("member: ") + e.what());
  }
}

std::vector<MemberStatus> members_from(const std::vector<cluster::KeyValue>& kvs) {
  std::vector<MemberStatus> out;
  for (const auto& kv : kvs)
    if (auto r = decode_member(kv.value)) out.push_back({std::move(*r), kv.lease, -1, 0});
  std::sort(out.begin(), out.end(), [](const MemberStatus& a, const MemberStatus& b) {
    return std::tie(a.record.home_prefix, a.record.node) < std::tie(b.record.home_prefix, b.record.node);
  });
  fill_lag(out);
  return out;
}

// The reference is the active member's progress: every change of a home subtree is the
// active's own commit or election, which all its members then see. A member that joined
// later starts from its read's revision (possibly above the active's) and is not behind.
// Without an active (an election under way) the most advanced member is the reference.
void fill_lag(std::vector<MemberStatus>& members) {
  std::map<std::string, std::int64_t> reference;  // home prefix -> revision
  for (const auto& m : members) {
    auto [it, fresh] = reference.try_emplace(m.record.home_prefix, m.record.watched_revision);
    if (!fresh && it->second < m.record.watched_revision) it->second = m.record.watched_revision;
  }
  for (const auto& m : members)
    if (m.record.role == "active") reference[m.record.home_prefix] = m.record.watched_revision;
  for (auto& m : members)
    m.lag = std::max<std::int64_t>(0, reference[m.record.home_prefix] - m.record.watched_revision);
}

const MemberRecord* active_of(const ClusterStatus& s, std::string_view home_prefix) {
  for (const auto& m : s.members)
    if (m.record.home_prefix == home_prefix && m.record.role == "active") return &m.record;
  return nullptr;
}

Json to_json(const ClusterStatus& s) {
  Json members = Json::array();
  for (const auto& m : s.members)
    members.push_back({{"node", m.record.node},
                       {"home_prefix", m.record.home_prefix},
                       {"role", m.record.role},
                       {"api", m.record.api},
                       {"service_address", m.record.service_address},
                       {"watched_revision", m.record.watched_revision},
                       {"lag", m.lag},
                       {"lease_ttl_s", m.lease_ttl_s >= 0 ? Json(m.lease_ttl_s) : Json(nullptr)}});
  return {{"node", s.node},
          {"role", s.role},
          {"reconnects", s.reconnects},
          {"home_prefix", s.home_prefix},
          {"active", s.active.empty() ? Json(nullptr) : Json(s.active)},
          {"revision", s.revision},
          {"members", members}};
}

}  // namespace vmroam::ha
