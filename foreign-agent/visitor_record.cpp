// Visitor ⇄ store record (see the header).
#include "foreign-agent/visitor_record.hpp"

#include <tuple>

namespace vmroam::fa {

using binding::Visitor;
using binding::VisitorState;

namespace {

// The fields a visitor and its record hold alike (same name, same type), named once for both
// directions and both sides; to_record and from_record convert only the rest (times, enums).
template <class From, class To>
void copy_alike(const From& from, To& to) {
  const auto fields = [](auto& m) {
    return std::tie(m.id, m.home_address, m.mac, m.home_gateway, m.home_gateway_mac, m.home_agent, m.spi,
                    m.algorithm, m.key, m.lifetime_requested, m.last_reply_code, m.reason,
                    m.identification_sent, m.counters, m.home_addresses_v6, m.granted_v6, m.home_gateway_v6);
  };
  fields(to) = fields(from);
}

}  // namespace

store::VisitorRecord to_record(const Visitor& v, const Clock& clock) {
  store::VisitorRecord r;
  copy_alike(v, r);
  r.encapsulation = std::string(binding::to_string(v.encapsulation));
  r.state = std::string(binding::to_string(v.state));
  if (v.expires_at != TimePoint{}) r.expires_at_unix_ms = unix_ms_from(clock, v.expires_at);
  r.created_at_unix_ms = unix_ms_from(clock, v.created_at);
  return r;
}

Visitor from_record(const store::VisitorRecord& r, const Clock& clock) {
  Visitor v;
  copy_alike(r, v);
  v.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  v.state = binding::parse_visitor_state(r.state).value_or(VisitorState::failed);
  if (r.expires_at_unix_ms) v.expires_at = monotonic_from_unix_ms(clock, *r.expires_at_unix_ms);
  v.created_at = monotonic_from_unix_ms(clock, r.created_at_unix_ms);
  return v;
}

VisitorChange change_of(const binding::VisitorList& visitors, const std::string& id, const Clock& clock) {
  const Visitor* v = visitors.find(id);
  if (!v) return {id, std::nullopt};
  return {id, to_record(*v, clock)};
}

}  // namespace vmroam::fa
