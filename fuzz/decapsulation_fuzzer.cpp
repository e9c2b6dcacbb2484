// Fuzz target: the tunnel exit (IP in IP, RFC 2003; IPv6 in IPv4, RFC 4213; UDP tunnel data,
// RFC 3519 §3.3) and the IPv4/IPv6/UDP/ICMP header parsers beneath it.
//
// The input is tried as a whole IPv4 packet (parse_ipv4, parse_udp_datagram, parse_icmp,
// ipip_decapsulate, ipv6_in_ipv4_decapsulate), as an IPv6 packet (parse_ipv6) and as a UDP
// payload (udp_tunnel_decapsulate). Beyond "no crash, no over-read" it checks what a data path
// relies on, aborting if any fails:
//   * every view returned lies inside the input;
//   * a decapsulated inner packet is itself a valid IPv4 or IPv6 packet that fills the view;
//   * re-encapsulating an accepted inner packet and decapsulating it again gives back the
//     same bytes (round trip).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/core/bytes.hpp"
#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/udp_tunnel.hpp"

namespace {

using vmroam::ByteView;

void require(bool condition) {
  if (!condition) std::abort();
}

bool inside(ByteView part, ByteView whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// An accepted IPv6 inner packet: parses, fills its view, survives both encapsulations.
void check_inner6(ByteView inner, vmroam::Ipv4 outer_src, vmroam::Ipv4 outer_dst) {
  auto h = vmroam::wire::parse_ipv6(inner);
  require(h.has_value());
  require(h->total_length() == inner.size());
  static std::array<std::uint8_t, vmroam::wire::kIpv4MaxPacketSize + 64> buffer;
  auto u = vmroam::wire::udp_tunnel_encapsulate(inner, buffer);
  require(u.has_value());
  require(buffer[1] == 41);
  auto back = vmroam::wire::udp_tunnel_decapsulate(ByteView(buffer.data(), *u));
  require(back.has_value());
  require(equal(*back, inner));
  auto n = vmroam::wire::ipv6_in_ipv4_encapsulate(inner, {outer_src, outer_dst}, buffer);
  if (!n) return;  // too big for an outer header
  auto again = vmroam::wire::ipv6_in_ipv4_decapsulate(ByteView(buffer.data(), *n));
  require(again.has_value());
  require(again->outer_src == outer_src && again->outer_dst == outer_dst);
  require(equal(again->inner, inner));
}

// An accepted inner packet must parse, fill its view, and survive a round trip.
void check_inner(ByteView inner, vmroam::Ipv4 outer_src, vmroam::Ipv4 outer_dst) {
  if (vmroam::wire::ip_version(inner) == 6) {
    check_inner6(inner, outer_src, outer_dst);
    return;
  }
  auto h = vmroam::wire::parse_ipv4(inner);
  require(h.has_value());
  require(h->total_length == inner.size());

  static std::array<std::uint8_t, vmroam::wire::kIpv4MaxPacketSize + 64> buffer;
  auto u = vmroam::wire::udp_tunnel_encapsulate(inner, buffer);
  require(u.has_value());
  auto back = vmroam::wire::udp_tunnel_decapsulate(ByteView(buffer.data(), *u));
  require(back.has_value());
  require(equal(*back, inner));

  auto n = vmroam::wire::ipip_encapsulate(inner, {outer_src, outer_dst}, buffer);
  if (!n) return;  // too big for another outer header: a legitimate refusal
  auto again = vmroam::wire::ipip_decapsulate(ByteView(buffer.data(), *n));
  // Decapsulation also refuses inner sources equal to the outer destination (a loop).
  if (!again) return;
  require(again->outer_src == outer_src && again->outer_dst == outer_dst);
  require(equal(again->inner, inner));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  if (auto ip = vmroam::wire::parse_ipv4(input)) {
    require(ip->header_length >= vmroam::wire::kIpv4MinHeaderSize);
    require(ip->total_length <= size);
    require(inside(vmroam::wire::ipv4_payload(input, *ip), input));
    if (auto udp = vmroam::wire::parse_udp_datagram(input)) require(inside(udp->payload, input));
    if (auto icmp = vmroam::wire::parse_icmp(vmroam::wire::ipv4_payload(input, *ip))) {
      require(inside(icmp->body, input));
    }
  }

  if (auto d = vmroam::wire::ipip_decapsulate(input)) {
    require(inside(d->inner, input));
    check_inner(d->inner, d->outer_src, d->outer_dst);
  }

  if (auto d = vmroam::wire::ipv6_in_ipv4_decapsulate(input)) {
    require(inside(d->inner, input));
    require(vmroam::wire::ip_version(d->inner) == 6);
    check_inner(d->inner, d->outer_src, d->outer_dst);
  }

  if (auto ip6 = vmroam::wire::parse_ipv6(input)) require(ip6->total_length() <= size);

  if (auto inner = vmroam::wire::udp_tunnel_decapsulate(input)) {
    require(inside(*inner, input));
    check_inner(*inner, vmroam::Ipv4::from_octets(10, 1, 0, 1), vmroam::Ipv4::from_octets(10, 2, 0, 1));
  }
  return 0;
}
