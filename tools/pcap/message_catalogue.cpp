// The sample frames of message_catalogue.hpp. Every byte comes from common/wire builders and
// common/auth; this file only chooses values and records them.
#include "tools/pcap/message_catalogue.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <utility>

#include "common/auth/authenticator.hpp"
#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/hex.hpp"
#include "common/wire/agent_advertisement.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/ipip.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/mobile_ip.hpp"
#include "common/wire/registration.hpp"
#include "common/wire/revocation.hpp"
#include "common/wire/udp_tunnel.hpp"

namespace vmroam::pcap {
namespace {

using Json = nlohmann::ordered_json;

const Ipv4 kHomeAddress = Ipv4::from_octets(10, 1, 0, 10);
const Ipv4 kHomeAgent = Ipv4::from_octets(10, 1, 0, 1);
const Ipv4 kForeignAgent = Ipv4::from_octets(10, 2, 0, 1);  // the care-of address
const Ipv4 kOldForeignAgent = Ipv4::from_octets(10, 3, 0, 1);
const Ipv4 kCorrespondent = Ipv4::from_octets(192, 0, 2, 7);
// The VM's IPv6 home addresses, /128s from the home /64 (RFC 5454 §2, docs/protocol.md).
const Ipv6 kHomeAddress6a{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}};
const Ipv6 kHomeAddress6b{{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11}};
const MacAddress kVmMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const MacAddress kHaMac{{0x02, 0x00, 0x00, 0x00, 0x01, 0x01}};
const MacAddress kFaMac{{0x02, 0x00, 0x00, 0x00, 0x02, 0x01}};
// 2023-11-14 as NTP seconds; the fraction varies per sample.
constexpr std::uint64_t kIdentBase = 0xE8FE1A2B00000000ull;

constexpr std::uint32_t kMd5Spi = 0x1000;
constexpr std::uint32_t kSha256Spi = 0x2000;
constexpr std::uint32_t kFaHaSpi = 0x3000;

auth::SecurityAssociation md5_sa() {
  return {kMd5Spi, auth::Algorithm::hmac_md5, *from_hex("00112233445566778899aabbccddeeff")};
}
auth::SecurityAssociation sha256_sa() {
  Bytes key;
  for (std::uint8_t i = 0; i < 32; ++i) key.push_back(i);
  return {kSha256Spi, auth::Algorithm::hmac_sha256, key};
}
auth::SecurityAssociation fa_ha_sa() {
  Bytes key(32, 0x5a);
  return {kFaHaSpi, auth::Algorithm::hmac_sha256, key};
}

// Samples are fixed; a builder failing on them is a bug in this file or in common/wire.
template <typename T>
T must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "message_catalogue: %s\n", r.error().to_string().c_str());
    std::abort();
  }
  return std::move(r).value();
}
void must(Result<void> r) {
  if (!r) {
    std::fprintf(stderr, "message_catalogue: %s\n", r.error().to_string().c_str());
    std::abort();
  }
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

Bytes udp_frame(MacAddress src_mac, MacAddress dst_mac, Ipv4 src, Ipv4 dst, ByteView payload) {
  return wire::build_ethernet_frame(
      dst_mac, src_mac, mip::kEtherTypeIpv4,
      wire::build_udp_datagram(src, mip::kRegistrationPort, dst, mip::kRegistrationPort, payload));
}

// Wireshark fields every extension list shows: the type of each, and the SPI and
// authenticator of each authentication extension.
void expect_extensions(Json& t, const wire::ExtensionList& list) {
  Json types = Json::array(), spis = Json::array(), auths = Json::array();
  for (const auto& e : list) {
    types.push_back(e.type);
    if (e.type == mip::ext::mn_ha_auth || e.type == mip::ext::mn_fa_auth || e.type == mip::ext::fa_ha_auth) {
      auto a = must(wire::AuthExtension::from(e));
      spis.push_back(a.spi);
      auths.push_back(to_hex(a.authenticator));
    }
  }
  t["mip.ext.type"] = types;
  if (!spis.empty()) {
    t["mip.auth.spi"] = spis;
    t["mip.auth.auth"] = auths;
  }
}

// One field as the catalogue expects to see it: its name in the sample's JSON (nullptr: none,
// a flag tshark shows apart) and its tshark field (mip.*).
struct Shown {
  const char* key;
  const char* tshark;
  Json value;
};

// A registration message's expectations: kind and Type, then `fields` in wire order, each in
// the JSON and under its tshark name, then the extensions' tshark fields.
Json expected(const char* kind, int type, std::initializer_list<Shown> fields,
              const wire::ExtensionList& list) {
  Json j;
  j["kind"] = kind;
  j["type"] = type;
  Json t;
  t["mip.type"] = type;
  for (const Shown& f : fields) {
    if (f.key) j[f.key] = f.value;
    t[f.tshark] = f.value;
  }
  expect_extensions(t, list);
  j["tshark"] = std::move(t);
  return j;
}

int bit(bool on) { return on ? 1 : 0; }

Json request_expected(const wire::RegistrationRequest& m) {
  return expected("registration_request", 1,
                  {{"flags", "mip.flags", m.flags},
                   {nullptr, "mip.s", bit(m.simultaneous_bindings())},
                   {nullptr, "mip.b", bit(m.broadcast())},
                   {nullptr, "mip.d", bit(m.decapsulation_by_mn())},
                   {nullptr, "mip.m", bit(m.minimal_encapsulation())},
                   {nullptr, "mip.g", bit(m.gre())},
                   {nullptr, "mip.t", bit(m.reverse_tunnel())},
                   {"lifetime", "mip.life", m.lifetime},
                   {"home_address", "mip.homeaddr", m.home_address.to_string()},
                   {"home_agent", "mip.haaddr", m.home_agent.to_string()},
                   {"care_of_address", "mip.coa", m.care_of_address.to_string()},
                   {"identification", "mip.ident", hex16(m.identification)}},
                  m.extensions);
}

Json reply_expected(const wire::RegistrationReply& m) {
  return expected("registration_reply", 3,
                  {{"code", "mip.code", m.code},
                   {"lifetime", "mip.life", m.lifetime},
                   {"home_address", "mip.homeaddr", m.home_address.to_string()},
                   {"home_agent", "mip.haaddr", m.home_agent.to_string()},
                   {"identification", "mip.ident", hex16(m.identification)}},
                  m.extensions);
}

wire::RegistrationRequest base_request(std::uint8_t flags, std::uint16_t lifetime, std::uint64_t ident) {
  wire::RegistrationRequest m;
  m.flags = flags;
  m.lifetime = lifetime;
  m.home_address = kHomeAddress;
  m.home_agent = kHomeAgent;
  m.care_of_address = kForeignAgent;
  m.identification = ident;
  return m;
}

// What the oracles read back from the type-152 extensions of a message (scapy parses them
// by hand; Wireshark only names the type).
Json dsmip_expected(const wire::ExtensionList& list) {
  Json d = Json::array();
  for (const auto& q : must(wire::ipv6_prefix_requests(list)))
    d.push_back({{"sub_type", mip::dsmip::prefix_request},
                 {"prefix", q.prefix.to_string() + "/" + std::to_string(q.prefix_length)}});
  for (const auto& p : must(wire::ipv6_prefix_replies(list)))
    d.push_back({{"sub_type", mip::dsmip::prefix_reply},
                 {"code", p.code},
                 {"prefix", p.prefix.to_string() + "/" + std::to_string(p.prefix_length)}});
  return d;
}

// The proxy registration of a dual-stack VM: one IPv6 Prefix Request (RFC 5454 §2.1) per IPv6
// home address, before the authenticators that cover them.
void add_dual_stack_request(std::vector<SampleFrame>& out) {
  auto m = base_request(mip::request_flag::T, 1800, kIdentBase + 101);
  m.append(wire::PmipPerNodeAuth{mip::pmip::auth_fa_ha}.to_extension());
  m.append(must(wire::PmipDeviceId::ethernet(kVmMac).to_extension()));
  m.append(wire::Ipv6PrefixRequest{128, kHomeAddress6a}.to_extension());
  m.append(wire::Ipv6PrefixRequest{128, kHomeAddress6b}.to_extension());
  must(auth::append_auth(m, mip::ext::mn_ha_auth, md5_sa()));
  must(auth::append_auth(m, mip::ext::fa_ha_auth, fa_ha_sa()));
  Json j = request_expected(m);
  j["dsmip"] = dsmip_expected(m.extensions);
  out.push_back({"proxy request, dual stack: two IPv6 Prefix Requests (RFC 5454 152), MN-HA + FA-HA",
                 udp_frame(kFaMac, kHaMac, kForeignAgent, kHomeAgent, wire::encode(m)), j});
}

void add_requests(std::vector<SampleFrame>& out) {
  namespace f = mip::request_flag;
  struct Case {
    const char* description;
    std::uint8_t flags;
    std::uint16_t lifetime;
  };
  const Case cases[] = {
      {"request, no flags", 0, 1800},
      {"request, T (reverse tunnel)", f::T, 1800},
      {"request, S", f::S, 600},
      {"request, B", f::B, 600},
      {"request, D", f::D, 600},
      {"request, M", f::M, 600},
      {"request, G", f::G, 600},
      {"request, S T", f::S | f::T, 65535},
      {"request, S B D M G T", f::S | f::B | f::D | f::M | f::G | f::T, 300},
      {"deregistration, T", f::T, 0},
  };
  std::uint64_t n = 1;
  for (const auto& c : cases) {
    auto m = base_request(c.flags, c.lifetime, kIdentBase + n);
    must(auth::append_auth(m, mip::ext::mn_ha_auth, n % 2 ? md5_sa() : sha256_sa()));
    const Bytes payload = wire::encode(m);
    out.push_back(
        {c.description, udp_frame(kFaMac, kHaMac, kForeignAgent, kHomeAgent, payload), request_expected(m)});
    ++n;
  }

  // The proxy registration an FA sends for a VM (RFC 5563): PMIPv4 extensions, UDP tunnelling
  // and revocation support, MN-HA (HMAC-MD5) then FA-HA (HMAC-SHA-256) last.
  auto m = base_request(f::T, 1800, kIdentBase + 100);
  m.append(wire::PmipPerNodeAuth{mip::pmip::auth_fa_ha}.to_extension());
  m.append(must(wire::PmipDeviceId::ethernet(kVmMac).to_extension()));
  m.append(must(wire::PmipInterfaceId{Bytes{0x00, 0x00, 0x00, 0x01}}.to_extension()));
  m.append(wire::PmipAccessTechnology{mip::pmip::access_802_3}.to_extension());
  m.append(wire::UdpTunnelRequest{0, mip::udp_tunnel::request_flag_F, mip::kIpProtoIpip}.to_extension());
  m.append(wire::RevocationSupport{mip::revocation::support_flag_I, 0x65536f00}.to_extension());
  const std::string nai = "vm-10@home.example";
  m.append(must(wire::MnNai{Bytes(nai.begin(), nai.end())}.to_extension()));
  must(auth::append_auth(m, mip::ext::mn_ha_auth, md5_sa()));
  must(auth::append_auth(m, mip::ext::fa_ha_auth, fa_ha_sa()));
  Json j = request_expected(m);
  Json& t = j["tshark"];
  t["mip.ext.pmipv4nonskipext.subtype"] = mip::pmip::per_node_auth_method;
  t["mip.ext.pmipv4nonskipext.pernodeauthmethod"] = mip::pmip::auth_fa_ha;
  t["mip.ext.pmipv4skipext.subtype"] =
      Json::array({mip::pmip::device_id, mip::pmip::interface_id, mip::pmip::access_technology});
  t["mip.ext.pmipv4skipext.deviceid_type"] = mip::pmip::device_id_ethernet_mac;
  t["mip.ext.pmipv4skipext.deviceid_id"] = to_hex(kVmMac.bytes());
  t["mip.ext.pmipv4skipext.interfaceid"] = "00000001";
  t["mip.ext.pmipv4skipext.accesstechnology_type"] = mip::pmip::access_802_3;
  t["mip.ext.utrq.f"] = 1;
  t["mip.ext.utrq.r"] = 0;
  t["mip.ext.utrq.encaptype"] = mip::kIpProtoIpip;
  t["mip.ext.rev.i"] = 1;
  t["mip.ext.rev.tstamp"] = 0x65536f00;
  out.push_back({"proxy request: PMIPv4 47/147, UDP tunnel 144, revocation 137, NAI, MN-HA + FA-HA",
                 udp_frame(kFaMac, kHaMac, kForeignAgent, kHomeAgent, wire::encode(m)), j});
}

void add_replies(std::vector<SampleFrame>& out) {
  const std::uint8_t codes[] = {
      mip::code::accepted,
      mip::code::accepted_no_simultaneous,
      mip::code::fa_mn_auth_failed,
      mip::code::fa_reverse_tunnel_unavailable,
      mip::code::fa_invalid_home_agent,  // 194: an FA's, numbered past the HA's range
      mip::code::ha_mn_auth_failed,
      mip::code::ha_identification_mismatch,
      mip::code::ha_pmip_unsupported,
      mip::code::ha_pmip_disallowed,
  };
  std::uint64_t n = 1;
  for (auto code : codes) {
    wire::RegistrationReply m;
    m.code = code;
    m.lifetime = mip::code::is_accepted(code) ? 1800 : 0;
    m.home_address = kHomeAddress;
    m.home_agent = kHomeAgent;
    m.identification = kIdentBase + 0x200 + n;
    must(auth::append_auth(m, mip::ext::mn_ha_auth, n % 2 ? md5_sa() : sha256_sa()));
    out.push_back({"reply, code " + std::to_string(code),
                   udp_frame(kHaMac, kFaMac, kHomeAgent, kForeignAgent, wire::encode(m)), reply_expected(m)});
    ++n;
  }

  // Accepting UDP tunnelling (RFC 3519 §3.2) and revocation support, MN-HA + FA-HA.
  wire::RegistrationReply m;
  m.lifetime = 1800;
  m.home_address = kHomeAddress;
  m.home_agent = kHomeAgent;
  m.identification = kIdentBase + 0x300;
  m.append(wire::UdpTunnelReply{0, mip::udp_tunnel::reply_code_accepted, mip::udp_tunnel::reply_flag_F,
                                mip::udp_tunnel::kDefaultKeepaliveSeconds}
               .to_extension());
  m.append(wire::RevocationSupport{0, 0x65536f01}.to_extension());
  must(auth::append_auth(m, mip::ext::mn_ha_auth, sha256_sa()));
  must(auth::append_auth(m, mip::ext::fa_ha_auth, fa_ha_sa()));
  Json j = reply_expected(m);
  Json& t = j["tshark"];
  t["mip.ext.utrp.code"] = mip::udp_tunnel::reply_code_accepted;
  t["mip.ext.utrp.f"] = 1;
  t["mip.ext.utrp.keepalive"] = mip::udp_tunnel::kDefaultKeepaliveSeconds;
  t["mip.ext.rev.i"] = 0;
  t["mip.ext.rev.tstamp"] = 0x65536f01;
  out.push_back({"reply accepting UDP tunnelling 44, revocation 137, MN-HA + FA-HA",
                 udp_frame(kHaMac, kFaMac, kHomeAgent, kForeignAgent, wire::encode(m)), j});
}

// The HA granting both IPv6 home addresses of a dual-stack VM (RFC 5454 §2.2).
void add_dual_stack_reply(std::vector<SampleFrame>& out) {
  wire::RegistrationReply d;
  d.lifetime = 1800;
  d.home_address = kHomeAddress;
  d.home_agent = kHomeAgent;
  d.identification = kIdentBase + 0x301;
  for (const auto& a : {kHomeAddress6a, kHomeAddress6b}) {
    wire::Ipv6PrefixReply p;
    p.prefix = a;
    d.append(p.to_extension());
  }
  must(auth::append_auth(d, mip::ext::mn_ha_auth, md5_sa()));
  must(auth::append_auth(d, mip::ext::fa_ha_auth, fa_ha_sa()));
  Json jd = reply_expected(d);
  jd["dsmip"] = dsmip_expected(d.extensions);
  out.push_back({"reply, dual stack: two IPv6 Prefix Replies (RFC 5454 152), MN-HA + FA-HA",
                 udp_frame(kHaMac, kFaMac, kHomeAgent, kForeignAgent, wire::encode(d)), jd});
}

void add_revocations(std::vector<SampleFrame>& out) {
  // RFC 3543: the HA tells the old FA its visitor has moved; the FA acknowledges.
  wire::Revocation r;
  r.flags = mip::revocation::flag_A | mip::revocation::flag_I;
  r.home_address = kHomeAddress;
  r.home_domain_address = kHomeAgent;
  r.foreign_domain_address = kOldForeignAgent;
  r.revocation_id = 0x65536f10;
  must(auth::append_auth(r, mip::ext::fa_ha_auth, fa_ha_sa()));
  const Json j = expected("revocation", 7,
                          {{nullptr, "mip.rev.a", 1},
                           {nullptr, "mip.rev.i", 1},
                           {"home_address", "mip.homeaddr", kHomeAddress.to_string()},
                           {nullptr, "mip.rev.hda", kHomeAgent.to_string()},
                           {nullptr, "mip.rev.fda", kOldForeignAgent.to_string()},
                           {nullptr, "mip.revid", r.revocation_id}},
                          r.extensions);
  out.push_back(
      {"revocation A I, FA-HA", udp_frame(kHaMac, kFaMac, kHomeAgent, kOldForeignAgent, wire::encode(r)), j});

  wire::RevocationAck a;
  a.flags = wire::RevocationAck::kFlagI;
  a.home_address = kHomeAddress;
  a.revocation_id = r.revocation_id;
  must(auth::append_auth(a, mip::ext::fa_ha_auth, fa_ha_sa()));
  const Json ja = expected("revocation_ack", 15,
                           {{nullptr, "mip.ack.i", 1},
                            {"home_address", "mip.homeaddr", kHomeAddress.to_string()},
                            {nullptr, "mip.revid", a.revocation_id}},
                           a.extensions);
  out.push_back({"revocation ack I, FA-HA",
                 udp_frame(kFaMac, kHaMac, kOldForeignAgent, kHomeAgent, wire::encode(a)), ja});
}

// A small inner packet: an ICMP echo request from the correspondent to the VM.
Bytes inner_echo() {
  const Bytes body{0x00, 0x01, 0x00, 0x01, 'v', 'm', 'r', 'o', 'a', 'm'};  // id 1, seq 1, data
  return wire::build_ipv4_packet({kCorrespondent, kHomeAddress, mip::kIpProtoIcmp},
                                 wire::build_icmp(8, 0, body));
}

void add_tunnels(std::vector<SampleFrame>& out) {
  const Bytes inner = inner_echo();
  Bytes outer(inner.size() + wire::kIpipOverhead);
  const std::size_t n = must(wire::ipip_encapsulate(inner, {kHomeAgent, kForeignAgent}, outer));
  outer.resize(n);
  Json j;
  j["kind"] = "tunnel";
  j["encapsulation"] = "ipip";
  j["inner_src"] = kCorrespondent.to_string();
  j["inner_dst"] = kHomeAddress.to_string();
  Json t;
  t["ip.proto"] = Json::array({mip::kIpProtoIpip, mip::kIpProtoIcmp});
  t["ip.src"] = Json::array({kHomeAgent.to_string(), kCorrespondent.to_string()});
  t["ip.dst"] = Json::array({kForeignAgent.to_string(), kHomeAddress.to_string()});
  j["tshark"] = std::move(t);
  out.push_back({"IP in IP (RFC 2003): HA to FA, ICMP echo inside",
                 wire::build_ethernet_frame(kFaMac, kHaMac, mip::kEtherTypeIpv4, outer), j});

  Bytes udp_payload(inner.size() + mip::kTunnelDataHeaderSize);
  const std::size_t u = must(wire::udp_tunnel_encapsulate(inner, udp_payload));
  udp_payload.resize(u);
  Json ju;
  ju["kind"] = "tunnel";
  ju["encapsulation"] = "udp";
  ju["next_header"] = mip::kIpProtoIpip;
  ju["inner_src"] = kCorrespondent.to_string();
  ju["inner_dst"] = kHomeAddress.to_string();
  Json tu;
  tu["mip.type"] = 4;
  tu["mip.nattt.nexthdr"] = mip::kIpProtoIpip;
  tu["ip.src"] = Json::array({kHomeAgent.to_string(), kCorrespondent.to_string()});
  tu["ip.dst"] = Json::array({kForeignAgent.to_string(), kHomeAddress.to_string()});
  ju["tshark"] = std::move(tu);
  out.push_back({"UDP tunnel data (RFC 3519 §3.3): HA to FA, ICMP echo inside",
                 udp_frame(kHaMac, kFaMac, kHomeAgent, kForeignAgent, udp_payload), ju});
}

void add_discovery(std::vector<SampleFrame>& out) {
  namespace a = mip::advert;
  wire::AgentAdvertisement adv;
  adv.router_lifetime = 1800;
  adv.routers = {{kForeignAgent, 0}};
  adv.sequence = 7;
  adv.registration_lifetime = 1800;
  adv.flags = a::flag_R | a::flag_F | a::flag_T | a::flag_U | a::flag_X;
  adv.care_of_addresses = {kForeignAgent};
  adv.prefix_lengths = std::vector<std::uint8_t>{24};
  const Bytes packet =
      must(wire::build_agent_advertisement_packet(kForeignAgent, Ipv4::from_octets(224, 0, 0, 1), adv));
  Json j;
  j["kind"] = "agent_advertisement";
  Json t;
  t["icmp.type"] = a::kIcmpRouterAdvertisement;
  t["icmp.mip.type"] = Json::array({mip::ext::agent_advertisement, mip::ext::prefix_lengths});
  t["icmp.mip.seq"] = adv.sequence;
  t["icmp.mip.life"] = adv.registration_lifetime;
  t["icmp.mip.flags"] = adv.flags;
  t["icmp.mip.r"] = 1;
  t["icmp.mip.b"] = 0;
  t["icmp.mip.h"] = 0;
  t["icmp.mip.f"] = 1;
  t["icmp.mip.rt"] = 1;
  t["icmp.mip.u"] = 1;
  t["icmp.mip.x"] = 1;
  t["icmp.mip.coa"] = kForeignAgent.to_string();
  t["icmp.mip.prefixlength"] = 24;
  t["ip.ttl"] = 1;
  j["tshark"] = std::move(t);
  out.push_back({"agent advertisement R F T U X, one CoA, prefix lengths",
                 wire::build_ethernet_frame(MacAddress{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}, kFaMac,
                                            mip::kEtherTypeIpv4, packet),
                 j});

  Json js;
  js["kind"] = "agent_solicitation";
  Json ts;
  ts["icmp.type"] = a::kIcmpRouterSolicitation;
  ts["ip.ttl"] = 1;
  js["tshark"] = std::move(ts);
  out.push_back({"agent solicitation",
                 wire::build_ethernet_frame(wire::kBroadcastMac, kVmMac, mip::kEtherTypeIpv4,
                                            wire::build_agent_solicitation_packet(
                                                kHomeAddress, Ipv4::from_octets(255, 255, 255, 255))),
                 js});
}

void add_link_layer(std::vector<SampleFrame>& out) {
  const Json garp_fields = {{"arp.opcode", mip::kArpOpRequest},
                            {"arp.src.hw_mac", kHaMac.to_string()},
                            {"arp.src.proto_ipv4", kHomeAddress.to_string()},
                            {"arp.dst.proto_ipv4", kHomeAddress.to_string()}};
  out.push_back({"gratuitous ARP: the HA claims the home address",
                 wire::build_gratuitous_arp(kHaMac, kHomeAddress),
                 Json{{"kind", "arp"}, {"tshark", garp_fields}}});
  const Json rarp_fields = {{"arp.opcode", mip::kRarpOpRequest},
                            {"arp.src.hw_mac", kVmMac.to_string()},
                            {"arp.dst.hw_mac", kVmMac.to_string()}};
  out.push_back({"RARP self-announce of the VM (QEMU)", wire::build_rarp_announce(kVmMac),
                 Json{{"kind", "rarp"}, {"tshark", rarp_fields}}});
}

}  // namespace

std::vector<auth::SecurityAssociation> sample_keys() { return {md5_sa(), sha256_sa(), fa_ha_sa()}; }

std::vector<SampleFrame> sample_frames() {
  std::vector<SampleFrame> out;
  add_requests(out);
  add_dual_stack_request(out);
  add_replies(out);
  add_dual_stack_reply(out);
  add_revocations(out);
  add_tunnels(out);
  add_discovery(out);
  add_link_layer(out);
  return out;
}

}  // namespace vmroam::pcap
