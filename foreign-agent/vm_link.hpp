// VmLink: the FA's eyes and voice on the VM-facing link, in the daemon only (never in tests).
//   * watch: libpcap with a classic BPF filter on the socket: RARP (QEMU's self-announce) and
//     ARP from anyone, IP only from the MACs of visitors whose arrival is awaited
//     (watch_arrivals, docs/foreign-agent.md), immediate mode, its non-blocking fd in the Asio
//     loop; every frame that passes goes to a callback (arrival detection, ARP answers);
//   * send: pcap_inject of whole Ethernet frames (gratuitous ARP for the gateway);
//   * gateway links: a macvlan "vmr-gwN" on the VM link carrying a home gateway's MAC (the
//     anycast gateway), created and deleted through libnl.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

struct pcap;
struct nl_sock;

namespace vmroam::fa {

class VmLink {
 public:
  using FrameHandler = std::function<void(ByteView frame)>;
  // Errors: "pcap_failed" naming the interface and libpcap's reason (needs CAP_NET_RAW).
  [[nodiscard]] static Result<std::unique_ptr<VmLink>> open(boost::asio::io_context& io,
                                                            const std::string& ifname, FrameHandler on_frame);
  ~VmLink();
  VmLink(const VmLink&) = delete;
  VmLink& operator=(const VmLink&) = delete;
  [[nodiscard]] Result<void> send(ByteView frame);
  // IP frames from these MACs (and no others) pass from now on. Errors: "pcap_failed".
  [[nodiscard]] Result<void> watch_arrivals(const std::vector<MacAddress>& awaited);

 private:
  VmLink(boost::asio::io_context& io, ::pcap* p, int fd, FrameHandler on_frame);
  void arm();
  ::pcap* pcap_;
  boost::asio::posix::stream_descriptor sd_;
  FrameHandler on_frame_;
};

// A macvlan named `name` on `lower_ifindex` with MAC `mac`, up. Errors: "gateway_link_failed".
[[nodiscard]] Result<int> add_macvlan(::nl_sock* sock, const std::string& name, int lower_ifindex,
                                      const MacAddress& mac);
void delete_link_by_name(::nl_sock* sock, const std::string& name);

}  // namespace vmroam::fa
