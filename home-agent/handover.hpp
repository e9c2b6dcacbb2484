// Handovers: the home agent's side of a live migration's stop (docs/home-agent.md "Handover
// hold"), between the migration driver's API calls and the data plane's handover hold.
//
//   prepare  the VM is about to move: record what is sent to it, on the tunnel (the hold's
//            tap) and on the home link (the capture, frames come back via on_home_link_frame;
//            IPv4 to the HoA and IPv6 to a dual-stack VM's IPv6 home addresses);
//   stopped  the source has stopped (QEMU STOP at `stopped_at`): hold the VM's packets, with
//            the copies sent since the stop (minus handover.recover_margin_ms) queued first;
//            if the binding already changed since prepare, release at once;
//   cancel   the move is off: release, forget.
// The hold ends when the VM's binding changes (on_binding_changed, after the registration
// reply), at cancel, or after handover.hold_timeout_ms.
//
// Timers per handover: the prepare limit (1 h: a driver that never comes back must not leave
// a capture running for ever), then the hold timeout.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/core/asio.hpp"

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/handover_hold.hpp"
#include "common/dataplane/hold_port.hpp"
#include "home-agent/config.hpp"

namespace vmroam::ha {

enum class HandoverPhase : std::uint8_t { prepare, stopped, cancel };

struct HandoverOutcome {
  std::string state;          // "recording", "holding", "released", "idle"
  std::size_t recovered = 0;  // copies queued for re-delivery
  std::size_t released = 0;   // packets released at once
};

struct HandoverSeams {
  dataplane::HoldPort* port = nullptr;  // null: this data plane cannot hold ("not_supported")
  std::string driver_name;              // for that error
  // The capture of what the router sends onto the home link for a VM: to its HoA and to its
  // IPv6 home addresses (a dual-stack VM). Either may be empty: then nothing is recovered from
  // the home link.
  std::function<Result<void>(Ipv4 hoa, const std::vector<Ipv6>& home_addresses_v6, bool on)> watch_home_link;
  std::function<void()> drain_home_link;
};

class Handovers {
 public:
  // `config` is read at every phase (a reload may change the hold timeout and margin).
  Handovers(boost::asio::io_context& io, HandoverSeams seams, const HaConfig& config);
  ~Handovers() { stop(); }
  Handovers(const Handovers&) = delete;
  Handovers& operator=(const Handovers&) = delete;

  // `coa_now`: where the VM's binding points now (nullopt: it is home). `home_addresses_v6`
  // (read at prepare): a dual-stack VM's IPv6 home addresses, whose packets on the home link are
  // recovered with the HoA's. Errors: "holding" (prepare during a hold), "not_supported" (no
  // HoldPort), the port's.
  [[nodiscard]] Result<HandoverOutcome> on_phase(Ipv4 hoa, HandoverPhase phase,
                                                 std::optional<WallTime> stopped_at,
                                                 std::optional<Ipv4> coa_now,
                                                 const std::vector<Ipv6>& home_addresses_v6 = {});
  // The VM's binding changed (registered elsewhere, or deregistered): a hold ends now.
  void on_binding_changed(Ipv4 hoa, std::string_view why);
  // A frame the router sent onto the home link, stamped when it left: IPv4 is recorded for
  // its destination HoA, IPv6 for the HoA of the VM its destination belongs to.
  void on_home_link_frame(WallTime at, ByteView frame);
  // Ends every handover (clean shutdown): what is held is released.
  void stop();

  [[nodiscard]] bool holding(Ipv4 hoa) const { return hold_ && hold_->holding(hoa); }
  // Packets the hold lost to a full queue (DropReason::hold_full).
  [[nodiscard]] std::uint64_t dropped() const { return hold_ ? hold_->dropped() : 0; }

 private:
  struct Handover {
    std::optional<Ipv4> coa_at_prepare;   // where the binding pointed at prepare (none: home)
    std::vector<Ipv6> home_addresses_v6;  // recorded on the home link with the HoA
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  Result<HandoverOutcome> prepare(Ipv4 hoa, std::optional<Ipv4> coa_now, const std::vector<Ipv6>& v6);
  Result<HandoverOutcome> stopped(Ipv4 hoa, std::optional<WallTime> stopped_at, std::optional<Ipv4> coa_now);
  HandoverOutcome cancel(Ipv4 hoa);
  // A hold ends: the held packets go where the binding points now, or onto the home link.
  void end(Ipv4 hoa, std::string_view why);
  void forget(Ipv4 hoa);  // timer, recording, capture
  void unmap_v6(Ipv4 hoa, const Handover& h);
  void watch_home_link(Ipv4 hoa, const std::vector<Ipv6>& v6, bool on);
  void arm(Handover& h, Ipv4 hoa, Duration after, std::string_view why);

  boost::asio::io_context& io_;
  HandoverSeams seams_;
  const HaConfig& config_;
  std::unique_ptr<dataplane::HandoverHold> hold_;  // null without a HoldPort
  dataplane::PacketRecorder home_recorder_;        // frames sent onto the home link, by HoA
  std::unordered_map<Ipv4, Handover> handovers_;
  std::unordered_map<Ipv6, Ipv4> hoa_of_v6_;  // IPv6 home address -> HoA, while recording
};

}  // namespace vmroam::ha
