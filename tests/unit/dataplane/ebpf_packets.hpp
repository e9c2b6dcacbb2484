// Hand-built packets for the eBPF fixture tables: Ethernet, IPv4 (with its checksum), IPv6,
// UDP, ICMP and ICMPv6 echo and the RFC 3519 data header, written out field by field so the expected
// packets do not come from the code under test.
#pragma once

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vmroam::test {

using Packet = std::vector<std::uint8_t>;

inline constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

inline void put16(Packet& p, std::size_t at, unsigned v) {
  p[at] = static_cast<std::uint8_t>(v >> 8);
  p[at + 1] = static_cast<std::uint8_t>(v);
}
inline void put32(Packet& p, std::size_t at, std::uint32_t v) {
  put16(p, at, v >> 16);
  put16(p, at + 2, v & 0xffff);
}

inline Packet operator+(Packet a, const Packet& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

using Mac = std::array<std::uint8_t, 6>;
inline constexpr Mac kOurMac = {2, 0, 0, 0, 0, 1};
inline constexpr Mac kGatewayMac = {2, 0, 0, 0, 0, 2};
inline constexpr Mac kSenderMac = {2, 0, 0, 0, 0, 0x99};

inline Packet eth(const Mac& dst, const Mac& src, unsigned type = 0x0800) {
  Packet p(dst.begin(), dst.end());
  p.insert(p.end(), src.begin(), src.end());
  p.resize(14);
  put16(p, 12, type);
  return p;
}

inline unsigned ip_checksum(const Packet& p, std::size_t at) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += static_cast<std::uint32_t>(p[at + i] << 8 | p[at + i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

struct Ip {
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  unsigned proto = 1;
  unsigned ttl = 64;
  unsigned tos = 0;
  unsigned frag = 0x4000;  // DF
  unsigned id = 0x1234;
};

// An IPv4 header (no options) in front of `payload`; total length and checksum filled in.
inline Packet ipv4(const Ip& h, const Packet& payload) {
  Packet p(20);
  p[0] = 0x45;
  p[1] = static_cast<std::uint8_t>(h.tos);
  put16(p, 2, static_cast<unsigned>(20 + payload.size()));
  put16(p, 4, h.id);
  put16(p, 6, h.frag);
  p[8] = static_cast<std::uint8_t>(h.ttl);
  p[9] = static_cast<std::uint8_t>(h.proto);
  put32(p, 12, h.src);
  put32(p, 16, h.dst);
  put16(p, 10, ip_checksum(p, 0));
  return p + payload;
}

// The IPv6 fixed header (RFC 8200 §3) in front of `payload`; payload length filled in.
using Ip6Addr = std::array<std::uint8_t, 16>;
inline Ip6Addr ip6(const char* text) {
  Ip6Addr a{};
  if (inet_pton(AF_INET6, text, a.data()) != 1) a.fill(0xee);
  return a;
}
struct Ip6 {
  Ip6Addr src{};
  Ip6Addr dst{};
  unsigned next = 58;  // ICMPv6
  unsigned hops = 64;
  unsigned tclass = 0;
};
inline Packet ipv6(const Ip6& h, const Packet& payload) {
  Packet p(40);
  p[0] = static_cast<std::uint8_t>(0x60 | h.tclass >> 4);
  p[1] = static_cast<std::uint8_t>((h.tclass & 0xf) << 4);
  put16(p, 4, static_cast<unsigned>(payload.size()));
  p[6] = static_cast<std::uint8_t>(h.next);
  p[7] = static_cast<std::uint8_t>(h.hops);
  std::copy(h.src.begin(), h.src.end(), p.begin() + 8);
  std::copy(h.dst.begin(), h.dst.end(), p.begin() + 24);
  return p + payload;
}

inline Packet icmp6_echo(std::size_t data_bytes = 16) {
  Packet p(8 + data_bytes, 0xcd);
  p[0] = 128;  // echo request (RFC 4443 §4.1)
  p[1] = 0;
  put16(p, 2, 0);  // checksum: not looked at by the programs
  put32(p, 4, 0x00010001);
  return p;
}

inline Packet icmp_echo(std::size_t data_bytes = 16) {
  Packet p(8 + data_bytes, 0xab);
  p[0] = 8;
  p[1] = 0;
  put16(p, 2, 0);  // checksum: not looked at by the programs
  put32(p, 4, 0x00010001);
  return p;
}

inline Packet udp(unsigned sport, unsigned dport, const Packet& payload) {
  Packet p(8);
  put16(p, 0, sport);
  put16(p, 2, dport);
  put16(p, 4, static_cast<unsigned>(8 + payload.size()));
  put16(p, 6, 0);
  return p + payload;
}

// A TCP header (20 bytes, ACK) and `data_bytes` of payload.
inline Packet tcp(std::size_t data_bytes) {
  Packet p(20 + data_bytes, 0x5a);
  put16(p, 0, 40000);
  put16(p, 2, 5001);
  put32(p, 4, 1);
  put32(p, 8, 1);
  p[12] = 0x50;
  p[13] = 0x10;
  put16(p, 14, 65535);
  put16(p, 16, 0);
  put16(p, 18, 0);
  return p;
}

inline Packet mip_data_header() { return {4, 4, 0, 0}; }    // RFC 3519 §3.1: type 4, IPv4, reserved
inline Packet mip_data_header6() { return {4, 41, 0, 0}; }  // next header IPv6

inline std::string hex(const Packet& p) {
  static const char* kDigits = "0123456789abcdef";
  constexpr std::size_t kShown = 96;  // headers; payloads are filler
  std::string s;
  for (std::size_t i = 0; i < p.size() && i < kShown; ++i) {
    if (i && i % 16 == 0) s += '\n';
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 0xf];
    s += ' ';
  }
  if (p.size() > kShown) s += "... (" + std::to_string(p.size()) + " bytes)";
  return s;
}

}  // namespace vmroam::test
