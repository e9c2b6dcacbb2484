// FakeTunnelDriver: records every call the agents make on the TunnelDriver seam, keeps the
// endpoint/route tables like a real driver would, and can be told to fail, so the agents'
// unit tests assert on what they asked of the data plane. It offers a HoldPort only when a
// test gives it one (offer(&port), e.g. a FakeHoldPort), like a driver that can hold.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/dataplane/tunnel_driver.hpp"

namespace vmroam::dataplane {

class FakeTunnelDriver final : public TunnelDriver {
 public:
  // One string per call, e.g. "add_tunnel_endpoint 10.2.0.1 udp 434", "route 10.1.0.10 10.2.0.1".
  std::vector<std::string> calls;
  std::map<Ipv4, TunnelEndpoint> endpoints;
  std::map<Ipv4, Ipv4> routes;  // HoA → peer
  // set_home_addresses_v6 (kept apart from `calls`: every bind sets them, mostly to nothing).
  std::map<Ipv4, std::vector<Ipv6>> home_addresses_v6;
  // When set, the next call with this name fails with code "fake_failure" (then clears).
  std::string fail_next;
  TunnelStats canned_stats;
  struct UdpPayload {
    Ipv4 src;
    std::uint16_t port;
    Bytes payload;
  };
  std::vector<UdpPayload> udp_payloads;

  Result<void> add_tunnel_endpoint(const TunnelEndpoint& e) override {
    calls.push_back("add_tunnel_endpoint " + e.peer.to_string() + " " +
                    std::string(to_string(e.encapsulation)) + " " + std::to_string(e.udp_port));
    if (should_fail("add_tunnel_endpoint")) return fail("fake_failure", "add_tunnel_endpoint");
    endpoints[e.peer] = e;
    return ok();
  }
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override {
    calls.push_back("remove_tunnel_endpoint " + peer.to_string());
    if (should_fail("remove_tunnel_endpoint")) return fail("fake_failure", "remove_tunnel_endpoint");
    if (!endpoints.erase(peer)) return fail("unknown_peer", peer.to_string());
    std::erase_if(routes, [&](const auto& kv) { return kv.second == peer; });
    return ok();
  }
  Result<void> route(Ipv4 hoa, Ipv4 peer) override {
    calls.push_back("route " + hoa.to_string() + " " + peer.to_string());
    if (should_fail("route")) return fail("fake_failure", "route");
    if (!endpoints.contains(peer)) return fail("unknown_peer", peer.to_string());
    routes[hoa] = peer;
    return ok();
  }
  Result<void> unroute(Ipv4 hoa) override {
    calls.push_back("unroute " + hoa.to_string());
    if (should_fail("unroute")) return fail("fake_failure", "unroute");
    if (!routes.erase(hoa)) return fail("no_route", hoa.to_string());
    return ok();
  }
  Result<void> set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) override {
    if (should_fail("set_home_addresses_v6")) return fail("fake_failure", "set_home_addresses_v6");
    if (addresses.empty())
      home_addresses_v6.erase(hoa);
    else
      home_addresses_v6[hoa] = addresses;
    return ok();
  }
  [[nodiscard]] TunnelStats stats() const override { return canned_stats; }
  void end_grace(Ipv4 hoa) override { calls.push_back("end_grace " + hoa.to_string()); }
  void handle_udp_tunnel_payload(Ipv4 src, std::uint16_t port, ByteView payload) override {
    udp_payloads.push_back({src, port, Bytes(payload.begin(), payload.end())});
  }
  [[nodiscard]] std::string_view name() const override { return "fake"; }

  void offer(HoldPort* port) { offer_hold_port(port); }
  // Plays the data plane delivering a decapsulated packet.
  void deliver(const DecapsulatedPacket& p) const { decapsulated(p); }

 private:
  bool should_fail(const std::string& what) {
    if (fail_next != what) return false;
    fail_next.clear();
    return true;
  }
};

}  // namespace vmroam::dataplane
