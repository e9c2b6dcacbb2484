// Visitor ⇄ store record: a round trip keeps every field; unknown names load safely.
#include "foreign-agent/visitor_record.hpp"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.hpp"

namespace vmroam::fa {
namespace {

using namespace std::chrono_literals;

TEST(VisitorRecord, RoundTrip) {
  test::FakeClock clock;
  binding::Visitor v;
  v.id = "vm1";
  v.home_address = Ipv4::from_octets(10, 1, 0, 10);
  v.mac = *MacAddress::parse("52:54:00:12:34:56");
  v.home_gateway = Ipv4::from_octets(10, 1, 0, 1);
  v.home_gateway_mac = *MacAddress::parse("02:00:00:00:01:01");
  v.home_agent = Ipv4::from_octets(192, 0, 2, 1);
  v.spi = 300;
  v.algorithm = "hmac-md5";
  v.key = Bytes(16, 7);
  v.lifetime_requested = 120;
  v.encapsulation = binding::Encapsulation::udp;
  v.state = binding::VisitorState::active;
  v.last_reply_code = 0;
  v.identification_sent = 0xE8000000'00000042ull;
  v.created_at = clock.now();
  v.expires_at = clock.now() + 300s;
  v.counters = {1, 2, 3, 4};
  v.home_addresses_v6 = {*Ipv6::parse("2001:db8:1::10"), *Ipv6::parse("2001:db8:1::11")};
  v.granted_v6 = {*Ipv6::parse("2001:db8:1::11")};
  v.home_gateway_v6 = *Ipv6::parse("fe80::1");
  const auto back = from_record(to_record(v, clock), clock);
  EXPECT_EQ(back, v);
}

TEST(VisitorRecord, UnknownNamesLoadAsFailedIpip) {
  test::FakeClock clock;
  store::VisitorRecord r;
  r.id = "vm1";
  r.state = "hibernating";
  r.encapsulation = "gre";
  const auto v = from_record(r, clock);
  EXPECT_EQ(v.state, binding::VisitorState::failed);
  EXPECT_EQ(v.encapsulation, binding::Encapsulation::ipip);
  EXPECT_EQ(v.expires_at, TimePoint{}) << "no expiry recorded, none invented";
}

TEST(VisitorRecord, ChangeOfIsAPutOrADeletion) {
  test::FakeClock clock;
  binding::VisitorList visitors;
  binding::Visitor v;
  v.id = "vm1";
  v.home_address = Ipv4::from_octets(10, 1, 0, 10);
  v.mac = *MacAddress::parse("52:54:00:12:34:56");
  ASSERT_TRUE(visitors.add(v));
  const auto put = change_of(visitors, "vm1", clock);
  ASSERT_TRUE(put.record);
  EXPECT_EQ(put.record->home_address, v.home_address);
  const auto gone = change_of(visitors, "vm2", clock);
  EXPECT_EQ(gone.id, "vm2");
  EXPECT_FALSE(gone.record);
}

}  // namespace
}  // namespace vmroam::fa
