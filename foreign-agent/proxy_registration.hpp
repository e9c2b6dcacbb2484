// The foreign agent's proxy registration decisions (RFC 5563 on the RFC 5944 message set).
//
// Pure: values in, bytes/verdicts out; no sockets, clocks or logging (time is a parameter).
//
//   build_proxy_request()  the Registration Request the FA sends on the VM's behalf:
//                          T bit (RFC 3024 §4.1), lifetime, Identification, then extensions
//                          in this order: 147/2 device ID = VM MAC and 147/4 access
//                          technology 802.3 (RFC 5563 §3.2), 47/1 per-node auth method FA-HA
//                          (RFC 5563 §3.1), 144 UDP tunnel request when asked (RFC 3519 §3.1),
//                          137 revocation support (RFC 3543 §3.3), MN-HA (32) when the visitor
//                          has a key (RFC 5563 §3: the proxy computes it), FA-HA (34) last
//                          (RFC 5944 §3.5.4: it covers everything before it).
//   judge_reply()          whether a Registration Reply belongs to the request in flight
//                          (home address, HA and the low 32 bits of Identification, RFC 5944
//                          §5.7) and is authentic (FA-HA, and MN-HA when we sent one): anything
//                          else is ignored, not acted upon (a forged denial must not fail a
//                          move). Then: accepted, denied (code + reason), or resync (133: the
//                          HA's clock is in the reply's high word, RFC 5944 §5.7.1).
//   RetransmitSchedule     RFC 5944 §3.6.3: retransmit with exponential backoff; we start
//                          fast (a handover is waiting) and cap the delay.
//   renewal_delay()        re-register at 2/3 of the granted lifetime (RFC 5944 §3.6: the
//                          MN re-registers before its binding expires).
//   revocation_ack()       RFC 3543 §3: a Registration Revocation verified with the FA-HA key
//                          of the HA that sent it, and the authenticated acknowledgement.
//   fa_ha_for(), mn_ha_of() the keys: from the configuration, from the visitor.
//   home_agent_problem()   RFC 5944 §3.7.2: a Home Agent field the FA must not relay to (it
//                          denies with code 194, Invalid Home Agent Address).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/auth/security_association.hpp"
#include "common/binding/visitor_list.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"
#include "foreign-agent/config.hpp"

