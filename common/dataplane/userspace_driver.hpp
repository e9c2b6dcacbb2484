// UserspaceDriver: the reference data plane. A TUN device catches what the kernel routes
// into the tunnel (Steering puts the routes/rules there); packets are encapsulated here and
// leave through a raw IPPROTO_IPIP socket (IP_HDRINCL: we write the RFC 2003 outer header,
// wire::ipip_encapsulate copies TOS and DF from the inner header, TTL from config, and the
// kernel fills ID and checksum) or through the daemon's UDP 434 socket (RFC 3519: the
// daemon's socket builds the outer IPv4/UDP header). Received IP-in-IP arrives whole on the
// raw socket (works without the ipip module); UDP tunnel data is handed over by the daemon.
// Accepted inner packets are written to the TUN device and the kernel routes them on.
//
// Per readiness event the TUN is read until EAGAIN (at most kBudget packets, then re-armed
// for fairness) and the IP-in-IP results go out in one sendmmsg; the raw socket is drained
// with recvmmsg. All buffers are allocated once at construction.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

// g++ 12 at -O2 flags Boost 1.74's scheduler (thread_info cast) with -Wnull-dereference;
// the diagnostic belongs to Boost, not to us.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "common/core/asio.hpp"
#pragma GCC diagnostic pop
#include "common/dataplane/handover_hold.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/steering.hpp"
#include "common/dataplane/sysctl.hpp"
#include "common/dataplane/tun_device.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/dataplane/tunnel_table.hpp"

namespace vmroam::dataplane {

// Sends one UDP payload from the daemon's port-434 socket; false if the socket refused it.
using UdpSender = std::function<bool(Ipv4 dst, std::uint16_t port, ByteView payload)>;

struct UserspaceConfig {
  LookupKey key = LookupKey::destination;
  Ipv4 local;  // outer source (this agent's tunnel address); 0 = kernel picks
  std::string tun_name = "vmrtun0";
  unsigned mtu = 1468;      // 1500 − 20 (IPv4) − 8 (UDP) − 4 (RFC 3519 header)
  std::uint8_t ttl = 64;    // outer TTL (RFC 2003 §3.1)
  SteeringConfig steering;  // key is overwritten with `key`
  UdpSender udp_send;       // required only for UDP endpoints
};

class UserspaceDriver final : public TunnelDriver {
 public:
  static Result<std::unique_ptr<UserspaceDriver>> create(boost::asio::io_context& io, Netlink& nl,
                                                         UserspaceConfig config);
  ~UserspaceDriver() override;

  Result<void> add_tunnel_endpoint(const TunnelEndpoint& endpoint) override;
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override;
  Result<void> route(Ipv4 hoa, Ipv4 peer) override;
  Result<void> unroute(Ipv4 hoa) override;
  [[nodiscard]] TunnelStats stats() const override { return table_.stats(); }
  void set_decapsulated_hook(DecapsulatedHook hook) override { hook_ = std::move(hook); }
  void handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) override;
  [[nodiscard]] std::string_view name() const override { return "userspace"; }
  void end_grace(Ipv4 hoa) override { table_.end_grace(hoa); }
  void record(Ipv4 hoa, bool on) override;
  Result<std::size_t> hold(Ipv4 hoa, std::optional<WallTime> recover_since,
                           std::vector<Bytes> recovered) override;
  Result<std::size_t> release(Ipv4 hoa) override;

  [[nodiscard]] int tun_ifindex() const { return tun_ifindex_; }
  [[nodiscard]] const std::string& tun_name() const { return tun_.name(); }

  static constexpr std::size_t kBatch = 32;
  static constexpr std::size_t kBudget = 4 * kBatch;
  static constexpr std::size_t kSlot = 65536;

 private:
  UserspaceDriver(boost::asio::io_context& io, Netlink& nl, UserspaceConfig config, TunDevice tun, int raw_fd,
                  int ifindex);
  void arm_tun();
  void arm_raw();
  void on_tun_readable();
  void on_raw_readable();
  void flush_ipip(std::size_t count);
  void deliver(const Inbound& in);
  // The inner address the lookup key names (0 when the packet is too short to say).
  [[nodiscard]] Ipv4 key_address(ByteView inner) const;
  // Encapsulates one inner packet for its routed peer and sends it at once (control plane:
  // releasing a hold), using the last tx slot.
  void send_one(ByteView inner);

  UserspaceConfig config_;
  TunDevice tun_;
  int tun_ifindex_;
  TunnelTable table_;
  Steering steering_;
  Sysctl sysctl_;
  DecapsulatedHook hook_;
  PacketRecorder recorder_;
  HoldQueue held_;
  std::unordered_set<Ipv4> steered_for_hold_;  // HoAs steered only because they are held
  boost::asio::posix::stream_descriptor tun_sd_;
  boost::asio::posix::stream_descriptor raw_sd_;
  // Preallocated I/O state.
  std::vector<std::uint8_t> tun_buf_;  // one inner packet read from the TUN
  std::vector<std::uint8_t> tx_buf_;   // kBatch outer packets
  std::vector<std::uint8_t> rx_buf_;   // kBatch received outer packets
  std::array<mmsghdr, kBatch> tx_msgs_{};
  std::array<iovec, kBatch> tx_iov_{};
  std::array<sockaddr_in, kBatch> tx_addr_{};
  std::array<Ipv4, kBatch> tx_peer_{};
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<iovec, kBatch> rx_iov_{};
};

}  // namespace vmroam::dataplane
