// Replay test (suite 'replay'): the home agent's registration handling driven from a capture.
//
// pcap-fixtures/ha-exchange.pcap is the foreign-agent side of tests/netns/home-agent/
// registration.sh (a real vmroam-ha answering scapy; see pcap-fixtures/README.md). Every
// UDP-434 message in it addressed to the HA (requests, and the revocation ack) is fed, in
// order, to a HomeAgent built on fakes with the same config, keys and VMs as that test, with
// the clock set to each frame's capture time. Every datagram the HA sends back is rendered
// with vmroam-pcap's FrameDecoder (authenticators verified with the FA keys) and the lines are
// diffed against the golden ha-exchange.replies.ok. Each reply is also compared with the reply the
// real daemon sent in the capture: same bytes, except that a code 133 reply carries the HA's
// clock in its high 32 bits (RFC 5944 §5.7), which may differ by a second.
//
// usage: ha_replay PCAP OK_FILE [--write]   (--write regenerates OK_FILE)
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/core/hex.hpp"
#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "home-agent/home_agent.hpp"
#include "tests/fakes/fake_netlink.hpp"
#include "tests/fakes/fake_tunnel_driver.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tools/pcap/capture.hpp"
#include "tools/pcap/frame_decoder.hpp"

namespace vmroam {
namespace {

constexpr const char* kFa1Key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr const char* kFa2Key = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const Ipv4 kHa = *Ipv4::parse("192.0.2.1");

// The clock reads what the capture says: each frame's timestamp.
class CaptureClock final : public Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return TimePoint{} + (wall_ - WallTime{}); }
  [[nodiscard]] WallTime wall_now() const override { return wall_; }
  void set(std::int64_t sec, std::uint32_t usec) {
    wall_ = WallTime{} + std::chrono::seconds(sec) + std::chrono::microseconds(usec);
  }

 private:
  WallTime wall_{};
};

struct Datagram {
  std::uint64_t frame = 0;
  std::int64_t sec = 0;
  std::uint32_t usec = 0;
  Ipv4 src, dst;
  std::uint16_t sport = 0, dport = 0;
  Bytes payload;
};

// The UDP-434 datagrams of an Ethernet capture.
Result<std::vector<Datagram>> read_datagrams(const std::string& path) {
  std::vector<Datagram> out;
  auto n = pcap::read_capture(path, [&](const pcap::Frame& f) {
    if (f.link_type != pcap::link_type::kEthernet) return;
    auto eth = wire::parse_ethernet(f.data);
    if (!eth || eth->ethertype != mip::kEtherTypeIpv4) return;
    // Not parse_udp_datagram(): tcpdump sees a sender's own datagrams before the checksum is
    // filled in (offload), so the UDP checksum of half the frames is not final. The HA never
    // sees those bytes; it gets the payload from its socket.
    auto ip = wire::parse_ipv4(eth->payload);
    if (!ip || ip->protocol != mip::kIpProtoUdp || ip->is_fragment()) return;
    ByteReader r(wire::ipv4_payload(eth->payload, *ip));
    const std::uint16_t sport = r.u16(), dport = r.u16(), length = r.u16();
    r.skip(2);
    if (!r.ok() || length < 8 || r.remaining() < length - 8u) return;
    if (dport != mip::kRegistrationPort && sport != mip::kRegistrationPort) return;
    ByteView payload = r.bytes(length - 8u);
    out.push_back(Datagram{f.number, f.ts_sec, f.ts_usec, ip->src, ip->dst, sport, dport,
                           Bytes(payload.begin(), payload.end())});
  });
  if (!n) return fail(n.error());
  return out;
}

ha::HaConfig replay_config(const std::string& store) {
  auto c = ha::parse_config_text(std::string(R"({
    "address": "192.0.2.1", "home_prefix": "10.1.0.0/24", "home_interface": "br-home",
    "registration": { "max_lifetime_s": 300, "fa_ha_auth": "required" },
    "foreign_agents": [
      { "address": "192.0.2.2", "fa_ha": { "spi": 1000, "algorithm": "hmac-sha256", "key": ")") +
                                 kFa1Key + R"(" } },
      { "address": "192.0.2.3", "fa_ha": { "spi": 1001, "algorithm": "hmac-sha256", "key": ")" +
                                 kFa2Key + R"(" } } ] })");
  if (!c) std::abort();
  c->store_path = store;
  return *c;
}

