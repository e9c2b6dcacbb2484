// The home-link capture's filter (home_link_capture.hpp): what the home router sends onto the
// home link for the VMs about to leave (handover recovery, docs/home-agent.md "Handover hold").
// A VM's IPv4 home address and, for a dual-stack VM, its IPv6 home addresses (docs/protocol.md
// "Dual-stack VMs"). Pure: the capture compiles the text.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/address6.hpp"

namespace vmroam::ha {

// The watched VMs: HoA -> its IPv6 home addresses (none for an IPv4-only VM).
using WatchedVms = std::map<Ipv4, std::vector<Ipv6>>;

// pcap-filter(7) text matching packets to any of them: "ip dst host A or ip6 dst host A6 or …",
// in HoA order, each VM's IPv6 addresses after its HoA; empty for no VM.
[[nodiscard]] std::string home_link_filter(const WatchedVms& vms);

}  // namespace vmroam::ha
