// Agent Advertisement and Agent Solicitation (RFC 5944 §2, RFC 1256); see the header.
#include "common/wire/agent_advertisement.hpp"

#include <string>

#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::wire {
namespace {

constexpr std::size_t kSolicitationBody = 4;  // reserved (RFC 1256 §3)

// What build_agent_advertisement refuses (see the header).
Result<void> check_advertisement(const AgentAdvertisement& adv) {
  if (adv.code != mip::advert::kCodeNormal && adv.code != mip::advert::kCodeNotRouter) {
    return fail("bad_code", "advertisement code " + std::to_string(adv.code));
  }
  if (adv.routers.size() > 255) {
    return fail("too_many_routers", std::to_string(adv.routers.size()) + " router addresses");
  }
  if (adv.care_of_addresses.size() > kMaxCareOfAddresses) {
    return fail("too_many_care_of",
                std::to_string(adv.care_of_addresses.size()) + " care-of addresses, at most 62 fit");
  }
  if (adv.prefix_lengths) {
    if (adv.prefix_lengths->size() != adv.routers.size()) {
      return fail("prefix_count_mismatch", std::to_string(adv.prefix_lengths->size()) +
                                               " prefix lengths for " + std::to_string(adv.routers.size()) +
                                               " router addresses");
    }
    for (auto p : *adv.prefix_lengths) {
      if (p > 32) return fail("bad_prefix_length", "prefix length " + std::to_string(p));
    }
  }
  if (adv.challenge && (adv.challenge->empty() || adv.challenge->size() > 255)) {
    return fail("bad_challenge", "challenge of " + std::to_string(adv.challenge->size()) + " bytes");
  }
  return {};
}

}  // namespace

Result<Bytes> build_agent_advertisement(const AgentAdvertisement& adv) {
  if (auto ok = check_advertisement(adv); !ok) return fail(ok.error());
  Bytes body;
  ByteWriter w(body);
  // RFC 1256 §3 Router Advertisement body after type/code/checksum.
  w.u8(static_cast<std::uint8_t>(adv.routers.size()));
  w.u8(kRouterAddrEntryWords);
  w.u16(adv.router_lifetime);
  for (const auto& r : adv.routers) {
    w.u32(r.address.value());
    w.u32(static_cast<std::uint32_t>(r.preference));
  }
  // RFC 5944 §2.1.1 Mobility Agent Advertisement extension.
  w.u8(mip::ext::agent_advertisement);
  w.u8(static_cast<std::uint8_t>(kAgentExtFixedLength + 4 * adv.care_of_addresses.size()));
  w.u16(adv.sequence);
  w.u16(adv.registration_lifetime);
  w.u16(adv.flags & static_cast<std::uint16_t>(~kAdvertFlagsReservedMask));  // reserved: sent 0
  for (auto coa : adv.care_of_addresses) w.u32(coa.value());
  // RFC 5944 §2.1.2 Prefix-Lengths extension.
  if (adv.prefix_lengths) {
    w.u8(mip::ext::prefix_lengths);
    w.u8(static_cast<std::uint8_t>(adv.prefix_lengths->size()));
    for (auto p : *adv.prefix_lengths) w.u8(p);
  }
  if (adv.challenge) {
    w.u8(kExtChallenge);
    w.u8(static_cast<std::uint8_t>(adv.challenge->size()));
    w.bytes(*adv.challenge);
  }
  return build_icmp(mip::advert::kIcmpRouterAdvertisement, adv.code, body);
}