auth::Keyring fa_keys() {
  auth::Keyring keys;
  for (auto [spi, key] : {std::pair{1000u, kFa1Key}, std::pair{1001u, kFa2Key}}) {
    auto sa = pcap::parse_key_spec(std::to_string(spi) + ":hmac-sha256:" + key);
    if (!sa) std::abort();
    if (!keys.add(*sa)) std::abort();
  }
  return keys;
}

// A code 133 reply's Identification holds the HA's clock in its high 32 bits: the capture's
// and ours may straddle a second.
bool same_reply(const Bytes& ours, const Bytes& theirs) {
  if (ours == theirs) return true;
  auto a = wire::parse_registration_reply(ours);
  auto b = wire::parse_registration_reply(theirs);
  if (!a || !b || a->code != mip::code::ha_identification_mismatch || b->code != a->code) return false;
  const auto hi = [](std::uint64_t v) { return static_cast<std::int64_t>(v >> 32); };
  if ((a->identification & 0xffffffffu) != (b->identification & 0xffffffffu)) return false;
  if (std::llabs(hi(a->identification) - hi(b->identification)) > 1) return false;
  Bytes x = ours, y = theirs;
  std::fill(x.begin() + 12, x.begin() + 16, 0);  // the high half of the Identification
  std::fill(y.begin() + 12, y.begin() + 16, 0);
  // The authenticator covers the Identification too; compare everything before it.
  const std::size_t auth_at = x.size() >= 38 ? x.size() - 38 : x.size();
  return x.size() == y.size() && std::equal(x.begin(), x.begin() + static_cast<long>(auth_at), y.begin());
}

