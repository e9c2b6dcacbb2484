// The foreign agent's visitor list (RFC 5944 §3.7.1): the VMs this FA serves or is about to
// serve, registered on their behalf by proxy (RFC 5563 §3). Indexed by VM id (the API's
// key), by home address (delivery and reverse tunnelling, RFC 3024) and by MAC (QEMU's
// self-announce RARP names only the MAC; RFC 5563 device ID = MAC).
//
// Pure: no clocks, sockets or logging; time is a parameter.
//
// Life of a visitor (docs/api.md "Visitor states"):
//
//   prepared ──activate──▶ registering ──reply 0──▶ active ──depart──▶ departed
//      │                     │    ▲                   │
//      │ abort               │    └─── retry ───┐     │ renewal denied / lifetime out
//      ▼                     ▼ denial / timeout │     ▼
//   aborted ◀────abort──── failed ──────────────┘   failed
//      ▲                     │
//      └─────── abort ───────┘ (registering may also abort: activation had not succeeded)
//
// Abort means "undo a prepare" and is refused once the registration succeeded (a VM that
// runs here must depart, so the HA gets a deregistration). aborted and departed are final;
// the daemon removes such entries when it no longer needs them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/binding/tunnel.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::binding {

enum class VisitorState : std::uint8_t { prepared, registering, active, failed, aborted, departed };

[[nodiscard]] std::string_view to_string(VisitorState s);
[[nodiscard]] std::optional<VisitorState> parse_visitor_state(std::string_view s);

// Whether a visitor may go from `from` to `to`. Error "illegal_transition" with context
// such as "active -> aborted".
[[nodiscard]] Result<void> check_transition(VisitorState from, VisitorState to);

struct Visitor {
  std::string id;  // the VM's id in the API
  Ipv4 home_address;
  MacAddress mac;
  Ipv4 home_gateway;  // the VM's default gateway at home; the FA answers ARP for it
  MacAddress home_gateway_mac;
  Ipv4 home_agent;
  std::uint32_t spi = 0;  // MN-HA (proxy) security association, RFC 5563 §3
  std::string algorithm;  // "hmac-sha256" | "hmac-md5"
  Bytes key;
  std::uint16_t lifetime_requested = 0;  // seconds
  Encapsulation encapsulation = Encapsulation::ipip;
  VisitorState state = VisitorState::prepared;
  std::optional<std::uint8_t> last_reply_code;  // RFC 5944 §3.4 code of the last reply
  std::string reason;                           // why it failed, for people
  std::uint64_t identification_sent = 0;        // of the last request sent (matches the reply)
  TimePoint expires_at{};                       // registration expiry once active
  TimePoint created_at{};
  TrafficCounters counters;
  // Dual-stack VMs (docs/protocol.md "Dual-stack VMs"): the IPv6 home addresses registered
  // for it (RFC 5454 §2.1), those the HA granted (§2.2), and its IPv6 default gateway at home
  // (the home router's link-local address), for which the FA answers Neighbor Solicitations.
  std::vector<Ipv6> home_addresses_v6;
  std::vector<Ipv6> granted_v6;
  std::optional<Ipv6> home_gateway_v6;
  friend bool operator==(const Visitor&, const Visitor&) = default;
};

class VisitorList {
 public:
  VisitorList() = default;
  VisitorList(const VisitorList&) = delete;  // the indexes hold pointers into the map
  VisitorList& operator=(const VisitorList&) = delete;

  // Adds a visitor as given (state, created_at and all). The API's prepare sets state
  // prepared and created_at = now; start-up restore passes stored visitors through. Errors:
  // "empty_id", "duplicate_id", "duplicate_home_address", "duplicate_mac".
  [[nodiscard]] Result<const Visitor*> add(Visitor v);

  [[nodiscard]] const Visitor* find(std::string_view id) const;
  [[nodiscard]] const Visitor* find_by_home_address(Ipv4 home_address) const;
  [[nodiscard]] const Visitor* find_by_mac(const MacAddress& mac) const;
  // The visitor holding `a` among its IPv6 home addresses (a scan: few visitors, rare calls).
  [[nodiscard]] const Visitor* find_by_home_address_v6(const Ipv6& a) const;

  // Moves a visitor to another state. Errors: "not_found", "illegal_transition".
  [[nodiscard]] Result<const Visitor*> transition(std::string_view id, VisitorState to);

  // Changes a visitor's other fields in place (reply code, identification, expiry,
  // counters …). `f` must not change id, home_address, mac or state (the indexes and the
  // transition rules depend on them): doing so aborts. Error: "not_found".
  [[nodiscard]] Result<const Visitor*> modify(std::string_view id, const std::function<void(Visitor&)>& f);

  std::optional<Visitor> remove(std::string_view id);

  [[nodiscard]] std::size_t size() const { return by_id_.size(); }
  [[nodiscard]] bool empty() const { return by_id_.empty(); }
  [[nodiscard]] std::size_t count_in(VisitorState s) const;

  // Visits every visitor in id order.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [id, v] : by_id_) f(v);
  }

 private:
  std::map<std::string, Visitor, std::less<>> by_id_;
  // Secondary indexes point at map nodes (std::map nodes never move).
  std::unordered_map<Ipv4, Visitor*> by_home_address_;
  std::map<MacAddress, Visitor*> by_mac_;
};

}  // namespace vmroam::binding
