// The home agent's binding cache (RFC 5944 §3.8): home address → care-of address, the
// foreign agent that registered it, the lifetime granted and when it runs out.
//
// Pure: no clocks, sockets or logging; every operation that depends on time takes `now`.
// The daemon owns the timer: after any change it asks next_expiry() and arms one timer for
// that instant; when it fires it calls expire(now) and tears down the kernel state of each
// binding returned. Lifetime 0xFFFF is infinite (RFC 5944 §3.3) and never expires.
// Lifetime 0 is a deregistration (RFC 5944 §3.8.2): the daemon calls remove(), never upsert().
//
// A binding "moves" when a registration arrives for a known home address with a different
// care-of address; the daemon then sends a Registration Revocation (RFC 3543 §3.1) to the
// previous foreign agent, which upsert() reports together with the old binding.
//
// Memory: one hash node per binding plus one ordered node per finite lifetime; see
// bench/binding_memory.cpp (target ≤ 512 B per binding at 100 k bindings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/binding/tunnel.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::binding {

// One mobility binding; the fields follow the RFC 2006 MIP-MIB binding row.
struct Binding {
  Ipv4 home_address;
  Ipv4 care_of_address;
  Ipv4 foreign_agent;                  // the registering FA (source of the request), usually == CoA
  std::uint16_t lifetime_granted = 0;  // seconds; 0xFFFF = infinite
  std::uint8_t flags = 0;              // Registration Request flags byte (RFC 5944 §3.3)
  Encapsulation encapsulation = Encapsulation::ipip;
  TimePoint registered_at{};
  TimePoint expires_at{};            // TimePoint::max() when the lifetime is infinite
  std::uint64_t identification = 0;  // of the accepted request (RFC 5944 §5.7)
  std::uint64_t move_seq = 0;        // incremented each time the care-of address changes
  TrafficCounters counters;
  std::vector<Ipv6> home_addresses_v6;  // IPv6 home addresses granted (RFC 5454 §2.2)

  [[nodiscard]] bool infinite() const { return expires_at == TimePoint::max(); }
  // Time left (zero once expired; TimePoint::max() - now for infinite bindings).
  [[nodiscard]] Duration remaining(TimePoint now) const {
    return expires_at > now ? expires_at - now : Duration::zero();
  }
  friend bool operator==(const Binding&, const Binding&) = default;
};

// What an accepted Registration Request asks the cache to record.
struct Registration {
  Ipv4 home_address;
  Ipv4 care_of_address;
  Ipv4 foreign_agent;
  std::uint16_t lifetime = 0;  // granted lifetime, seconds, > 0; 0xFFFF = infinite
  std::uint8_t flags = 0;
  Encapsulation encapsulation = Encapsulation::ipip;
  std::uint64_t identification = 0;
  std::vector<Ipv6> home_addresses_v6;  // granted with it (RFC 5454 §2.2)
};

enum class UpsertKind : std::uint8_t {
  created,    // no binding existed for the home address
  refreshed,  // same care-of address: lifetime (and possibly flags/encapsulation) renewed
  moved,      // a different care-of address: the old FA must be told (RFC 3543)
};

[[nodiscard]] constexpr const char* to_string(UpsertKind k) {
  switch (k) {
    case UpsertKind::created:
      return "created";
    case UpsertKind::refreshed:
      return "refreshed";
    case UpsertKind::moved:
      return "moved";
  }
  return "created";  // unreachable
}

struct UpsertOutcome {
  UpsertKind kind = UpsertKind::created;
  Binding binding;                  // the binding as it is now
  std::optional<Binding> previous;  // as it was before (refreshed, moved)
};

class BindingCache {
 public:
  struct Counts {
    std::size_t total = 0;
    std::size_t ipip = 0;
    std::size_t udp = 0;
    std::size_t infinite = 0;
    friend bool operator==(const Counts&, const Counts&) = default;
  };

  BindingCache() = default;

  [[nodiscard]] const Binding* lookup(Ipv4 home_address) const;

  // Records an accepted registration at `now`. Counters survive refreshes and moves (the
  // binding is the same VM's). Errors: "zero_lifetime" (a deregistration: use remove()),
  // "zero_home_address", "zero_care_of_address".
  [[nodiscard]] Result<UpsertOutcome> upsert(const Registration& r, TimePoint now);

  // Puts back a binding exactly as it was (start-up restore from the store). Errors:
  // "duplicate_binding", "zero_lifetime", "zero_home_address".
  [[nodiscard]] Result<void> restore(const Binding& b);

  // Deregistration or administrative removal; returns the binding that was removed.
  std::optional<Binding> remove(Ipv4 home_address);

  // Removes and returns every binding whose lifetime has run out (expires_at <= now),
  // earliest first.
  std::vector<Binding> expire(TimePoint now);

  // When the next binding runs out; nullopt when none will (empty or all infinite).
  [[nodiscard]] std::optional<TimePoint> next_expiry() const;

  // Adds data-plane traffic to a binding's counters; false if there is no such binding.
  bool add_traffic(Ipv4 home_address, const TrafficCounters& delta);

  [[nodiscard]] std::size_t size() const { return bindings_.size(); }
  [[nodiscard]] bool empty() const { return bindings_.empty(); }
  [[nodiscard]] Counts counts() const { return counts_; }

  // Every binding, in no particular order (cheap; for the data plane and the daemon).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [hoa, b] : bindings_) f(b);
  }
  // Every binding ordered by home address (for listings).
  [[nodiscard]] std::vector<Binding> snapshot() const;

  void reserve(std::size_t n) { bindings_.reserve(n); }

 private:
  void count(const Binding& b, int delta);
  void index_expiry(const Binding& b);
  void unindex_expiry(const Binding& b);

  std::unordered_map<Ipv4, Binding> bindings_;
  // Finite lifetimes only, ordered by expiry; the home address breaks ties.
  std::set<std::pair<TimePoint, Ipv4>> expiry_;
  Counts counts_;
};

}  // namespace vmroam::binding
