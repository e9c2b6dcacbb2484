// HomeLinkCapture: what the home router sends onto the home link for the addresses of VMs
// about to leave (handover recovery, docs/home-agent.md "Handover hold"). Daemon only.
//
// libpcap on the home interface, outbound only, immediate mode, BPF "ip dst host A or ip6 dst
// host A6 or …" (a VM's HoA and its IPv6 home addresses, home_link_filter) rebuilt whenever
// the set of watched VMs changes; the handle exists only while a VM is watched, so an idle HA
// captures nothing. Each frame goes to the callback with the time the kernel stamped it when
// it left (wall clock, like QEMU's STOP event).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/core/asio.hpp"

#include "common/core/address.hpp"
#include "common/core/address6.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "home-agent/home_link_filter.hpp"

struct pcap;

namespace vmroam::ha {

class HomeLinkCapture {
 public:
  using FrameHandler = std::function<void(WallTime at, ByteView frame)>;
  HomeLinkCapture(boost::asio::io_context& io, std::string ifname, FrameHandler on_frame);
  ~HomeLinkCapture();
  HomeLinkCapture(const HomeLinkCapture&) = delete;
  HomeLinkCapture& operator=(const HomeLinkCapture&) = delete;

  // Starts (`on`) or stops capturing what is sent to the VM with HoA `hoa` and IPv6 home
  // addresses `v6`; watching a watched HoA again replaces its IPv6 addresses. Errors:
  // "pcap_failed" naming the interface and libpcap's reason (needs CAP_NET_RAW).
  [[nodiscard]] Result<void> watch(Ipv4 hoa, const std::vector<Ipv6>& v6, bool on);
  // Reads everything the kernel has buffered for us now.
  void drain();

 private:
  [[nodiscard]] Result<void> open();
  void close();
  void arm();
  void dispatch(int max);

  boost::asio::io_context& io_;
  std::string ifname_;
  FrameHandler on_frame_;
  WatchedVms watched_;
  ::pcap* pcap_ = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> sd_;
};

}  // namespace vmroam::ha
