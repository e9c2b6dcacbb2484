// VisitorList: the state transition table, index behaviour, and a differential test of the
// three indexes against a naive std::map model under seeded random operations.
#include "common/binding/visitor_list.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace vmroam::binding {
namespace {

using S = VisitorState;

TEST(VisitorState, TransitionTable) {
  struct Case {
    const char* description;
    S from;
    S to;
    bool expected_ok;
  };
  const Case cases[] = {
      {"activate a prepared visitor", S::prepared, S::registering, true},
      {"abort a prepare", S::prepared, S::aborted, true},
      {"cannot be active without a reply", S::prepared, S::active, false},
      {"cannot fail before sending", S::prepared, S::failed, false},
      {"cannot depart before arriving", S::prepared, S::departed, false},
      {"prepare twice", S::prepared, S::prepared, false},
      {"reply accepted", S::registering, S::active, true},
      {"reply denied or timed out", S::registering, S::failed, true},
      {"abort while the request is out", S::registering, S::aborted, true},
      {"activate twice", S::registering, S::registering, false},
      {"depart while registering", S::registering, S::departed, false},
      {"depart after active", S::active, S::departed, true},
      {"renewal denied", S::active, S::failed, true},
      {"abort after active", S::active, S::aborted, false},
      {"re-activate an active visitor", S::active, S::registering, false},
      {"back to prepared", S::active, S::prepared, false},
      {"retry after failure", S::failed, S::registering, true},
      {"give up after failure", S::failed, S::aborted, true},
      {"failed cannot become active without a request", S::failed, S::active, false},
      {"failed cannot depart", S::failed, S::departed, false},
      {"aborted is final: activate", S::aborted, S::registering, false},
      {"aborted is final: prepare", S::aborted, S::prepared, false},
      {"departed is final: activate", S::departed, S::registering, false},
      {"departed is final: abort", S::departed, S::aborted, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto r = check_transition(c.from, c.to);
    EXPECT_EQ(r.has_value(), c.expected_ok);
    if (!r) {
      EXPECT_EQ(r.error().code, "illegal_transition");
      EXPECT_EQ(r.error().context, std::string(to_string(c.from)) + " -> " + std::string(to_string(c.to)));
    }
  }
}

TEST(VisitorState, NamesRoundTrip) {
  for (S s : {S::prepared, S::registering, S::active, S::failed, S::aborted, S::departed})
    EXPECT_EQ(parse_visitor_state(to_string(s)), s);
  EXPECT_EQ(parse_visitor_state("Active"), std::nullopt);
}

Visitor make(std::string id, std::uint8_t n) {
  Visitor v;
  v.id = std::move(id);
  v.home_address = Ipv4::from_octets(10, 1, 0, n);
  v.mac = MacAddress({0x52, 0x54, 0, 0, 0, n});
  v.home_gateway = Ipv4::from_octets(10, 1, 0, 1);
  v.home_agent = Ipv4::from_octets(192, 0, 2, 1);
  v.spi = 256;
  v.algorithm = "hmac-sha256";
  v.key = Bytes(32, 0xab);
  v.lifetime_requested = 300;
  return v;
}

TEST(VisitorList, AddRejectsDuplicatesOnEveryIndex) {
  struct Case {
    const char* description;
    Visitor input;
    std::string_view expected_code;
  };
  Visitor same_hoa = make("vm-b", 20);
  same_hoa.home_address = Ipv4::from_octets(10, 1, 0, 10);
  Visitor same_mac = make("vm-c", 30);
  same_mac.mac = MacAddress({0x52, 0x54, 0, 0, 0, 10});
  const Case cases[] = {
      {"same id", make("vm-a", 40), "duplicate_id"},
      {"same home address", same_hoa, "duplicate_home_address"},
      {"same MAC", same_mac, "duplicate_mac"},
      {"empty id", make("", 50), "empty_id"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    VisitorList list;
    ASSERT_TRUE(list.add(make("vm-a", 10)));
    auto r = list.add(c.input);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, c.expected_code);
    EXPECT_EQ(list.size(), 1u);
  }
}

TEST(VisitorList, FindsByEveryIndexAndTransitions) {
  VisitorList list;
  ASSERT_TRUE(list.add(make("vm-a", 10)));
  const Visitor* v = list.find_by_mac(MacAddress({0x52, 0x54, 0, 0, 0, 10}));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->id, "vm-a");
  EXPECT_EQ(list.find_by_home_address(Ipv4::from_octets(10, 1, 0, 10)), v);
  ASSERT_TRUE(list.transition("vm-a", S::registering));
  ASSERT_TRUE(list.transition("vm-a", S::active));
  auto bad = list.transition("vm-a", S::aborted);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "illegal_transition");
  EXPECT_EQ(list.find("vm-a")->state, S::active);
  EXPECT_EQ(list.transition("nope", S::active).error().code, "not_found");
  auto m = list.modify("vm-a", [](Visitor& x) {
    x.last_reply_code = 0;
    x.identification_sent = 9;
  });
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->identification_sent, 9u);
  EXPECT_EQ(list.count_in(S::active), 1u);
}

