// Reply code names (RFC 5944 §3.4 and the RFCs mip::code names): one table for every part
// that shows a code to people (vmroam-pcap, the FA's visitor reason).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {

struct ReplyCodeName {
  std::uint8_t code;
  std::string_view name;
};

// Every code an RFC we implement names, with its name.
inline constexpr ReplyCodeName kReplyCodeNames[] = {
    {mip::code::accepted, "accepted"},
    {mip::code::accepted_no_simultaneous, "accepted_no_simultaneous"},
    {mip::code::fa_unspecified, "fa_unspecified"},
    {mip::code::fa_prohibited, "fa_prohibited"},
    {mip::code::fa_insufficient_resources, "fa_insufficient_resources"},
    {mip::code::fa_mn_auth_failed, "fa_mn_auth_failed"},
    {mip::code::fa_ha_auth_failed, "fa_ha_auth_failed"},
    {mip::code::fa_lifetime_too_long, "fa_lifetime_too_long"},
    {mip::code::fa_poorly_formed_request, "fa_poorly_formed_request"},
    {mip::code::fa_poorly_formed_reply, "fa_poorly_formed_reply"},
    {mip::code::fa_encapsulation_unavailable, "fa_encapsulation_unavailable"},
    {mip::code::fa_vj_compression_unavailable, "fa_vj_compression_unavailable"},
    {mip::code::fa_reverse_tunnel_unavailable, "fa_reverse_tunnel_unavailable"},
    {mip::code::fa_reverse_tunnel_mandatory, "fa_reverse_tunnel_mandatory"},
    {mip::code::fa_mn_too_distant, "fa_mn_too_distant"},
    {mip::code::fa_invalid_care_of, "fa_invalid_care_of"},
    {mip::code::fa_registration_timeout, "fa_registration_timeout"},
    {mip::code::fa_delivery_style_unsupported, "fa_delivery_style_unsupported"},
    {mip::code::fa_home_network_unreachable, "fa_home_network_unreachable"},
    {mip::code::fa_ha_host_unreachable, "fa_ha_host_unreachable"},
    {mip::code::fa_ha_port_unreachable, "fa_ha_port_unreachable"},
    {mip::code::fa_ha_unreachable, "fa_ha_unreachable"},
    {mip::code::fa_vendor_specific, "fa_vendor_specific"},
    {mip::code::fa_nonzero_ha_required, "fa_nonzero_ha_required"},
    {mip::code::fa_nonzero_home_address_required, "fa_nonzero_home_address_required"},
    {mip::code::fa_missing_nai, "fa_missing_nai"},
    {mip::code::fa_missing_home_agent, "fa_missing_home_agent"},
    {mip::code::fa_missing_home_address, "fa_missing_home_address"},
    {mip::code::fa_unknown_cvse_from_mn, "fa_unknown_cvse_from_mn"},
    {mip::code::fa_unknown_cvse_from_ha, "fa_unknown_cvse_from_ha"},
    {mip::code::fa_invalid_home_agent, "fa_invalid_home_agent"},
    {mip::code::ha_unspecified, "ha_unspecified"},
    {mip::code::ha_prohibited, "ha_prohibited"},
    {mip::code::ha_insufficient_resources, "ha_insufficient_resources"},
    {mip::code::ha_mn_auth_failed, "ha_mn_auth_failed"},
    {mip::code::ha_fa_auth_failed, "ha_fa_auth_failed"},
    {mip::code::ha_identification_mismatch, "ha_identification_mismatch"},
    {mip::code::ha_poorly_formed_request, "ha_poorly_formed_request"},
    {mip::code::ha_too_many_bindings, "ha_too_many_bindings"},
    {mip::code::ha_unknown_ha_address, "ha_unknown_ha_address"},
    {mip::code::ha_reverse_tunnel_unavailable, "ha_reverse_tunnel_unavailable"},
    {mip::code::ha_reverse_tunnel_mandatory, "ha_reverse_tunnel_mandatory"},
    {mip::code::ha_encapsulation_unavailable, "ha_encapsulation_unavailable"},
    {mip::code::ha_unknown_cvse_from_mn, "ha_unknown_cvse_from_mn"},
    {mip::code::ha_unknown_cvse_from_fa, "ha_unknown_cvse_from_fa"},
    {mip::code::ha_udp_encapsulation_unavailable, "ha_udp_encapsulation_unavailable"},
    {mip::code::ha_redirected, "ha_redirected"},
    {mip::code::ha_mn_aaa_auth_failed, "ha_mn_aaa_auth_failed"},
    {mip::code::ha_pmip_unsupported, "ha_pmip_unsupported"},
    {mip::code::ha_pmip_disallowed, "ha_pmip_disallowed"},
};

// The code's name ("accepted", "ha_mn_auth_failed", …), or "" for a code no RFC we know names.
[[nodiscard]] constexpr std::string_view reply_code_name(std::uint8_t code) {
  for (const auto& n : kReplyCodeNames)
    if (n.code == code) return n.name;
  return {};
}

}  // namespace vmroam::wire
