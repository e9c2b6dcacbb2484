// The home agent's registration decisions (RFC 5944 §3.8, RFC 5563, RFC 3519 §3.2, RFC 3024).
//
// Pure: a parsed Registration Request, its exact received bytes, where it came from and the
// time go in; a Verdict comes out — the complete, authenticated Registration Reply and what
// the binding cache should do. The daemon commits the verdict to the store before it sends
// the reply (a reply is an acknowledgement), then changes kernel state.
//
// Checks, in order; the first failure decides the reply code:
//   1. Home Agent field is ours ...................................... else 136
//   2. the home address belongs to a known VM in our home prefix ..... else 129
//   3. the sender is a configured foreign agent, allowed for the VM ... else 129
//      (a co-located/return-home request from the VM itself is allowed without an FA)
//   4. MN-HA authentication (32) when present, or when required and the request is not a
//      PMIPv4 proxy registration that names FA-HA as its per-node method ........ else 131
//   5. FA-HA authentication (34) when present or required by policy or by ext 47 .. else 132
//   6. PMIPv4 device ID (147/2), when present, is the VM's MAC ................ else 129
//   7. Identification: timestamp window + strictly increasing per home address .. else 133
//   8. encapsulation: M or G requested → 139; UDP tunnelling (144) forced while disabled → 142
// Then: lifetime 0, or care-of = our own address, deregisters (returns home); otherwise the
// lifetime granted is min(requested, configured maximum). S (simultaneous bindings) is not
// supported: accepted with code 1 (RFC 5944 §3.4).
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
