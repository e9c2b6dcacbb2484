// common/binding/tunnel: the encapsulation names that configs, the API and the durable store
// spell (docs/api.md: "ipip", "udp"): exact, case-sensitive, round-tripping, and nothing else
// accepted; the traffic counters compare field by field. Compile-time where the code is
// constexpr, so a change that breaks it fails the build.
#include <gtest/gtest.h>

#include "common/binding/tunnel.hpp"

namespace vmroam::binding {
namespace {

static_assert(to_string(Encapsulation::ipip) == "ipip");
static_assert(to_string(Encapsulation::udp) == "udp");
static_assert(parse_encapsulation("udp") == Encapsulation::udp);
static_assert(!parse_encapsulation("gre").has_value());

TEST(Encapsulation, NamesRoundTrip) {
  for (auto e : {Encapsulation::ipip, Encapsulation::udp}) {
    auto back = parse_encapsulation(to_string(e));
    ASSERT_TRUE(back.has_value()) << to_string(e);
    EXPECT_EQ(*back, e);
  }
}

TEST(Encapsulation, OnlyTheExactNamesParse) {
  for (auto bad : {"", "IPIP", "Udp", "ip-in-ip", "ipip ", " udp", "gre", "vxlan", "udp\n"})
    EXPECT_FALSE(parse_encapsulation(bad).has_value()) << '"' << bad << '"';
}

TEST(Encapsulation, IpipIsTheDefaultValue) {
  // A zero-initialised record (e.g. a store row without the column) means IP-in-IP, RFC 5944's
  // default encapsulation.
  EXPECT_EQ(Encapsulation{}, Encapsulation::ipip);
}

TEST(TrafficCounters, CompareEveryField) {
  const TrafficCounters zero;
  EXPECT_EQ(zero, TrafficCounters{});
  TrafficCounters c;
  c.packets_in = 1;
  EXPECT_NE(c, zero);
  c = {};
  c.bytes_in = 1;
  EXPECT_NE(c, zero);
  c = {};
  c.packets_out = 1;
  EXPECT_NE(c, zero);
  c = {};
  c.bytes_out = 1;
  EXPECT_NE(c, zero);
  EXPECT_EQ((TrafficCounters{1, 2, 3, 4}), (TrafficCounters{1, 2, 3, 4}));
}

}  // namespace
}  // namespace vmroam::binding
