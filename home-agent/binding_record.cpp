// Binding records: see binding_record.hpp.
#include "home-agent/binding_record.hpp"

#include <tuple>

#include "common/api/message.hpp"

namespace vmroam::ha {

namespace {

// The fields a binding and its record hold alike (same name, same type), named once for both
// directions and both sides; to_record and from_record convert only the rest (times, the
// encapsulation's name).
template <class From, class To>
void copy_alike(const From& from, To& to) {
  const auto fields = [](auto& m) {
    return std::tie(m.home_address, m.care_of_address, m.foreign_agent, m.lifetime_granted, m.flags,
                    m.identification, m.move_seq, m.counters, m.home_addresses_v6);
  };
  fields(to) = fields(from);
}

}  // namespace

store::BindingRecord to_record(const binding::Binding& b, const dataplane::TunnelEndpoint& ep,
                               const Clock& clock) {
  store::BindingRecord r;
  copy_alike(b, r);
  r.encapsulation = std::string(binding::to_string(b.encapsulation));
  r.registered_at_unix_ms = unix_ms_from(clock, b.registered_at);
  if (!b.infinite()) r.expires_at_unix_ms = unix_ms_from(clock, b.expires_at);
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
  binding::Binding b;
  copy_alike(r, b);
  b.encapsulation = binding::parse_encapsulation(r.encapsulation).value_or(binding::Encapsulation::ipip);
  b.registered_at = monotonic_from_unix_ms(clock, r.registered_at_unix_ms);
  b.expires_at =
      r.expires_at_unix_ms ? monotonic_from_unix_ms(clock, *r.expires_at_unix_ms) : TimePoint::max();
  return b;
}

}  // namespace vmroam::ha
