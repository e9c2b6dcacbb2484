// Binding records: see binding_record.hpp.
#include "home-agent/binding_record.hpp"

#include "common/api/message.hpp"

namespace vmroam::ha {

store::BindingRecord to_record(const binding::Binding& b, const dataplane::TunnelEndpoint& ep,
                               const Clock& clock) {
  auto to_wall_ms = [&clock](TimePoint t) { return unix_ms_from(clock, t); };
  store::BindingRecord r;
  r.home_address = b.home_address;
  r.care_of_address = b.care_of_address;
  r.foreign_agent = b.foreign_agent;
  r.lifetime_granted = b.lifetime_granted;
  r.flags = b.flags;
  r.encapsulation = std::string(binding::to_string(b.encapsulation));
  r.registered_at_unix_ms = to_wall_ms(b.registered_at);
  if (!b.infinite()) r.expires_at_unix_ms = to_wall_ms(b.expires_at);
  r.identification = b.identification;
  r.move_seq = b.move_seq;
  r.counters = b.counters;
  r.home_addresses_v6 = b.home_addresses_v6;
  if (ep.peer != b.care_of_address || ep.udp_port != mip::kRegistrationPort)
    r.params = api::Json{{"tunnel_peer", ep.peer.to_string()}, {"tunnel_port", ep.udp_port}}.dump();
  return r;
}

dataplane::TunnelEndpoint endpoint_from_record(const store::BindingRecord& r, const binding::Binding& b) {
  dataplane::TunnelEndpoint ep{b.care_of_address, b.encapsulation, mip::kRegistrationPort};
  const auto params = api::Json::parse(r.params, nullptr, /*allow_exceptions=*/false);
  if (params.is_object()) {
    if (auto it = params.find("tunnel_peer"); it != params.end() && it->is_string())
      if (auto peer = Ipv4::parse(it->get<std::string>())) ep.peer = *peer;
    if (auto it = params.find("tunnel_port"); it != params.end() && it->is_number_unsigned() &&
                                              it->get<std::uint64_t>() > 0 &&
                                              it->get<std::uint64_t>() < 65536)
      ep.udp_port = static_cast<std::uint16_t>(it->get<std::uint64_t>());
  }
  return ep;
}

binding::Binding from_record(const store::BindingRecord& r, const Clock& clock) {
  auto to_mono = [&clock](std::int64_t ms) { return monotonic_from_unix_ms(clock, ms); };
  binding::Binding b;
  b.home_address = r.home_address;
  b.care_of_address = r.care_of_address;
  b.foreign_agent = r.foreign_agent;
  b.lifetime_granted = r.lifetime_granted;
  b.flags = r.flags;
  b.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  b.registered_at = to_mono(r.registered_at_unix_ms);
  b.expires_at = r.expires_at_unix_ms ? to_mono(*r.expires_at_unix_ms) : TimePoint::max();
  b.identification = r.identification;
  b.move_seq = r.move_seq;
  b.counters = r.counters;
  b.home_addresses_v6 = r.home_addresses_v6;
  return b;
}

}  // namespace vmroam::ha