TEST(VisitorListDeathTest, ModifyingAnIndexedFieldAborts) {
  VisitorList list;
  ASSERT_TRUE(list.add(make("vm-a", 10)));
  EXPECT_DEATH((void)list.modify("vm-a", [](Visitor& x) { x.mac = MacAddress(); }), "");
}

TEST(VisitorList, IndexesMatchNaiveModelUnderRandomOperations) {
  for (std::uint32_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<std::uint8_t>(rng() % static_cast<unsigned>(n)); };
    VisitorList list;
    std::map<std::string, Visitor> model;
    const S all[] = {S::prepared, S::registering, S::active, S::failed, S::aborted, S::departed};
    for (int op = 0; op < 12000; ++op) {
      std::string id = "vm-" + std::to_string(pick(30));
      Ipv4 hoa = Ipv4::from_octets(10, 1, 0, pick(40));
      MacAddress mac({0x52, 0x54, 0, 0, 0, pick(40)});
      switch (pick(8)) {
        case 0:
        case 1: {  // add
          Visitor v = make(id, 0);
          v.home_address = hoa;
          v.mac = mac;
          v.state = all[pick(6)];
          v.created_at = TimePoint{} + std::chrono::seconds(op);
          std::string_view want;
          if (model.contains(id)) want = "duplicate_id";
          for (const auto& [k, m] : model)
            if (want.empty() && m.home_address == hoa) want = "duplicate_home_address";
          for (const auto& [k, m] : model)
            if (want.empty() && m.mac == mac) want = "duplicate_mac";
          auto r = list.add(v);
          if (want.empty()) {
            ASSERT_TRUE(r) << r.error().to_string();
            model.emplace(id, v);
          } else {
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().code, want);
          }
          break;
        }
        case 2: {  // remove
          auto got = list.remove(id);
          auto it = model.find(id);
          ASSERT_EQ(got.has_value(), it != model.end());
          if (got) {
            EXPECT_EQ(*got, it->second);
            model.erase(it);
          }
          break;
        }
        case 3:
        case 4: {  // transition
          S to = all[pick(6)];
          auto r = list.transition(id, to);
          auto it = model.find(id);
          if (it == model.end()) {
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().code, "not_found");
          } else {
            ASSERT_EQ(r.has_value(), check_transition(it->second.state, to).has_value());
            if (r) it->second.state = to;
          }
          break;
        }
        case 5: {  // modify non-indexed fields
          std::uint64_t ident = rng();
          auto r = list.modify(id, [&](Visitor& v) {
            v.identification_sent = ident;
            v.counters.packets_in++;
          });
          auto it = model.find(id);
          ASSERT_EQ(r.has_value(), it != model.end());
          if (r) {
            it->second.identification_sent = ident;
            it->second.counters.packets_in++;
          }
          break;
        }
        default: {  // lookups by each index
          const Visitor* by_id = list.find(id);
          auto it = model.find(id);
          ASSERT_EQ(by_id != nullptr, it != model.end());
          if (by_id) {
            EXPECT_EQ(*by_id, it->second);
          }
          const Visitor* want_hoa = nullptr;
          const Visitor* want_mac = nullptr;
          for (const auto& [k, m] : model) {
            if (m.home_address == hoa) want_hoa = &m;
            if (m.mac == mac) want_mac = &m;
          }
          const Visitor* got_hoa = list.find_by_home_address(hoa);
          const Visitor* got_mac = list.find_by_mac(mac);
          ASSERT_EQ(got_hoa != nullptr, want_hoa != nullptr);
          ASSERT_EQ(got_mac != nullptr, want_mac != nullptr);
          if (got_hoa) {
            EXPECT_EQ(*got_hoa, *want_hoa);
          }
          if (got_mac) {
            EXPECT_EQ(*got_mac, *want_mac);
          }
        }
      }
      ASSERT_EQ(list.size(), model.size());
      if (op % 1009 == 0) {
        std::vector<Visitor> got;
        list.for_each([&](const Visitor& v) { got.push_back(v); });
        std::vector<Visitor> want;
        for (const auto& [k, v] : model) want.push_back(v);
        ASSERT_EQ(got, want);
        for (S s : all) {
          std::size_t n = 0;
          for (const auto& [k, v] : model) n += v.state == s;
          EXPECT_EQ(list.count_in(s), n);
        }
      }
    }
  }
}

}  // namespace
}  // namespace vmroam::binding
