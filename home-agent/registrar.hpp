// The home agent's registration decisions (RFC 5944 §3.8, RFC 5563, RFC 3519 §3.2, RFC 3024).
//
// Pure: a parsed Registration Request, its exact received bytes, where it came from and the
// time go in; a Verdict comes out — the complete, authenticated Registration Reply and what
// the binding cache should do. The daemon commits the verdict to the store before it sends
// the reply (a reply is an acknowledgement), then changes kernel state.
//
// Checks, in order, one function each in registrar.cpp; the first denial is the reply code.
// The order is RFC 5944 §3.8.2's: first what selects the security associations (who the
// request is for and through whom), then authentication (§3.8.2.1 a and c), then the
// Identification (§3.8.2.1 b: checked in the context the authenticating SPI selects, so only
// once authenticated), then the other reasons to deny a request (§3.8.2.3). docs/protocol.md "Home agent:
// order of the checks" says why FA-HA comes before the Identification:
//    1. check_home_agent: the Home Agent field is ours (RFC 5944 §3.8.3.2) ........... else 136
//    2. check_vm: the home address belongs to a known VM in our home prefix ........... else 129
//    3. check_foreign_agent: the sender is a configured foreign agent, allowed for the
//       VM (a deregistration from the VM itself, returning home, needs no FA) ......... else 129
//    4. check_pmip_method: PMIPv4 per-node method (47), when present, is FA-HA
//       (RFC 5563 §3.1) ...................................................... else 134 / 149
//    5. check_mn_ha: MN-HA (32) verified when present; required unless the request is a
//       PMIPv4 proxy registration with method FA-HA (RFC 5944 §3.5.2, RFC 5563 §4) ... else 131
//    6. check_fa_ha: FA-HA (34) verified when present; required from an FA by policy or
//       by extension 47 (RFC 5944 §3.5.4) ............................................ else 132
//    7. check_authenticated: at least one authenticator verified ...................... else 131
//    8. check_identification: timestamp window + strictly increasing per home address
//       (RFC 5944 §5.7) .............................................................. else 133
//    9. check_device_id: PMIPv4 device ID (147/2), when present, is the VM's MAC
//       (RFC 5563 §3.2.2) .................................................... else 134 / 129
//   10. check_ipv6_home_addresses: every IPv6 Prefix Request (152/1) is a /128 of the VM's
//       definition, none twice (RFC 5454 §2.1; docs/protocol.md) ............. else 129 / 134
//   11. check_encapsulation: M or G requested (RFC 5944 §3.8.2.3) ......................... 139
//   12. check_udp_tunnelling: RFC 3519 §3.2 extension 144 while disabled and forced, or
//       with an inner encapsulation other than IP-in-IP ..................... 142 (malformed 134)
// Then (accept): lifetime 0, or care-of = our own address, deregisters (returns home), and
// only the binding the request names; otherwise the lifetime granted is min(requested,
// configured maximum), and each requested IPv6 home address is granted with an IPv6 Prefix
// Reply (152/2, code 0) before the authenticators. S (simultaneous bindings) is not supported: accepted with
// code 1 (RFC 5944 §3.4).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/auth/replay.hpp"
#include "common/auth/security_association.hpp"
#include "common/binding/binding_cache.hpp"
#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/wire/registration.hpp"
#include "home-agent/vm.hpp"

namespace vmroam::ha {

struct RegistrarSettings {
  Ipv4 ha_address;
  Ipv4Prefix home_prefix;
  std::uint16_t max_lifetime_s = 600;
  std::chrono::seconds replay_window{7};
  auth::ReplayStyle replay_style = auth::ReplayStyle::timestamp;
  bool mn_ha_required = false;
  bool fa_ha_required = true;
  bool udp_tunnelling = true;
  bool revocation = true;
};

// A foreign agent we accept registrations from, and the FA-HA association shared with it.
struct ForeignAgent {
  Ipv4 address;
  std::optional<auth::SecurityAssociation> fa_ha;
};

struct RequestContext {
  Ipv4 source;  // UDP source address (the FA, or a NAT in front of it)
  std::uint16_t source_port = 0;
  WallTime wall_now{};
  std::uint32_t fresh_nonce = 0;  // nonce replay style: the HA nonce this reply will carry
};

enum class VerdictKind : std::uint8_t {
  bind,       // create/refresh/move the binding (registration accepted)
  unbind,     // remove the binding (deregistration accepted; the VM went home or left)
  unchanged,  // accepted, nothing to change (a deregistration for a care-of no longer bound)
  deny,       // reply with a denial code, nothing changes
};

struct Verdict {
  VerdictKind kind = VerdictKind::deny;
  std::uint8_t code = 0;
  // Stable name for metrics and logs: "accepted", "deregistered", or the denial reason.
  std::string_view reason;
  std::string detail;  // for logs
  wire::RegistrationReply reply;
  Bytes reply_bytes;
  // bind: what to record; the tunnel goes to tunnel_peer:tunnel_port.
  binding::Registration registration;
  Ipv4 tunnel_peer;
  std::uint16_t tunnel_port = 434;
  // Accepted requests: the replay state to persist for this home address.
  auth::ReplayState replay;
  const Vm* vm = nullptr;
};

class Registrar {
 public:
  explicit Registrar(RegistrarSettings settings) : settings_(settings) {}

  void set_settings(RegistrarSettings s) { settings_ = s; }
  [[nodiscard]] const RegistrarSettings& settings() const { return settings_; }
  void set_foreign_agents(std::unordered_map<Ipv4, ForeignAgent> fas) { fas_ = std::move(fas); }
  [[nodiscard]] const ForeignAgent* foreign_agent(Ipv4 a) const {
    auto it = fas_.find(a);
    return it == fas_.end() ? nullptr : &it->second;
  }

  // `raw` are the exact bytes `request` was parsed from (authenticators cover them).
  // `current` is the VM's binding, if any; `replay` its replay state (default when none).
  [[nodiscard]] Verdict decide(const wire::RegistrationRequest& request, ByteView raw,
                               const RequestContext& ctx, const VmDirectory& vms,
                               const binding::Binding* current, const auth::ReplayState& replay) const;

  // A 134 (poorly formed) reply for a request that could not be parsed past its fixed part;
  // nullopt when not even the fixed part is there (nothing to answer to).
  [[nodiscard]] std::optional<Bytes> poorly_formed_reply(ByteView raw) const;

 private:
  RegistrarSettings settings_;
  std::unordered_map<Ipv4, ForeignAgent> fas_;
};

}  // namespace vmroam::ha
