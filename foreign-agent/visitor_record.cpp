// Visitor ⇄ store record (see the header).
#include "foreign-agent/visitor_record.hpp"

namespace vmroam::fa {

using binding::Visitor;
using binding::VisitorState;

store::VisitorRecord to_record(const Visitor& v, const Clock& clock) {
  store::VisitorRecord r;
  r.id = v.id;
  r.home_address = v.home_address;
  r.mac = v.mac;
  r.home_gateway = v.home_gateway;
  r.home_gateway_mac = v.home_gateway_mac;
  r.home_agent = v.home_agent;
  r.spi = v.spi;
  r.algorithm = v.algorithm;
  r.key = v.key;
  r.lifetime_requested = v.lifetime_requested;
  r.encapsulation = std::string(binding::to_string(v.encapsulation));
  r.state = std::string(binding::to_string(v.state));
  r.last_reply_code = v.last_reply_code;
  r.reason = v.reason;
  r.identification_sent = v.identification_sent;
  if (v.expires_at != TimePoint{}) r.expires_at_unix_ms = unix_ms_from(clock, v.expires_at);
  r.created_at_unix_ms = unix_ms_from(clock, v.created_at);
  r.counters = v.counters;
  r.home_addresses_v6 = v.home_addresses_v6;
  r.granted_v6 = v.granted_v6;
  r.home_gateway_v6 = v.home_gateway_v6;
  return r;
}

Visitor from_record(const store::VisitorRecord& r, const Clock& clock) {
  Visitor v;
  v.id = r.id;
  v.home_address = r.home_address;
  v.mac = r.mac;
  v.home_gateway = r.home_gateway;
  v.home_gateway_mac = r.home_gateway_mac;
  v.home_agent = r.home_agent;
  v.spi = r.spi;
  v.algorithm = r.algorithm;
  v.key = r.key;
  v.lifetime_requested = r.lifetime_requested;
  v.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  v.state = binding::parse_visitor_state(r.state).value_or(VisitorState::failed);
  v.last_reply_code = r.last_reply_code;
  v.reason = r.reason;
  v.identification_sent = r.identification_sent;
  if (r.expires_at_unix_ms) v.expires_at = monotonic_from_unix_ms(clock, *r.expires_at_unix_ms);
  v.created_at = monotonic_from_unix_ms(clock, r.created_at_unix_ms);
  v.counters = r.counters;
  v.home_addresses_v6 = r.home_addresses_v6;
  v.granted_v6 = r.granted_v6;
  v.home_gateway_v6 = r.home_gateway_v6;
  return v;
}

VisitorChange change_of(const binding::VisitorList& visitors, const std::string& id, const Clock& clock) {
  const Visitor* v = visitors.find(id);
  if (!v) return {id, std::nullopt};
  return {id, to_record(*v, clock)};
}

}  // namespace vmroam::fa
