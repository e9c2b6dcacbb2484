// Visitor list implementation and the visitor state machine's transition table.
#include "common/binding/visitor_list.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace vmroam::binding {

namespace {

constexpr std::array<std::string_view, 6> kStateNames = {"prepared", "registering", "active",
                                                         "failed",   "aborted",     "departed"};

// kAllowed[from] is the set of states reachable from `from` (bit per state).
constexpr unsigned bit(VisitorState s) { return 1u << static_cast<unsigned>(s); }
constexpr std::array<unsigned, 6> kAllowed = {
    /* prepared    */ bit(VisitorState::registering) | bit(VisitorState::aborted),
    /* registering */ bit(VisitorState::active) | bit(VisitorState::failed) | bit(VisitorState::aborted),
    /* active      */ bit(VisitorState::departed) | bit(VisitorState::failed),
    /* failed      */ bit(VisitorState::registering) | bit(VisitorState::aborted),
    /* aborted     */ 0,
    /* departed    */ 0,
};

}  // namespace

std::string_view to_string(VisitorState s) { return kStateNames.at(static_cast<std::size_t>(s)); }

std::optional<VisitorState> parse_visitor_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) return static_cast<VisitorState>(i);
  return std::nullopt;
}

Result<void> check_transition(VisitorState from, VisitorState to) {
  if (kAllowed.at(static_cast<std::size_t>(from)) & bit(to)) return ok();
  return fail("illegal_transition", std::string(to_string(from)) + " -> " + std::string(to_string(to)));
}

Result<const Visitor*> VisitorList::add(Visitor v) {
  if (v.id.empty()) return fail("empty_id");
  if (by_id_.contains(v.id)) return fail("duplicate_id", v.id);
  if (by_home_address_.contains(v.home_address))
    return fail("duplicate_home_address",
                v.home_address.to_string() + " already used by " + by_home_address_.at(v.home_address)->id);
  if (by_mac_.contains(v.mac))
    return fail("duplicate_mac", v.mac.to_string() + " already used by " + by_mac_.at(v.mac)->id);
  std::string id = v.id;
  auto [it, inserted] = by_id_.emplace(std::move(id), std::move(v));
  Visitor* p = &it->second;
  by_home_address_.emplace(p->home_address, p);
  by_mac_.emplace(p->mac, p);
  return static_cast<const Visitor*>(p);
}

const Visitor* VisitorList::find(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const Visitor* VisitorList::find_by_home_address(Ipv4 home_address) const {
  auto it = by_home_address_.find(home_address);
  return it == by_home_address_.end() ? nullptr : it->second;
}

const Visitor* VisitorList::find_by_mac(const MacAddress& mac) const {
  auto it = by_mac_.find(mac);
  return it == by_mac_.end() ? nullptr : it->second;
}

const Visitor* VisitorList::find_by_home_address_v6(const Ipv6& a) const {
  for (const auto& [id, v] : by_id_)
    if (std::find(v.home_addresses_v6.begin(), v.home_addresses_v6.end(), a) != v.home_addresses_v6.end())
      return &v;
  return nullptr;
}

Result<const Visitor*> VisitorList::transition(std::string_view id, VisitorState to) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return fail("not_found", std::string(id));
  Visitor& v = it->second;
  if (auto r = check_transition(v.state, to); !r)
    return fail(r.error().code, v.id + ": " + r.error().context);
  v.state = to;
  return static_cast<const Visitor*>(&v);
}

Result<const Visitor*> VisitorList::modify(std::string_view id, const std::function<void(Visitor&)>& f) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return fail("not_found", std::string(id));
  Visitor& v = it->second;
  const Ipv4 hoa = v.home_address;
  const MacAddress mac = v.mac;
  const VisitorState state = v.state;
  const std::string key = v.id;
  f(v);
  // Changing an indexed field or the state here is a programming error (can't happen).
  if (v.home_address != hoa || v.mac != mac || v.state != state || v.id != key) std::abort();
  return static_cast<const Visitor*>(&v);
}

std::optional<Visitor> VisitorList::remove(std::string_view id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  by_home_address_.erase(it->second.home_address);
  by_mac_.erase(it->second.mac);
  Visitor v = std::move(it->second);
  by_id_.erase(it);
  return v;
}

std::size_t VisitorList::count_in(VisitorState s) const {
  std::size_t n = 0;
  for (const auto& [id, v] : by_id_) n += v.state == s ? 1 : 0;
  return n;
}

}  // namespace vmroam::binding
