// The home-link capture's filter: a VM's HoA and its IPv6 home addresses, the text checked
// against libpcap's own compiler (pcap_compile on a dead Ethernet handle), and the packets it
// matches run through the compiled program (pcap_offline_filter).
#include "home-agent/home_link_filter.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <string>

#include "common/wire/ethernet.hpp"

namespace vmroam::ha {
namespace {

const Ipv4 kHoa1 = *Ipv4::parse("10.1.0.10");
const Ipv4 kHoa2 = *Ipv4::parse("10.1.0.11");
const Ipv6 kVm6 = *Ipv6::parse("2001:db8:1::10");
const Ipv6 kVm6b = *Ipv6::parse("2001:db8:1::1:10");

TEST(HomeLinkFilter, NamesEachHoaAndItsIpv6HomeAddresses) {
  struct Case {
    const char* description;
    WatchedVms vms;
    std::string want;
  };
  const Case cases[] = {
      {"no VM: nothing", {}, ""},
      {"an IPv4-only VM", {{kHoa1, {}}}, "ip dst host 10.1.0.10"},
      {"a dual-stack VM: its IPv6 after its HoA",
       {{kHoa1, {kVm6, kVm6b}}},
       "ip dst host 10.1.0.10 or ip6 dst host 2001:db8:1::10 or ip6 dst host 2001:db8:1::1:10"},
      {"two VMs in HoA order",
       {{kHoa2, {}}, {kHoa1, {kVm6}}},
       "ip dst host 10.1.0.10 or ip6 dst host 2001:db8:1::10 or ip dst host 10.1.0.11"},
  };
  for (const auto& c : cases) EXPECT_EQ(home_link_filter(c.vms), c.want) << c.description;
}

// An Ethernet frame with an IPv4 (version 4) or IPv6 (version 6) header to `dst`.
Bytes frame_v4(Ipv4 dst) {
  Bytes ip(20, 0);
  ip[0] = 0x45;
  ip[3] = 20;
  ip[8] = 64;
  ip[9] = 17;
  for (int i = 0; i < 4; ++i) ip[16 + i] = static_cast<std::uint8_t>(dst.value() >> (24 - 8 * i));
  return wire::build_ethernet_frame(MacAddress{}, MacAddress{}, 0x0800, ip);
}
Bytes frame_v6(const Ipv6& dst) {
  Bytes ip(40, 0);
  ip[0] = 0x60;
  ip[6] = 59;  // no next header
  ip[7] = 64;
  const auto& octets = dst.bytes();
  std::copy(octets.begin(), octets.end(), ip.begin() + 24);
  return wire::build_ethernet_frame(MacAddress{}, MacAddress{}, 0x86dd, ip);
}

TEST(HomeLinkFilter, CompilesAndMatchesWhatIsSentToTheVmOnly) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  ASSERT_NE(dead, nullptr);
  const std::string filter = home_link_filter({{kHoa1, {kVm6}}});
  bpf_program prog{};
  ASSERT_EQ(pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN), 0) << pcap_geterr(dead);
  auto matches = [&prog](const Bytes& f) {
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    return pcap_offline_filter(&prog, &h, f.data()) != 0;
  };
  EXPECT_TRUE(matches(frame_v4(kHoa1)));
  EXPECT_TRUE(matches(frame_v6(kVm6)));
  EXPECT_FALSE(matches(frame_v4(kHoa2))) << "another VM's HoA";
  EXPECT_FALSE(matches(frame_v6(kVm6b))) << "another IPv6 address of the home /64";
  pcap_freecode(&prog);
  pcap_close(dead);
}

}  // namespace
}  // namespace vmroam::ha
