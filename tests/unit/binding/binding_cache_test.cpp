// BindingCache: table tests for upsert outcomes and expiry, and a differential test that
// runs seeded random operation sequences against a naive std::map model.
#include "common/binding/binding_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

namespace vmroam::binding {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1000);
const Ipv4 kHoa = Ipv4::from_octets(10, 1, 0, 10);
const Ipv4 kFa1 = Ipv4::from_octets(192, 0, 2, 1);
const Ipv4 kFa2 = Ipv4::from_octets(192, 0, 2, 2);

Registration reg(Ipv4 coa, std::uint16_t lifetime, std::uint64_t id = 1) {
  return Registration{kHoa, coa, coa, lifetime, 0x02, Encapsulation::ipip, id};
}

TEST(BindingCache, UpsertReportsCreatedRefreshedMoved) {
  struct Step {
    const char* description;
    Ipv4 coa;
    UpsertKind expected_kind;
    std::uint64_t expected_move_seq;
    std::optional<Ipv4> expected_previous_fa;
  };
  const Step steps[] = {
      {"first registration creates", kFa1, UpsertKind::created, 0, std::nullopt},
      {"same CoA refreshes", kFa1, UpsertKind::refreshed, 0, kFa1},
      {"new CoA moves", kFa2, UpsertKind::moved, 1, kFa1},
      {"moving back moves again", kFa1, UpsertKind::moved, 2, kFa2},
  };
  BindingCache cache;
  TimePoint now = kT0;
  std::uint64_t id = 1;
  for (const auto& s : steps) {
    SCOPED_TRACE(s.description);
    auto out = cache.upsert(reg(s.coa, 100, id++), now);
    ASSERT_TRUE(out) << out.error().to_string();
    EXPECT_EQ(out->kind, s.expected_kind);
    EXPECT_EQ(out->binding.move_seq, s.expected_move_seq);
    EXPECT_EQ(out->binding.care_of_address, s.coa);
    EXPECT_EQ(out->binding.expires_at, now + seconds(100));
    ASSERT_EQ(out->previous.has_value(), s.expected_previous_fa.has_value());
    if (out->previous) {
      EXPECT_EQ(out->previous->foreign_agent, *s.expected_previous_fa);
    }
    now += seconds(10);
  }
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BindingCache, RejectsBadRegistrations) {
  struct Case {
    const char* description;
    Registration input;
    std::string_view expected_code;
  };
  const Case cases[] = {
      {"lifetime 0 is a deregistration", reg(kFa1, 0), "zero_lifetime"},
      {"no home address", Registration{Ipv4{}, kFa1, kFa1, 10, 0, Encapsulation::ipip, 1},
       "zero_home_address"},
      {"no care-of address", reg(Ipv4{}, 10), "zero_care_of_address"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    BindingCache cache;
    auto out = cache.upsert(c.input, kT0);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, c.expected_code);
    EXPECT_TRUE(cache.empty());
  }
}

TEST(BindingCache, ExpiresAtLifetimeAndNeverWhenInfinite) {
  BindingCache cache;
  ASSERT_TRUE(cache.upsert(reg(kFa1, 30), kT0));
  auto inf = reg(kFa2, 0xFFFF);
  inf.home_address = Ipv4::from_octets(10, 1, 0, 11);
  ASSERT_TRUE(cache.upsert(inf, kT0));
  EXPECT_EQ(cache.counts().infinite, 1u);
  EXPECT_EQ(cache.next_expiry(), kT0 + seconds(30));
  EXPECT_TRUE(cache.expire(kT0 + seconds(29)).empty());
  auto gone = cache.expire(kT0 + seconds(30));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].home_address, kHoa);
  EXPECT_EQ(cache.next_expiry(), std::nullopt);
  EXPECT_TRUE(cache.expire(TimePoint::max() - seconds(1)).empty());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(BindingCache, RefreshPushesExpiryAndKeepsCounters) {
  BindingCache cache;
  ASSERT_TRUE(cache.upsert(reg(kFa1, 30), kT0));
  ASSERT_TRUE(cache.add_traffic(kHoa, {1, 100, 2, 200}));
  ASSERT_TRUE(cache.upsert(reg(kFa2, 30), kT0 + seconds(20)));
  EXPECT_TRUE(cache.expire(kT0 + seconds(30)).empty());
  EXPECT_EQ(cache.lookup(kHoa)->counters, (TrafficCounters{1, 100, 2, 200}));
  EXPECT_FALSE(cache.add_traffic(kFa1, {1, 1, 1, 1}));
}

TEST(BindingCache, RestoreRoundTripsAndRejectsDuplicates) {
  BindingCache a;
  auto out = a.upsert(reg(kFa1, 300, 77), kT0);
  ASSERT_TRUE(out);
  BindingCache b;
  ASSERT_TRUE(b.restore(out->binding));
  EXPECT_EQ(*b.lookup(kHoa), out->binding);
  EXPECT_EQ(b.next_expiry(), a.next_expiry());
  auto dup = b.restore(out->binding);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, "duplicate_binding");
}

// ---- differential test ---------------------------------------------------------------------

struct Model {
  std::map<Ipv4, Binding> m;

