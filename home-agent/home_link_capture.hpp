// HomeLinkCapture: what the home router sends onto the home link for the addresses of VMs
// about to leave (handover recovery, docs/home-agent.md "Handover hold"). Daemon only.
//
// libpcap on the home interface, outbound only, immediate mode, BPF "ip dst host A or …"
// rebuilt whenever the set of watched addresses changes; the handle exists only while an
// address is watched, so an idle HA captures nothing. Each frame goes to the callback with
// the time the kernel stamped it when it left (wall clock, like QEMU's STOP event).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/core/asio.hpp"

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

struct pcap;

namespace vmroam::ha {

class HomeLinkCapture {
 public:
  using FrameHandler = std::function<void(WallTime at, ByteView frame)>;
  HomeLinkCapture(boost::asio::io_context& io, std::string ifname, FrameHandler on_frame);
  ~HomeLinkCapture();
  HomeLinkCapture(const HomeLinkCapture&) = delete;
  HomeLinkCapture& operator=(const HomeLinkCapture&) = delete;

  // Errors: "pcap_failed" naming the interface and libpcap's reason (needs CAP_NET_RAW).
  [[nodiscard]] Result<void> watch(Ipv4 address, bool on);
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
  std::set<Ipv4> watched_;
  ::pcap* pcap_ = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> sd_;
};

}  // namespace vmroam::ha