namespace {

// RFC 1256 §3: the header after type/code/checksum and the router address entries.
Result<void> parse_router_addresses(ByteReader& r, AgentAdvertisement& adv) {
  const std::uint8_t num_addrs = r.u8();
  const std::uint8_t entry_words = r.u8();
  adv.router_lifetime = r.u16();
  if (!r.ok()) return fail("truncated", "router advertisement header");
  // Entries carry at least address and preference; a larger size would hold fields a later
  // version adds, which we skip.
  if (entry_words < kRouterAddrEntryWords) {
    return fail("bad_entry_size", "address entry size " + std::to_string(entry_words));
  }
  for (std::size_t i = 0; i < num_addrs; ++i) {
    RouterAddress ra;
    ra.address = Ipv4(r.u32());
    ra.preference = static_cast<std::int32_t>(r.u32());
    r.skip(static_cast<std::size_t>(entry_words - kRouterAddrEntryWords) * 4);
    adv.routers.push_back(ra);
  }
  if (!r.ok()) {
    return fail("truncated",
                std::to_string(num_addrs) + " router addresses of " + std::to_string(entry_words) + " words");
  }
  return {};
}

// RFC 5944 §2.1.1 Mobility Agent Advertisement extension (type 16).
Result<void> parse_agent_extension(ByteView data, AgentAdvertisement& adv) {
  const std::size_t length = data.size();
  if (length < kAgentExtFixedLength || (length - kAgentExtFixedLength) % 4 != 0) {
    return fail("bad_extension_length", "extension 16 length " + std::to_string(length) + " is not 6 + 4N");
  }
  ByteReader e(data);
  adv.sequence = e.u16();
  adv.registration_lifetime = e.u16();
  // RFC 5944 §2.1.1: reserved bits are ignored on reception, so they never reach the struct
  // (what we read, we write back unchanged).
  adv.flags = e.u16() & static_cast<std::uint16_t>(~kAdvertFlagsReservedMask);
  while (!e.at_end()) adv.care_of_addresses.push_back(Ipv4(e.u32()));
  return {};
}

// RFC 5944 §2.1.2 Prefix-Lengths extension (type 19): Length = Num Addrs, one prefix length
// per router address.
Result<void> parse_prefix_lengths(ByteView data, AgentAdvertisement& adv) {
  if (adv.prefix_lengths) return fail("duplicate_extension", "second extension 19");
  if (data.size() != adv.routers.size()) {
    return fail("prefix_count_mismatch", std::to_string(data.size()) + " prefix lengths for " +
                                             std::to_string(adv.routers.size()) + " router addresses");
  }
  std::vector<std::uint8_t> prefixes(data.begin(), data.end());
  for (auto p : prefixes) {
    if (p > 32) return fail("bad_prefix_length", "prefix length " + std::to_string(p));
  }
  adv.prefix_lengths = std::move(prefixes);
  return {};
}

// One extension of type `type` at ICMP offset `at`.
Result<void> parse_extension(std::uint8_t type, ByteView data, std::size_t at, bool& seen_agent,
                             AgentAdvertisement& adv) {
  switch (type) {
    case mip::ext::agent_advertisement:
      if (seen_agent) return fail("duplicate_extension", "second extension 16");
      seen_agent = true;
      return parse_agent_extension(data, adv);
    case mip::ext::prefix_lengths:
      return parse_prefix_lengths(data, adv);
    case kExtChallenge:
      if (adv.challenge) return fail("duplicate_extension", "second extension 24");
      if (data.empty()) return fail("bad_extension_length", "empty challenge");
      adv.challenge = Bytes(data.begin(), data.end());
      return {};
    default:
      // RFC 5944 §1.9: an unknown extension 0–127 makes the whole message unusable;
      // 128–255 are skipped.
      if (!mip::ext::is_skippable(type)) {
        return fail("unknown_extension",
                    "extension " + std::to_string(type) + " at offset " + std::to_string(at));
      }
      return {};
  }
}

}  // namespace

Result<AgentAdvertisement> parse_agent_advertisement(ByteView icmp) {
  VMROAM_TRY(IcmpMessage m, parse_icmp(icmp));
  if (m.type != mip::advert::kIcmpRouterAdvertisement) {
    return fail("not_router_advertisement", "ICMP type " + std::to_string(m.type));
  }
  if (m.code != mip::advert::kCodeNormal && m.code != mip::advert::kCodeNotRouter) {
    return fail("bad_code", "advertisement code " + std::to_string(m.code));
  }
  ByteReader r(m.body);
  AgentAdvertisement adv;
  adv.code = m.code;
  if (auto ok = parse_router_addresses(r, adv); !ok) return fail(ok.error());
  bool seen_agent = false;
  while (!r.at_end()) {
    const std::size_t at = r.offset() + kIcmpHeaderSize;
    const std::uint8_t type = r.u8();
    if (type == mip::ext::one_byte_padding) continue;  // §2.1.3: no length byte
    const std::uint8_t length = r.u8();
    const ByteView data = r.bytes(length);
    if (!r.ok()) {
      return fail("truncated", "extension " + std::to_string(type) + " at offset " + std::to_string(at) +
                                   " claims " + std::to_string(length) + " bytes");
    }
    if (auto ok = parse_extension(type, data, at, seen_agent, adv); !ok) return fail(ok.error());
  }
  if (!seen_agent) {
    return fail("not_agent_advertisement", "router advertisement without extension 16");
  }
  return adv;
}

Result<Bytes> build_agent_advertisement_packet(Ipv4 src, Ipv4 dst, const AgentAdvertisement& adv) {
  VMROAM_TRY(Bytes icmp, build_agent_advertisement(adv));
  Ipv4Params ip{src, dst, mip::kIpProtoIcmp, kAdvertisementTtl, 0, 0, false};
  return build_ipv4_packet(ip, icmp);
}

Bytes build_agent_solicitation() {
  const std::uint8_t reserved[kSolicitationBody] = {0, 0, 0, 0};
  return build_icmp(mip::advert::kIcmpRouterSolicitation, 0, reserved);
}

Result<void> parse_agent_solicitation(ByteView icmp) {
  VMROAM_TRY(IcmpMessage m, parse_icmp(icmp));
  if (m.type != mip::advert::kIcmpRouterSolicitation) {
    return fail("not_router_solicitation", "ICMP type " + std::to_string(m.type));
  }
  if (m.code != 0) return fail("bad_code", "solicitation code " + std::to_string(m.code));
  // RFC 1256 §5.1: ICMP length must be 8 or more octets.
  if (m.body.size() < kSolicitationBody) {
    return fail("truncated", "router solicitation of " + std::to_string(icmp.size()) + " bytes");
  }
  return ok();
}

Bytes build_agent_solicitation_packet(Ipv4 src, Ipv4 dst) {
  Ipv4Params ip{src, dst, mip::kIpProtoIcmp, mip::advert::kSolicitationTtl, 0, 0, false};
  return build_ipv4_packet(ip, build_agent_solicitation());
}

}  // namespace vmroam::wire