namespace vmroam::fa {

struct ProxyRequestParams {
  Ipv4 home_address;
  Ipv4 home_agent;
  Ipv4 care_of_address;        // this FA
  MacAddress mac;              // the VM's MAC: PMIPv4 device ID
  std::uint16_t lifetime = 0;  // 0 deregisters
  std::uint64_t identification = 0;
  bool udp_tunnel = false;  // ask for RFC 3519 UDP tunnelling (extension 144)
  bool revocation_support = true;
  std::optional<auth::SecurityAssociation> mn_ha;  // the visitor's own key, if any
  std::optional<auth::SecurityAssociation> fa_ha;  // the FA-HA key for this HA
  // The VM's IPv6 home addresses: one RFC 5454 §2.1 Prefix Request (/128) each, before the
  // authenticators; not sent when deregistering (lifetime 0 releases them all).
  std::vector<Ipv6> home_addresses_v6;
};

// Errors: the authenticator's ("reserved_spi", "short_key", "long_key"), "no_authentication"
// when neither key is given (the HA would refuse an unauthenticated proxy registration),
// "invalid_home_agent" when home_agent_problem() names one (code 194 when the FA denies).
[[nodiscard]] Result<wire::RegistrationRequest> build_proxy_request(const ProxyRequestParams& p);

// Why `ha` cannot be a Home Agent field the FA relays a request to (RFC 5944 §3.7.2, code 194):
// "unspecified" (0/8), "broadcast" (255.255.255.255), "loopback" (127/8), "multicast"
// (224/4) or "reserved" (240/4); nullopt for a unicast address.
[[nodiscard]] std::optional<std::string_view> home_agent_problem(Ipv4 ha);

// What the FA is waiting for.
struct PendingRequest {
  Ipv4 home_address;
  Ipv4 home_agent;
  std::uint64_t identification = 0;
  bool udp_tunnel = false;
  std::optional<auth::SecurityAssociation> mn_ha;
  std::optional<auth::SecurityAssociation> fa_ha;
  std::vector<Ipv6> home_addresses_v6;  // requested (RFC 5454 §2.1)
};

enum class ReplyOutcome : std::uint8_t {
  ignore,    // not ours / not authentic: keep waiting (and retransmitting)
  accepted,  // codes 0 and 1
  denied,    // any other code except 133
  resync,    // 133 in timestamp style: retry with our clock offset by clock_offset_s
};

struct ReplyVerdict {
  ReplyOutcome outcome = ReplyOutcome::ignore;
  std::uint8_t code = 0;
  std::uint16_t lifetime = 0;       // granted (accepted)
  bool udp_tunnel = false;          // the HA agreed to UDP tunnelling (44, code 0)
  std::int64_t clock_offset_s = 0;  // resync
  std::string_view reason;          // stable name: "accepted", the denial's name, or why ignored
  // accepted: the requested IPv6 home addresses the HA granted (Prefix Reply code 0, RFC 5454
  // §2.2), in the reply's order; a reply for an address we did not ask for is passed over.
  std::vector<Ipv6> granted_v6;
};

// `raw` are the reply's exact received bytes.
[[nodiscard]] ReplyVerdict judge_reply(const wire::RegistrationReply& reply, ByteView raw,
                                       const PendingRequest& p, WallTime now);

// Name of a reply code for people and metrics ("ha_fa_auth_failed", "fa_registration_timeout"…).
[[nodiscard]] std::string_view reply_code_name(std::uint8_t code);

struct RetransmitSchedule {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{3200};
  std::uint32_t attempts = 8;  // transmissions in all, the first included

  // Delay after transmission number `sent` (1-based) before the next one, or nullopt when
  // `sent` transmissions are all we make (then the registration times out: code 78).
  [[nodiscard]] std::optional<std::chrono::milliseconds> after(std::uint32_t sent) const;
};

// When to re-register an accepted registration of `granted` seconds (2/3 of it; at least 1 s).
// Infinite lifetimes (0xFFFF) are never renewed: nullopt.
[[nodiscard]] std::optional<std::chrono::milliseconds> renewal_delay(std::uint16_t granted);

// The request for visitor `v` from care-of address `care_of` (its keys: mn_ha_of(v), and the
// FA-HA key configured for its HA); lifetime 0 deregisters. Errors: build_proxy_request's.
[[nodiscard]] Result<Bytes> build_visitor_request(const binding::Visitor& v, Ipv4 care_of,
                                                  std::uint16_t lifetime, std::uint64_t identification,
                                                  const std::vector<HomeAgentPeer>& has);

// The FA-HA association configured for home agent `ha`, if any.
[[nodiscard]] std::optional<auth::SecurityAssociation> fa_ha_for(const std::vector<HomeAgentPeer>& has,
                                                                 Ipv4 ha);
// The visitor's MN-HA association (RFC 5563 §3: the proxy holds it), if it has a key.
[[nodiscard]] std::optional<auth::SecurityAssociation> mn_ha_of(const binding::Visitor& v);

// The encoded, FA-HA-authenticated acknowledgement of `rev` (its exact bytes `raw`, from
// `src`). Errors: "revocation_auth_failed" (no key for that HA, or it does not verify: the
// revocation is not acted upon), the authenticator's.
[[nodiscard]] Result<Bytes> revocation_ack(const wire::Revocation& rev, ByteView raw, Ipv4 src,
                                           const std::vector<HomeAgentPeer>& has);

}  // namespace vmroam::fa
