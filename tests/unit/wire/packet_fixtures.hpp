// Shared packet fixtures of the common/wire tests: known-good bytes produced independently
// with scapy 2.x under /usr/bin/python3, e.g.
//   raw(IP(src="10.1.0.5", dst="192.0.2.1", id=0, flags=0, ttl=64)
//       / UDP(sport=434, dport=434) / Raw(bytes([1,2,3,4,5]))).hex()
// so our checksums are compared against another implementation, not against themselves.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/hex.hpp"
#include "common/wire/ipv4.hpp"

namespace vmroam::wire::fixtures {

// Bytes from hex with spaces and newlines allowed; a typo in a fixture aborts the test binary.
inline Bytes hex(std::string_view s) {
  std::string clean;
  for (char c : s) {
    if (c != ' ' && c != '\n') clean += c;
  }
  auto b = from_hex(clean);
  if (!b) std::abort();
  return *b;
}

inline Ipv4 ip(std::string_view s) { return *Ipv4::parse(s); }
inline MacAddress mac(std::string_view s) { return *MacAddress::parse(s); }

// scapy: UDP 10.1.0.5:434 -> 192.0.2.1:434, payload 01..05, id 0, TTL 64.
inline const Bytes kUdp = hex("45000021000000004011aec50a010005c000020101b201b2000d27630102030405");
// scapy: ICMP echo 198.51.100.7 -> 10.1.0.5, TOS 0x10, DF, TTL 63, id 0x4242, "ping".
inline const Bytes kInner = hex("45100020424240003f01c54ac63364070a0100050800192d0001000170696e67");
// scapy: IPv6(src 2001:db8:1::10, dst 2001:db8:2::1, tc 0x10, hlim 63)/ICMPv6 echo "ping".
inline const Bytes kInner6 =
    hex("61000000000c3a3f20010db800010000000000000000001020010db8000200000000000000000001"
        "800045600001000170696e67");
// scapy: kInner6 in IPv6-in-IPv4 (protocol 41) 192.0.2.1 -> 203.0.113.9, id 7, TTL 64, TOS 0x10.
inline const Bytes kSixInFour =
    hex("451000480007000040297c6bc0000201cb007109"
        "61000000000c3a3f20010db800010000000000000000001020010db8000200000000000000000001"
        "800045600001000170696e67");
// scapy: kInner in IP-in-IP 192.0.2.1 -> 203.0.113.9, id 7, TTL 64, TOS and DF copied.
inline const Bytes kIpip =
    hex("451000340007400040043ca4c0000201cb007109"
        "45100020424240003f01c54ac63364070a0100050800192d0001000170696e67");

// Rewrites the header checksum after a test mutates a header field.
inline void fix_ipv4_checksum(Bytes& p, std::size_t at = 0) {
  std::size_t ihl = static_cast<std::size_t>(p[at] & 0x0f) * 4;
  p[at + 10] = 0;
  p[at + 11] = 0;
  auto c = internet_checksum(ByteView(p).subspan(at, ihl));
  p[at + 10] = static_cast<std::uint8_t>(c >> 8);
  p[at + 11] = static_cast<std::uint8_t>(c);
}

}  // namespace vmroam::wire::fixtures
