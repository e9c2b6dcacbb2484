// Reply code names (RFC 5944 §3.4 and the RFCs mip::code names): one table for every part
// that shows a code to people (vmroam-pcap, the FA's visitor reason).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

// The code's name ("accepted", "ha_mn_auth_failed", …), or "" for a code no RFC we know names.
[[nodiscard]] constexpr std::string_view reply_code_name(std::uint8_t code) {
  namespace c = mip::code;
  struct Name {
    std::uint8_t code;
    std::string_view name;
  };
  constexpr Name kNames[] = {
      {c::accepted, "accepted"},
      {c::accepted_no_simultaneous, "accepted_no_simultaneous"},
      {c::fa_unspecified, "fa_unspecified"},
      {c::fa_prohibited, "fa_prohibited"},
      {c::fa_insufficient_resources, "fa_insufficient_resources"},
      {c::fa_mn_auth_failed, "fa_mn_auth_failed"},
      {c::fa_ha_auth_failed, "fa_ha_auth_failed"},
      {c::fa_lifetime_too_long, "fa_lifetime_too_long"},
      {c::fa_poorly_formed_request, "fa_poorly_formed_request"},
      {c::fa_poorly_formed_reply, "fa_poorly_formed_reply"},
      {c::fa_encapsulation_unavailable, "fa_encapsulation_unavailable"},
      {c::fa_vj_compression_unavailable, "fa_vj_compression_unavailable"},
      {c::fa_reverse_tunnel_unavailable, "fa_reverse_tunnel_unavailable"},
      {c::fa_reverse_tunnel_mandatory, "fa_reverse_tunnel_mandatory"},
      {c::fa_mn_too_distant, "fa_mn_too_distant"},
      {c::fa_invalid_care_of, "fa_invalid_care_of"},
      {c::fa_registration_timeout, "fa_registration_timeout"},
      {c::fa_delivery_style_unsupported, "fa_delivery_style_unsupported"},
      {c::fa_home_network_unreachable, "fa_home_network_unreachable"},
      {c::fa_ha_host_unreachable, "fa_ha_host_unreachable"},
      {c::fa_ha_port_unreachable, "fa_ha_port_unreachable"},
      {c::fa_ha_unreachable, "fa_ha_unreachable"},
      {c::fa_vendor_specific, "fa_vendor_specific"},
      {c::fa_nonzero_ha_required, "fa_nonzero_ha_required"},
      {c::fa_nonzero_home_address_required, "fa_nonzero_home_address_required"},
      {c::fa_missing_nai, "fa_missing_nai"},
      {c::fa_missing_home_agent, "fa_missing_home_agent"},
      {c::fa_missing_home_address, "fa_missing_home_address"},
      {c::fa_unknown_cvse_from_mn, "fa_unknown_cvse_from_mn"},
      {c::fa_unknown_cvse_from_ha, "fa_unknown_cvse_from_ha"},
      {c::ha_unspecified, "ha_unspecified"},
      {c::ha_prohibited, "ha_prohibited"},
      {c::ha_insufficient_resources, "ha_insufficient_resources"},
      {c::ha_mn_auth_failed, "ha_mn_auth_failed"},
      {c::ha_fa_auth_failed, "ha_fa_auth_failed"},
      {c::ha_identification_mismatch, "ha_identification_mismatch"},
      {c::ha_poorly_formed_request, "ha_poorly_formed_request"},
      {c::ha_too_many_bindings, "ha_too_many_bindings"},
      {c::ha_unknown_ha_address, "ha_unknown_ha_address"},
      {c::ha_reverse_tunnel_unavailable, "ha_reverse_tunnel_unavailable"},
      {c::ha_reverse_tunnel_mandatory, "ha_reverse_tunnel_mandatory"},
      {c::ha_encapsulation_unavailable, "ha_encapsulation_unavailable"},
      {c::ha_unknown_cvse_from_mn, "ha_unknown_cvse_from_mn"},
      {c::ha_unknown_cvse_from_fa, "ha_unknown_cvse_from_fa"},
      {c::ha_udp_encapsulation_unavailable, "ha_udp_encapsulation_unavailable"},
      {c::ha_redirected, "ha_redirected"},
      {c::ha_mn_aaa_auth_failed, "ha_mn_aaa_auth_failed"},
      {c::ha_pmip_unsupported, "ha_pmip_unsupported"},
      {c::ha_pmip_disallowed, "ha_pmip_disallowed"},
  };
  for (const auto& n : kNames)
    if (n.code == code) return n.name;
  return {};
}

}  // namespace vmroam::wire
