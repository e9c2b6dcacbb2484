// Handovers: see handover.hpp.
#include "home-agent/handover.hpp"

#include <algorithm>

#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "common/wire/ipv4.hpp"
#include "common/wire/ipv6.hpp"
#include "common/wire/mobile_ip.hpp"

namespace vmroam::ha {

namespace {
// How long a prepared handover records before it gives up on the driver: longer than any
// migration we expect (a large guest over a slow WAN), short enough not to record for ever.
constexpr auto kPrepareLimit = std::chrono::hours(1);

// The router's Neighbor Discovery with the VM (its unicast reachability probes, RFC 4861 §7.3)
// is about the home link: sent anywhere else it is invalid (hop limit 255, §7.1), so it is not
// recovered. ICMPv6 types 133-137, right after the fixed header.
bool neighbor_discovery(const wire::Ipv6Header& ip, ByteView packet) {
  constexpr std::uint8_t kIcmpv6 = 58;
  if (ip.next_header != kIcmpv6 || packet.size() <= wire::kIpv6FixedHeaderSize) return false;
  const std::uint8_t type = packet[wire::kIpv6FixedHeaderSize];
  return type >= 133 && type <= 137;
}
}  // namespace

Handovers::Handovers(boost::asio::io_context& io, HandoverSeams seams, const HaConfig& config)
    : io_(io), seams_(std::move(seams)), config_(config) {
  if (seams_.port) hold_ = std::make_unique<dataplane::HandoverHold>(*seams_.port);
}

Result<HandoverOutcome> Handovers::on_phase(Ipv4 hoa, HandoverPhase phase, std::optional<WallTime> stopped_at,
                                            std::optional<Ipv4> coa_now,
                                            const std::vector<Ipv6>& home_addresses_v6) {
  switch (phase) {
    case HandoverPhase::prepare:
      return prepare(hoa, coa_now, home_addresses_v6);
    case HandoverPhase::stopped:
      return stopped(hoa, stopped_at, coa_now);
    case HandoverPhase::cancel:
      return cancel(hoa);
  }
  std::abort();  // every phase returned above
}

Result<HandoverOutcome> Handovers::prepare(Ipv4 hoa, std::optional<Ipv4> coa_now,
                                           const std::vector<Ipv6>& v6) {
  if (holding(hoa)) return fail("holding", "a hold is in progress for " + hoa.to_string());
  Handover h;
  h.coa_at_prepare = coa_now;
  h.home_addresses_v6 = v6;
  if (auto it = handovers_.find(hoa); it != handovers_.end()) unmap_v6(hoa, it->second);  // prepared again
  for (const Ipv6& a : v6) hoa_of_v6_[a] = hoa;
  // Record on both paths: the binding may change before the stop (an early handover).
  if (hold_)
    if (auto r = hold_->record(hoa); !r)
      log_warn("handover_record_failed", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  home_recorder_.watch(hoa);
  watch_home_link(hoa, v6, true);
  arm(h, hoa, kPrepareLimit, "prepare_expired");
  handovers_[hoa] = std::move(h);
  log_info("handover_prepared", {{"hoa", hoa.to_string()}, {"at", coa_now ? "away" : "home"}});
  return HandoverOutcome{"recording", 0, 0};
}

Result<HandoverOutcome> Handovers::stopped(Ipv4 hoa, std::optional<WallTime> stopped_at,
                                           std::optional<Ipv4> coa_now) {
  if (holding(hoa)) return HandoverOutcome{"holding", 0, 0};
  if (!hold_)
    return fail("not_supported", "the " + seams_.driver_name +
                                     " data plane cannot hold packets (dataplane.driver \"userspace\" can)");
  auto it = handovers_.find(hoa);
  const bool prepared = it != handovers_.end();
  std::optional<WallTime> since;
  if (stopped_at) since = *stopped_at - std::chrono::milliseconds(config_.recover_margin_ms);
  // The home-link capture is drained only once the divert is in place: what the router sent
  // onto the home link until then is in the capture, what comes after is diverted. (Drained
  // first, a packet routed between the drain and the divert was in neither, and lost.)
  auto from_home = [&]() -> std::vector<Bytes> {
    if (!prepared) return {};
    if (seams_.drain_home_link) seams_.drain_home_link();
    return since ? home_recorder_.take_since(hoa, *since) : std::vector<Bytes>{};
  };
  auto held = hold_->hold_and_recover(hoa, since, from_home);
  if (!held) return fail(held.error());
  const bool moved_already = prepared && coa_now != it->second.coa_at_prepare;
  Handover& h = handovers_[hoa];  // a stop without prepare holds too (nothing recorded)
  home_recorder_.unwatch(hoa);
  watch_home_link(hoa, h.home_addresses_v6, false);
  log_info("handover_holding", {{"hoa", hoa.to_string()}, {"recovered", std::to_string(*held)}});
  if (moved_already) {
    // The new binding arrived before the driver's stop: nothing to wait for.
    const std::size_t released = hold_->release(hoa).value_or(0);
    forget(hoa);
    return HandoverOutcome{"released", *held, released};
  }
  arm(h, hoa, std::chrono::milliseconds(config_.hold_timeout_ms), "hold_timeout");
  return HandoverOutcome{"holding", *held, 0};
}

HandoverOutcome Handovers::cancel(Ipv4 hoa) {
  if (!handovers_.contains(hoa)) return HandoverOutcome{"idle", 0, 0};
  const std::size_t released = holding(hoa) ? hold_->release(hoa).value_or(0) : 0;
  forget(hoa);
  log_info("handover_cancelled", {{"hoa", hoa.to_string()}, {"released", std::to_string(released)}});
  return HandoverOutcome{"idle", 0, released};
}

void Handovers::on_binding_changed(Ipv4 hoa, std::string_view why) {
  if (holding(hoa)) end(hoa, why);
}

void Handovers::stop() {
  while (!handovers_.empty()) end(handovers_.begin()->first, "stopping");
}

void Handovers::end(Ipv4 hoa, std::string_view why) {
  if (!handovers_.contains(hoa)) return;
  std::size_t released = 0;
  if (holding(hoa)) {
    auto r = hold_->release(hoa);
    if (r)
      released = *r;
    else
      log_warn("handover_release_incomplete", {{"hoa", hoa.to_string()}, {"reason", r.error().to_string()}});
  }
  forget(hoa);
  // A hold that no registration ended is worth a warning: the move did not complete as planned.
  const bool planned = why == "registered" || why == "deregistered";
  log_event(planned ? LogLevel::info : LogLevel::warn, "handover_released",
            {{"hoa", hoa.to_string()}, {"why", std::string(why)}, {"released", std::to_string(released)}});
}

void Handovers::forget(Ipv4 hoa) {
  auto it = handovers_.find(hoa);
  if (it == handovers_.end()) return;
  if (it->second.timer) it->second.timer->cancel();
  if (hold_) {
    // A failed untap is harmless: the hold has stopped keeping the copies either way.
    [[maybe_unused]] const auto untapped = hold_->stop_recording(hoa);
  }
  home_recorder_.unwatch(hoa);
  watch_home_link(hoa, it->second.home_addresses_v6, false);
  unmap_v6(hoa, it->second);
  handovers_.erase(it);
}

void Handovers::unmap_v6(Ipv4 hoa, const Handover& h) {
  for (const Ipv6& a : h.home_addresses_v6)
    if (auto v = hoa_of_v6_.find(a); v != hoa_of_v6_.end() && v->second == hoa) hoa_of_v6_.erase(v);
}

void Handovers::watch_home_link(Ipv4 hoa, const std::vector<Ipv6>& v6, bool on) {
  if (!seams_.watch_home_link) return;
  // Without the capture a move from home recovers less; it still holds. Worth a warning only.
  if (auto r = seams_.watch_home_link(hoa, v6, on); !r)
    log_warn("home_link_capture_failed",
             {{"hoa", hoa.to_string()}, {"on", on ? "true" : "false"}, {"reason", r.error().to_string()}});
}

void Handovers::arm(Handover& h, Ipv4 hoa, Duration after, std::string_view why) {
  if (h.timer) h.timer->cancel();
  h.timer = std::make_unique<boost::asio::steady_timer>(io_, after);
  h.timer->async_wait([this, hoa, why](const boost::system::error_code& ec) {
    if (!ec) end(hoa, why);
  });
}

void Handovers::on_home_link_frame(WallTime at, ByteView frame) {
  auto eth = wire::parse_ethernet(frame);
  if (!eth) return;
  if (eth->ethertype == mip::kEtherTypeIpv4) {
    auto ip = wire::parse_ipv4(eth->payload);
    if (!ip) return;
    // The Ethernet payload may carry padding: keep the IPv4 packet only.
    const std::size_t len = std::min<std::size_t>(ip->total_length, eth->payload.size());
    home_recorder_.record(ip->dst, at, eth->payload.first(len));
  } else if (eth->ethertype == mip::kEtherTypeIpv6) {
    // A dual-stack VM's IPv6 goes with its HoA: recovered into the same hold, in the order it
    // left, and sent on per the HoA's binding (the data plane looks its IPv6 up the same way).
    auto ip = wire::parse_ipv6(eth->payload);
    if (!ip || neighbor_discovery(*ip, eth->payload)) return;
    auto it = hoa_of_v6_.find(ip->dst);
    if (it == hoa_of_v6_.end()) return;
    home_recorder_.record(it->second, at, eth->payload.first(ip->total_length()));
  }
}

}  // namespace vmroam::ha