int run(const std::string& pcap_path, const std::string& ok_path, bool write) {
  auto datagrams = read_datagrams(pcap_path);
  if (!datagrams) {
    std::fprintf(stderr, "ha_replay: %s\n", datagrams.error().to_string().c_str());
    return 1;
  }
  // The real HA's revocation id was random; hand ours the captured one so the FA's ack matches.
  std::uint32_t revocation_id = 0x1000;
  std::vector<const Datagram*> captured_from_ha;
  for (const auto& d : *datagrams) {
    if (d.src != kHa || d.payload.empty()) continue;
    if (d.payload[0] == static_cast<std::uint8_t>(mip::MessageType::revocation)) {
      if (auto r = wire::parse_revocation(d.payload)) revocation_id = r->revocation_id;
    }
    if (d.payload[0] != static_cast<std::uint8_t>(mip::MessageType::tunnel_data))
      captured_from_ha.push_back(&d);
  }

  set_log_level(LogLevel::warn);
  boost::asio::io_context io;
  test::TempDir dir;
  CaptureClock clock;
  clock.set((*datagrams).empty() ? 0 : (*datagrams)[0].sec, 0);
  dataplane::FakeNetlink netlink;
  netlink.links.push_back(
      dataplane::LinkInfo{3, "br-home", *MacAddress::parse("02:00:00:00:01:01"), 1500, true, {}});
  dataplane::FakeTunnelDriver driver;
  struct Sent {
    Ipv4 dst;
    std::uint16_t port;
    Bytes payload;
  };
  std::vector<Sent> sent;
  ha::HomeAgentIo seams;
  seams.netlink = &netlink;
  seams.driver = &driver;
  seams.send_udp = [&](Ipv4 d, std::uint16_t p, ByteView b) {
    sent.push_back({d, p, Bytes(b.begin(), b.end())});
  };
  seams.clock = &clock;
  seams.random32 = [&] { return revocation_id; };
  // The handover grace ends at once, so every frame's effects are final when recorded.
  seams.previous_peer_grace = vmroam::Duration::zero();
  auto store = store::Store::open(dir.file("ha.db"));
  if (!store) std::abort();
  ha::HomeAgent agent(io, replay_config(dir.file("ha.db")), seams, std::move(*store));
  if (auto r = agent.start(); !r) {
    std::fprintf(stderr, "ha_replay: start: %s\n", r.error().to_string().c_str());
    return 1;
  }
  for (
      const char* vm :
      {R"({"id":"vm1","home_address":"10.1.0.10","mac":"52:54:00:12:34:56","allowed_fas":["192.0.2.2","192.0.2.3"]})",
       R"({"id":"vm2","home_address":"10.1.0.11","mac":"52:54:00:12:34:57","allowed_fas":["192.0.2.2","192.0.2.3"]})"}) {
    api::Request req;
    req.method = api::Method::post;
    req.path = "/v1/vms";
    req.body = vm;
    auto reply = agent.handle_api(req);
    if (std::get<api::Response>(reply).status != 201) std::abort();
  }

  const pcap::FrameDecoder decoder(fa_keys());
  std::ostringstream out;
  std::size_t fed = 0, matched = 0, compared = 0;
  for (const auto& d : *datagrams) {
    if (d.dst != kHa || d.dport != mip::kRegistrationPort) continue;
    ++fed;
    clock.set(d.sec, d.usec);
    const std::size_t before = sent.size();
    agent.on_datagram(d.payload, d.src, d.sport);
    agent.flush();
    agent.settle_commits();  // the replies leave once the batch is durable
    io.poll();               // due timers: the grace (0 here) releases endpoints
    io.restart();
    out << "# frame " << d.frame << ": " << d.payload.size() << " bytes from " << d.src.to_string() << ":"
        << d.sport << " -> " << (sent.size() - before) << " sent\n";
    for (std::size_t i = before; i < sent.size(); ++i) {
      const Sent& s = sent[i];
      const Bytes packet = wire::build_udp_datagram(kHa, mip::kRegistrationPort, s.dst, s.port, s.payload);
      pcap::FrameInfo info{d.frame, d.sec, d.usec, pcap::link_type::kIpv4, 0};
      for (const auto& rec : decoder.decode(info, packet)) out << rec.dump() << "\n";
      // The real daemon's message to the same place, in the same order.
      if (compared < captured_from_ha.size()) {
        const Datagram& theirs = *captured_from_ha[compared++];
        if (theirs.dst == s.dst && same_reply(s.payload, theirs.payload))
          ++matched;
        else
          out << "# differs from the capture's frame " << theirs.frame << ": " << to_hex(theirs.payload)
              << "\n";
      }
    }
  }
  out << "# bindings:";
  agent.bindings().for_each([&](const binding::Binding& b) {
    out << " " << b.home_address.to_string() << "->" << b.care_of_address.to_string() << "/"
        << binding::to_string(b.encapsulation);
  });
  out << "\n# driver:";
  for (const auto& c : driver.calls) out << " [" << c << "]";
  out << "\n# proxy-arp:";
  for (const auto& p : netlink.proxies) out << " " << p.address.to_string();
  // 0: the FA's revocation ack in the capture was accepted (authenticated, matching id).
  out << "\n# revocations awaiting an ack: " << agent.pending_revocations() << "\n";
  std::fprintf(stderr,
               "ha_replay: %zu datagrams fed, %zu messages sent, %zu of %zu identical to the capture's\n",
               fed, sent.size(), matched, captured_from_ha.size());

  if (write) {
    std::ofstream(ok_path) << out.str();
    return 0;
  }
  std::ifstream in(ok_path);
  std::stringstream golden;
  golden << in.rdbuf();
  bool ok = true;
  if (golden.str() != out.str()) {
    std::fprintf(stderr, "ha_replay: output differs from %s; got:\n%s", ok_path.c_str(), out.str().c_str());
    ok = false;
  }
  if (matched != captured_from_ha.size() || sent.size() != captured_from_ha.size()) {
    std::fprintf(stderr, "ha_replay: the replayed HA sent %zu messages, the real one %zu, %zu identical\n",
                 sent.size(), captured_from_ha.size(), matched);
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace vmroam

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4 || (argc == 4 && std::string(argv[3]) != "--write")) {
    std::fprintf(stderr, "usage: ha_replay PCAP OK_FILE [--write]\n");
    return 2;
  }
  return vmroam::run(argv[1], argv[2], argc == 4);
}
