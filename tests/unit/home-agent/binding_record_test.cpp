// Binding ⇄ store record (home-agent/binding_record): the record holds wall-clock unix
// milliseconds, the cache monotonic time, and a round trip keeps every field; the tunnel
// endpoint goes into the record's params only when it is not the care-of address on 434 (a
// NAT, RFC 3519 §3.2.1), and params that do not parse leave the care-of address on 434.
#include "home-agent/binding_record.hpp"

#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.hpp"

namespace vmroam::ha {
namespace {

using namespace std::chrono_literals;

binding::Binding sample(const Clock& clock) {
  binding::Binding b;
  b.home_address = Ipv4::from_octets(10, 1, 0, 10);
  b.care_of_address = Ipv4::from_octets(10, 2, 0, 1);
  b.foreign_agent = Ipv4::from_octets(192, 0, 2, 2);
  b.lifetime_granted = 600;
  b.flags = 0x02;
  b.encapsulation = binding::Encapsulation::udp;
  b.registered_at = clock.now();
  b.expires_at = clock.now() + 600s;
  b.identification = 0xE8000000'00000042ull;
  b.move_seq = 3;
  b.counters = {1, 2, 3, 4};
  return b;
}

TEST(BindingRecord, RoundTripKeepsEveryField) {
  test::FakeClock clock;
  const binding::Binding b = sample(clock);
  const dataplane::TunnelEndpoint ep{b.care_of_address, b.encapsulation, mip::kRegistrationPort};
  const store::BindingRecord r = to_record(b, ep, clock);
  // The record's times are the wall clock's, 600 s apart.
  EXPECT_EQ(r.registered_at_unix_ms, unix_ms_from(clock, clock.now()));
  ASSERT_TRUE(r.expires_at_unix_ms);
  EXPECT_EQ(*r.expires_at_unix_ms - r.registered_at_unix_ms, 600'000);
  EXPECT_EQ(r.encapsulation, "udp");
  EXPECT_EQ(r.params, store::BindingRecord{}.params);  // the care-of address on 434: nothing to add
  EXPECT_EQ(from_record(r, clock), b);
}

TEST(BindingRecord, InfiniteLifetimeHasNoExpiry) {
  test::FakeClock clock;
  binding::Binding b = sample(clock);
  b.lifetime_granted = mip::kLifetimeInfinite;
  b.expires_at = TimePoint::max();
  const store::BindingRecord r = to_record(b, {b.care_of_address}, clock);
  EXPECT_FALSE(r.expires_at_unix_ms);
  EXPECT_TRUE(from_record(r, clock).infinite());
}

TEST(BindingRecord, EndpointBehindANatIsKeptInParams) {
  test::FakeClock clock;
  const binding::Binding b = sample(clock);
  const dataplane::TunnelEndpoint nat{Ipv4::from_octets(198, 51, 100, 7), b.encapsulation, 40000};
  const store::BindingRecord r = to_record(b, nat, clock);
  EXPECT_NE(r.params, store::BindingRecord{}.params);
  EXPECT_EQ(endpoint_from_record(r, from_record(r, clock)), nat);
}

TEST(BindingRecord, ParamsThatDoNotParseLeaveTheCareOfAddress) {
  test::FakeClock clock;
  const binding::Binding b = sample(clock);
  const dataplane::TunnelEndpoint plain{b.care_of_address, b.encapsulation, mip::kRegistrationPort};
  for (const char* params :
       {"", "not json", "[]", R"({"tunnel_peer": 7})", R"({"tunnel_peer": "x.y"})", R"({"tunnel_port": 0})",
        R"({"tunnel_port": 70000})", R"({"tunnel_port": "434"})"}) {
    SCOPED_TRACE(params);
    store::BindingRecord r = to_record(b, plain, clock);
    r.params = params;
    EXPECT_EQ(endpoint_from_record(r, b), plain);
  }
}

}  // namespace
}  // namespace vmroam::ha
