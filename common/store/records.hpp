// The records the agents keep durably, and the Batch of mutations one event-loop turn
// commits. Plain values, independent of where they are kept: the SQLite Store (store.hpp)
// applies a Batch in one transaction; another backend applies the same ops() in order.
//
// Records know columns, not Mobile IP: enum-like fields are the text the caller gives (e.g.
// "ipip", "active"), times are wall-clock unix milliseconds (monotonic time does not survive a
// restart; the daemon converts), and each record has a `params` JSON object for fields later
// versions add.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/traffic.hpp"

namespace vmroam::store {

// Home agent: a VM the operator registered (docs/api.md POST /v1/vms).
struct VmRecord {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  std::vector<Ipv4> allowed_fas;
  std::uint32_t spi = 0;
  std::string algorithm;
  Bytes key;
  std::optional<std::uint32_t> fa_ha_spi;
  std::string params = "{}";            // JSON object: fields not yet given a column
  std::vector<Ipv6> home_addresses_v6;  // the VM's IPv6 home addresses (/128s), schema v3
  friend bool operator==(const VmRecord&, const VmRecord&) = default;
};

// Home agent: one binding, all of binding::Binding's fields with wall-clock times.
struct BindingRecord {
  Ipv4 home_address;
  Ipv4 care_of_address;
  Ipv4 foreign_agent;
  std::uint16_t lifetime_granted = 0;
  std::uint8_t flags = 0;
  std::string encapsulation = "ipip";
  std::int64_t registered_at_unix_ms = 0;
  std::optional<std::int64_t> expires_at_unix_ms;  // nullopt: infinite lifetime
  std::uint64_t identification = 0;
  std::uint64_t move_seq = 0;
  TrafficCounters counters;  // four columns: packets_in, bytes_in, packets_out, bytes_out
  std::string params = "{}";
  std::vector<Ipv6> home_addresses_v6;  // granted with the binding (RFC 5454 §2.2), schema v3
  friend bool operator==(const BindingRecord&, const BindingRecord&) = default;
};

// Home agent: replay protection per home address (last accepted Identification).
struct ReplayRecord {
  Ipv4 home_address;
  std::uint64_t last_identification = 0;
  friend bool operator==(const ReplayRecord&, const ReplayRecord&) = default;
};

// Foreign agent: one visitor, all of binding::Visitor's fields with wall-clock times.
struct VisitorRecord {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  Ipv4 home_gateway;
  MacAddress home_gateway_mac;
  Ipv4 home_agent;
  std::uint32_t spi = 0;
  std::string algorithm;
  Bytes key;
  std::uint16_t lifetime_requested = 0;
  std::string encapsulation = "ipip";
  std::string state;
  std::optional<std::uint8_t> last_reply_code;
  std::string reason;
  std::uint64_t identification_sent = 0;
  std::optional<std::int64_t> expires_at_unix_ms;
  std::int64_t created_at_unix_ms = 0;
  TrafficCounters counters;  // four columns: packets_in, bytes_in, packets_out, bytes_out
  std::string params = "{}";
  // Schema v2: the VM's IPv6 home addresses, those the HA granted, and its home router's
  // link-local address (its IPv6 default gateway).
  std::vector<Ipv6> home_addresses_v6;
  std::vector<Ipv6> granted_v6;
  std::optional<Ipv6> home_gateway_v6;
  friend bool operator==(const VisitorRecord&, const VisitorRecord&) = default;
};

// Home agent: a registration revocation sent to a foreign agent its VM left and not yet
// acknowledged (RFC 3543 §4), kept so that a restart re-sends it.
struct RevocationRecord {
  std::uint32_t revocation_id = 0;
  Ipv4 foreign_agent;
  Ipv4 home_address;
  Bytes message;  // the authenticated Revocation exactly as sent
  std::int64_t created_at_unix_ms = 0;
  std::string params = "{}";
  friend bool operator==(const RevocationRecord&, const RevocationRecord&) = default;
};

// Mutations gathered during one event-loop turn, applied in order by Store::commit().
// A put replaces the row with the same key (id or home address); a delete of a missing row
// is not an error.
class Batch {
 public:
  void put_vm(VmRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_vm(std::string id) { ops_.emplace_back(DeleteVm{std::move(id)}); }
  void put_binding(BindingRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_binding(Ipv4 home_address) { ops_.emplace_back(DeleteBinding{home_address}); }
  void put_replay(ReplayRecord r) { ops_.emplace_back(r); }
  void delete_replay(Ipv4 home_address) { ops_.emplace_back(DeleteReplay{home_address}); }
  void put_visitor(VisitorRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_visitor(std::string id) { ops_.emplace_back(DeleteVisitor{std::move(id)}); }
  void put_revocation(RevocationRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_revocation(std::uint32_t revocation_id) { ops_.emplace_back(DeleteRevocation{revocation_id}); }

  [[nodiscard]] std::size_t size() const { return ops_.size(); }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  void clear() { ops_.clear(); }

  // The mutation kinds besides the records themselves.
  struct DeleteVm {
    std::string id;
  };
  struct DeleteBinding {
    Ipv4 home_address;
  };
  struct DeleteReplay {
    Ipv4 home_address;
  };
  struct DeleteVisitor {
    std::string id;
  };
  struct DeleteRevocation {
    std::uint32_t revocation_id = 0;
  };

  // One mutation; a store backend applies ops() in order with std::visit.
  using Op = std::variant<VmRecord, DeleteVm, BindingRecord, DeleteBinding, ReplayRecord, DeleteReplay,
                          VisitorRecord, DeleteVisitor, RevocationRecord, DeleteRevocation>;
  [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

// Everything in the store, each table ordered by its key.
struct Snapshot {
  std::vector<VmRecord> vms;
  std::vector<BindingRecord> bindings;
  std::vector<ReplayRecord> replay;
  std::vector<VisitorRecord> visitors;
  std::vector<RevocationRecord> revocations;
};

}  // namespace vmroam::store
