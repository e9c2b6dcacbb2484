// The home-link capture's filter; see home_link_filter.hpp.
#include "home-agent/home_link_filter.hpp"

namespace vmroam::ha {

std::string home_link_filter(const WatchedVms& vms) {
  std::string filter;
  auto add = [&filter](const std::string& term) { filter += (filter.empty() ? "" : " or ") + term; };
  for (const auto& [hoa, v6] : vms) {
    add("ip dst host " + hoa.to_string());
    for (const Ipv6& a : v6) add("ip6 dst host " + a.to_string());
  }
  return filter;
}

}  // namespace vmroam::ha
