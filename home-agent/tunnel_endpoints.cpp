// TunnelEndpoints: see tunnel_endpoints.hpp.
#include "home-agent/tunnel_endpoints.hpp"

#include "common/core/log.hpp"

namespace vmroam::ha {

namespace {
void log_failure(std::string_view event, Ipv4 hoa, Ipv4 peer, const Error& e) {
  log_error(event, {{"hoa", hoa.to_string()}, {"peer", peer.to_string()}, {"reason", e.to_string()}});
}
}  // namespace

void TunnelEndpoints::bind(Ipv4 hoa, const dataplane::TunnelEndpoint& ep, bool route) {
  acquire(hoa, ep);
  if (!route) return;
  if (auto r = driver_.route(hoa, ep.peer); !r) log_failure("tunnel_route_failed", hoa, ep.peer, r.error());
}

void TunnelEndpoints::set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) {
  if (auto r = driver_.set_home_addresses_v6(hoa, addresses); !r)
    log_failure("tunnel_ipv6_failed", hoa, Ipv4(), r.error());
}

void TunnelEndpoints::unbind(Ipv4 hoa) {
  // "no_route" is expected here (a binding restored while the driver failed); anything else
  // is logged, and the endpoint goes after the grace either way.
  if (auto r = driver_.unroute(hoa); !r && r.error().code != "no_route")
    log_failure("tunnel_unroute_failed", hoa, Ipv4(), r.error());
  release(hoa);
}

void TunnelEndpoints::restore(Ipv4 hoa, const std::optional<dataplane::TunnelEndpoint>& previous) {
  if (previous) {
    bind(hoa, *previous);
    return;
  }
  unbind(hoa);
}

std::optional<dataplane::TunnelEndpoint> TunnelEndpoints::endpoint_of(Ipv4 hoa) const {
  auto it = endpoint_of_.find(hoa);
  if (it == endpoint_of_.end()) return std::nullopt;
  return it->second;
}

void TunnelEndpoints::stop() {
  for (auto& [id, t] : grace_timers_) t->cancel();
  grace_timers_.clear();
  // Shutting down: what the driver refuses now goes with it (its TUN, its devices).
  for (const auto& [hoa, ep] : endpoint_of_) {
    [[maybe_unused]] const auto unrouted = driver_.unroute(hoa);
  }
  for (const auto& [peer, refs] : refs_) {
    [[maybe_unused]] const auto removed = driver_.remove_tunnel_endpoint(peer);
  }
  endpoint_of_.clear();
  refs_.clear();
}

void TunnelEndpoints::acquire(Ipv4 hoa, const dataplane::TunnelEndpoint& ep) {
  if (auto it = endpoint_of_.find(hoa); it != endpoint_of_.end()) {
    if (it->second == ep) return;
    release(hoa);
  }
  if (auto r = driver_.add_tunnel_endpoint(ep); !r)
    log_failure("tunnel_endpoint_failed", hoa, ep.peer, r.error());
  endpoint_of_[hoa] = ep;
  ++refs_[ep.peer];
}

void TunnelEndpoints::release(Ipv4 hoa) {
  auto it = endpoint_of_.find(hoa);
  if (it == endpoint_of_.end()) return;
  const Ipv4 peer = it->second.peer;
  endpoint_of_.erase(it);
  // The FA the VM just left may still be reverse-tunnelling replies it had in flight: keep
  // its endpoint (and the driver's grace for this HoA) a little longer, then let go.
  const std::uint64_t id = next_grace_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, grace_);
  timer->async_wait([this, id, hoa, peer](const boost::system::error_code& ec) {
    if (ec) return;
    grace_timers_.erase(id);
    driver_.end_grace(hoa);  // the current route (if any) is unaffected
    drop_ref(peer);
  });
  grace_timers_.emplace(id, std::move(timer));
}

void TunnelEndpoints::drop_ref(Ipv4 peer) {
  auto it = refs_.find(peer);
  if (it == refs_.end()) return;
  if (--it->second > 0) return;
  refs_.erase(it);
  if (auto r = driver_.remove_tunnel_endpoint(peer); !r)
    log_failure("tunnel_endpoint_not_removed", Ipv4(), peer, r.error());
}

}  // namespace vmroam::ha
