// Binding cache implementation: a hash map for lookups plus an ordered expiry index so that
// expire() and next_expiry() cost O(expired · log n) and O(1).
#include "common/binding/binding_cache.hpp"

#include <algorithm>
#include <chrono>

#include "common/wire/mobile_ip.hpp"

namespace vmroam::binding {

namespace {

TimePoint expiry_for(std::uint16_t lifetime, TimePoint now) {
  if (lifetime == mip::kLifetimeInfinite) return TimePoint::max();
  return now + std::chrono::seconds(lifetime);
}

}  // namespace

const Binding* BindingCache::lookup(Ipv4 home_address) const {
  auto it = bindings_.find(home_address);
  return it == bindings_.end() ? nullptr : &it->second;
}

void BindingCache::count(const Binding& b, int delta) {
  auto apply = [delta](std::size_t& n) { n = delta > 0 ? n + 1 : n - 1; };
  apply(counts_.total);
  apply(b.encapsulation == Encapsulation::udp ? counts_.udp : counts_.ipip);
  if (b.infinite()) apply(counts_.infinite);
}

void BindingCache::index_expiry(const Binding& b) {
  if (!b.infinite()) expiry_.emplace(b.expires_at, b.home_address);
}

void BindingCache::unindex_expiry(const Binding& b) {
  if (!b.infinite()) expiry_.erase({b.expires_at, b.home_address});
}

Result<UpsertOutcome> BindingCache::upsert(const Registration& r, TimePoint now) {
  if (r.lifetime == mip::kLifetimeDeregister)
    return fail("zero_lifetime", "lifetime 0 is a deregistration for " + r.home_address.to_string());
  if (r.home_address.is_zero()) return fail("zero_home_address");
  if (r.care_of_address.is_zero()) return fail("zero_care_of_address", "for " + r.home_address.to_string());

  auto [it, inserted] = bindings_.try_emplace(r.home_address);
  Binding& b = it->second;
  UpsertOutcome out;
  if (inserted) {
    out.kind = UpsertKind::created;
  } else {
    out.previous = b;
    out.kind = b.care_of_address == r.care_of_address ? UpsertKind::refreshed : UpsertKind::moved;
    unindex_expiry(b);
    count(b, -1);
  }
  b.home_address = r.home_address;
  b.care_of_address = r.care_of_address;
  b.foreign_agent = r.foreign_agent;
  b.lifetime_granted = r.lifetime;
  b.flags = r.flags;
  b.encapsulation = r.encapsulation;
  b.registered_at = now;
  b.expires_at = expiry_for(r.lifetime, now);
  b.identification = r.identification;
  b.home_addresses_v6 = r.home_addresses_v6;
  if (out.kind == UpsertKind::moved) ++b.move_seq;
  index_expiry(b);
  count(b, +1);
  out.binding = b;
  return out;
}

Result<void> BindingCache::restore(const Binding& b) {
  if (b.lifetime_granted == mip::kLifetimeDeregister)
    return fail("zero_lifetime", "restored binding for " + b.home_address.to_string());
  if (b.home_address.is_zero()) return fail("zero_home_address");
  auto [it, inserted] = bindings_.try_emplace(b.home_address, b);
  if (!inserted) return fail("duplicate_binding", b.home_address.to_string());
  index_expiry(b);
  count(b, +1);
  return ok();
}

std::optional<Binding> BindingCache::remove(Ipv4 home_address) {
  auto it = bindings_.find(home_address);
  if (it == bindings_.end()) return std::nullopt;
  Binding b = it->second;
  bindings_.erase(it);
  unindex_expiry(b);
  count(b, -1);
  return b;
}

std::vector<Binding> BindingCache::expire(TimePoint now) {
  std::vector<Binding> out;
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    Ipv4 hoa = expiry_.begin()->second;
    auto it = bindings_.find(hoa);
    if (it == bindings_.end()) std::abort();  // the index only names live bindings
    out.push_back(it->second);
    bindings_.erase(it);
    expiry_.erase(expiry_.begin());
    count(out.back(), -1);
  }
  return out;
}

std::optional<TimePoint> BindingCache::next_expiry() const {
  if (expiry_.empty()) return std::nullopt;
  return expiry_.begin()->first;
}

bool BindingCache::add_traffic(Ipv4 home_address, const TrafficCounters& delta) {
  auto it = bindings_.find(home_address);
  if (it == bindings_.end()) return false;
  auto& c = it->second.counters;
  c.packets_in += delta.packets_in;
  c.bytes_in += delta.bytes_in;
  c.packets_out += delta.packets_out;
  c.bytes_out += delta.bytes_out;
  return true;
}

std::vector<Binding> BindingCache::snapshot() const {
  std::vector<Binding> out;
  out.reserve(bindings_.size());
  for (const auto& [hoa, b] : bindings_) out.push_back(b);
  std::sort(out.begin(), out.end(),
            [](const Binding& a, const Binding& b) { return a.home_address < b.home_address; });
  return out;
}

}  // namespace vmroam::binding
