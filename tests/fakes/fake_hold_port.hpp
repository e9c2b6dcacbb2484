// FakeHoldPort: the handover hold's seam (common/dataplane/hold_port.hpp) without a data plane.
// It records every call, keeps the divert/tap sets like a driver would, can be told to fail,
// and lets a test play the driver's part: see(hoa, packet) is a packet the kernel routed to
// the HoA — handed to the sink if the HoA is diverted (else "sent") and copied to it if tapped.
// Reinjected packets are kept, in order, with where they went ("to <peer>" or "to kernel").
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/dataplane/hold_port.hpp"

namespace vmroam::dataplane {

class FakeHoldPort final : public HoldPort {
 public:
  // One string per call, e.g. "divert 10.1.0.10 on", "tap 10.1.0.10 off", "reinject 10.1.0.10".
  std::vector<std::string> calls;
  std::set<Ipv4> diverted;
  std::set<Ipv4> tapped;
  std::vector<Bytes> sent;        // what see() sent on (not diverted), in order
  std::vector<Bytes> reinjected;  // in order
  // Where reinjected packets go: the HoA's peer when routed (what this returns), else the
  // kernel. Tests point it at their fake driver's routes.
  std::function<std::optional<Ipv4>(Ipv4 hoa)> route_of;
  std::vector<std::string> reinjected_to;  // "to 192.0.2.2" or "to kernel", per packet
  // When set, the next call with this name ("divert", "tap", "reinject") fails with
  // "fake_failure" (then clears).
  std::string fail_next;
  Sink sink;

  void set_sink(Sink s) override { sink = std::move(s); }
  Result<void> divert(Ipv4 hoa, bool on) override {
    calls.push_back("divert " + hoa.to_string() + (on ? " on" : " off"));
    if (on) {
      if (should_fail("divert")) return fail("fake_failure", "divert");
      diverted.insert(hoa);
      return ok();
    }
    diverted.erase(hoa);  // like the drivers: the divert ends even when undoing steering fails
    if (should_fail("divert")) return fail("fake_failure", "divert");
    return ok();
  }
  Result<void> tap(Ipv4 hoa, bool on) override {
    calls.push_back("tap " + hoa.to_string() + (on ? " on" : " off"));
    if (should_fail("tap")) return fail("fake_failure", "tap");
    if (on)
      tapped.insert(hoa);
    else
      tapped.erase(hoa);
    return ok();
  }
  Result<void> reinject(ByteView packet) override {
    const Ipv4 hoa = destination(packet);
    calls.push_back("reinject " + hoa.to_string());
    if (should_fail("reinject")) return fail("fake_failure", "reinject");
    reinjected.emplace_back(packet.begin(), packet.end());
    const std::optional<Ipv4> peer = route_of ? route_of(hoa) : std::nullopt;
    reinjected_to.push_back(peer ? "to " + peer->to_string() : "to kernel");
    return ok();
  }

  // The data plane's part: a packet for `hoa` at time `at`.
  void see(ByteView packet, WallTime at = {}) {
    const Ipv4 hoa = destination(packet);
    if (diverted.contains(hoa)) {
      if (sink) sink(Seen::diverted, hoa, at, packet);
      return;
    }
    sent.emplace_back(packet.begin(), packet.end());
    if (tapped.contains(hoa) && sink) sink(Seen::tapped, hoa, at, packet);
  }
  // The IPv4 destination of a packet (0 when too short).
  static Ipv4 destination(ByteView p) {
    if (p.size() < 20) return Ipv4();
    return Ipv4((std::uint32_t{p[16]} << 24) | (std::uint32_t{p[17]} << 16) | (std::uint32_t{p[18]} << 8) |
                std::uint32_t{p[19]});
  }

 private:
  bool should_fail(const std::string& what) {
    if (fail_next != what) return false;
    fail_next.clear();
    return true;
  }
};

}  // namespace vmroam::dataplane