  std::vector<Binding> expire(TimePoint now) {
    std::vector<Binding> out;
    for (auto it = m.begin(); it != m.end();) {
      if (it->second.expires_at != TimePoint::max() && it->second.expires_at <= now) {
        out.push_back(it->second);
        it = m.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
      return std::pair(a.expires_at, a.home_address) < std::pair(b.expires_at, b.home_address);
    });
    return out;
  }
  std::optional<TimePoint> next_expiry() const {
    std::optional<TimePoint> best;
    for (const auto& [k, b] : m)
      if (b.expires_at != TimePoint::max() && (!best || b.expires_at < *best)) best = b.expires_at;
    return best;
  }
  BindingCache::Counts counts() const {
    BindingCache::Counts c;
    for (const auto& [k, b] : m) {
      ++c.total;
      ++(b.encapsulation == Encapsulation::udp ? c.udp : c.ipip);
      if (b.expires_at == TimePoint::max()) ++c.infinite;
    }
    return c;
  }
};

TEST(BindingCache, MatchesNaiveModelUnderRandomOperations) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    BindingCache cache;
    Model model;
    TimePoint now = kT0;
    std::uint64_t ident = 0;
    for (int op = 0; op < 12000; ++op) {
      Ipv4 hoa =
          Ipv4::from_octets(10, 1, static_cast<std::uint8_t>(pick(2)), static_cast<std::uint8_t>(pick(40)));
      switch (pick(10)) {
        case 0:
        case 1:
        case 2:
        case 3: {  // upsert
          Ipv4 coa = Ipv4::from_octets(192, 0, 2, static_cast<std::uint8_t>(1 + pick(4)));
          int l = pick(20);
          std::uint16_t lifetime = l == 0 ? 0 : l == 1 ? 0xFFFF : static_cast<std::uint16_t>(pick(120) + 1);
          Registration r{hoa,
                         coa,
                         pick(5) == 0 ? Ipv4::from_octets(198, 51, 100, 1) : coa,
                         lifetime,
                         static_cast<std::uint8_t>(rng()),
                         pick(3) == 0 ? Encapsulation::udp : Encapsulation::ipip,
                         ++ident};
          auto out = cache.upsert(r, now);
          if (lifetime == 0) {
            ASSERT_FALSE(out);
            break;
          }
          ASSERT_TRUE(out);
          auto it = model.m.find(hoa);
          UpsertKind kind = UpsertKind::created;
          Binding nb;
          if (it != model.m.end()) {
            ASSERT_TRUE(out->previous);
            EXPECT_EQ(*out->previous, it->second);
            nb = it->second;
            kind = nb.care_of_address == coa ? UpsertKind::refreshed : UpsertKind::moved;
          } else {
            EXPECT_FALSE(out->previous);
          }
          nb.home_address = hoa;
          nb.care_of_address = coa;
          nb.foreign_agent = r.foreign_agent;
          nb.lifetime_granted = lifetime;
          nb.flags = r.flags;
          nb.encapsulation = r.encapsulation;
          nb.registered_at = now;
          nb.expires_at = lifetime == 0xFFFF ? TimePoint::max() : now + seconds(lifetime);
          nb.identification = r.identification;
          if (kind == UpsertKind::moved) ++nb.move_seq;
          model.m[hoa] = nb;
          EXPECT_EQ(out->kind, kind);
          EXPECT_EQ(out->binding, nb);
          break;
        }
        case 4: {  // remove
          auto got = cache.remove(hoa);
          auto it = model.m.find(hoa);
          ASSERT_EQ(got.has_value(), it != model.m.end());
          if (got) {
            EXPECT_EQ(*got, it->second);
            model.m.erase(it);
          }
          break;
        }
        case 5:
        case 6: {  // time passes, timer fires
          // Whole seconds half the time, so that `now` often lands exactly on an expiry.
          now += pick(2) ? Duration(seconds(pick(15))) : Duration(std::chrono::milliseconds(pick(15000)));
          auto got = cache.expire(now);
          auto want = model.expire(now);
          ASSERT_EQ(got, want);
          break;
        }
        case 7: {  // data plane counts traffic
          TrafficCounters d{static_cast<std::uint64_t>(pick(5)), static_cast<std::uint64_t>(pick(9000)), 1,
                            60};
          bool known = model.m.contains(hoa);
          EXPECT_EQ(cache.add_traffic(hoa, d), known);
          if (known) {
            auto& c = model.m[hoa].counters;
            c.packets_in += d.packets_in;
            c.bytes_in += d.bytes_in;
            c.packets_out += d.packets_out;
            c.bytes_out += d.bytes_out;
          }
          break;
        }
        default: {  // lookup
          const Binding* b = cache.lookup(hoa);
          auto it = model.m.find(hoa);
          ASSERT_EQ(b != nullptr, it != model.m.end());
          if (b) {
            EXPECT_EQ(*b, it->second);
          }
        }
      }
      ASSERT_EQ(cache.size(), model.m.size());
      ASSERT_EQ(cache.next_expiry(), model.next_expiry());
      ASSERT_EQ(cache.counts(), model.counts());
      if (op % 997 == 0) {
        std::vector<Binding> want;
        for (const auto& [k, b] : model.m) want.push_back(b);
        ASSERT_EQ(cache.snapshot(), want);
      }
    }
  }
}

}  // namespace
}  // namespace vmroam::binding
