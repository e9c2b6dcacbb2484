// UserspaceDriver: the reference data plane. A TUN device catches what the kernel routes
// into the tunnel (a SteeredTun, shared with the eBPF driver, puts the routes/rules there and
// opens the TUN); packets are encapsulated here and
// leave through a raw IPPROTO_IPIP socket (IP_HDRINCL: we write the RFC 2003 outer header,
// wire::ipip_encapsulate copies TOS and DF from the inner header, TTL from config, and the
// kernel fills ID and checksum) or through the daemon's UDP 434 socket (RFC 3519: the
// daemon's socket builds the outer IPv4/UDP header). Received IP-in-IP arrives whole on the
// raw socket (works without the ipip module); UDP tunnel data is handed over by the daemon.
// Accepted inner packets are written to the TUN device and the kernel routes them on.
// A dual-stack VM's IPv6 takes the same paths (docs/dataplane.md "IPv6"): its /128s are steered
// into the TUN like its IPv4 HoA, leave as IPv6-in-IPv4 (protocol 41, RFC 4213 §3.5, through
// the same raw socket) or RFC 3519 UDP with Next Header 41, and arrive on a second raw socket
// (IPPROTO_IPV6) or from the daemon's UDP socket.
//
// Per readiness event the TUN is read until EAGAIN (at most kBudget reads, then re-armed for
// fairness) and the IP-in-IP results go out in sendmmsg batches of up to kTxBatch; the raw
// socket is drained with recvmmsg. All buffers are allocated once at construction.
//
// Offloads (gso.hpp, docs/dataplane.md "Performance"): the TUN carries virtio_net_hdr
// (IFF_VNET_HDR + TUN_F_CSUM | TUN_F_TSO4), so one read brings a whole 64 KiB TCP
// super-packet; it is cut here into MTU-sized segments with complete checksums (userspace
// GSO), and each segment then takes the per-packet path (hold, lookup, encapsulation,
// recording) unchanged. Received IP-in-IP segments of one TCP flow within a recvmmsg batch
// are merged back into one super-packet (userspace GRO) and written to the TUN in one write;
// counters and the decapsulated hook still see every inner packet. RFC 3519 UDP payloads
// arrive one call at a time from the daemon; they are merged the same way and written when
// the daemon's receive loop yields (a handler posted on the loop). Outbound RFC 3519 segments
// of one peer are gathered (DatagramBatch) and handed to the daemon's udp_send_batch, which
// sends them with UDP GSO: one sendmsg per ~64 KiB instead of one per segment.
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
#include "common/dataplane/gso.hpp"
#include "common/dataplane/hold_port.hpp"
#include "common/dataplane/netlink.hpp"
#include "common/dataplane/steered_tun.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/dataplane/tunnel_table.hpp"

namespace vmroam::dataplane {

// Sends one UDP payload from the daemon's port-434 socket; false if the socket refused it.
using UdpSender = std::function<bool(Ipv4 dst, std::uint16_t port, ByteView payload)>;

// Sends datagrams of segment_size bytes laid end to end (the last may be shorter) from the
// same socket in one go (UDP GSO); returns how many of them the socket accepted.
using UdpBatchSender =
    std::function<std::size_t(Ipv4 dst, std::uint16_t port, ByteView payload, std::size_t segment_size)>;

struct UserspaceConfig {
  LookupKey key = LookupKey::destination;
  Ipv4 local;  // outer source (this agent's tunnel address); 0 = kernel picks
  std::string tun_name = "vmrtun0";
  unsigned mtu = 1468;            // 1500 − 20 (IPv4) − 8 (UDP) − 4 (RFC 3519 header)
  std::uint8_t ttl = 64;          // outer TTL (RFC 2003 §3.1)
  SteeringConfig steering;        // key is overwritten with `key`
  UdpSender udp_send;             // required only for UDP endpoints
  UdpBatchSender udp_send_batch;  // optional: without it every datagram goes through udp_send
};

// At the HA (destination lookup) it is also the handover hold's HoldPort: the TUN read path
// diverts or taps a HoA's packets (docs/dataplane.md "Handover hold").
class UserspaceDriver final : public TunnelDriver, public HoldPort {
 public:
  static Result<std::unique_ptr<UserspaceDriver>> create(boost::asio::io_context& io, Netlink& nl,
                                                         UserspaceConfig config);
  ~UserspaceDriver() override;

  Result<void> add_tunnel_endpoint(const TunnelEndpoint& endpoint) override;
  Result<void> remove_tunnel_endpoint(Ipv4 peer) override;
  Result<void> route(Ipv4 hoa, Ipv4 peer) override;
  Result<void> unroute(Ipv4 hoa) override;
  [[nodiscard]] TunnelStats stats() const override { return table_.stats(); }
  void handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) override;
  [[nodiscard]] std::string_view name() const override { return "userspace"; }
  void end_grace(Ipv4 hoa) override { table_.end_grace(hoa); }
  Result<void> set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) override;

  // HoldPort (destination lookup only; "not_supported" at the FA).
  void set_sink(Sink sink) override { sink_ = std::move(sink); }
  Result<void> divert(Ipv4 hoa, bool on) override;
  Result<void> tap(Ipv4 hoa, bool on) override;
  Result<void> reinject(ByteView packet) override;

  [[nodiscard]] int tun_ifindex() const { return tun_->ifindex(); }
  [[nodiscard]] const std::string& tun_name() const { return tun_->name(); }

  static constexpr std::size_t kBatch = 32;                 // recvmmsg batch
  static constexpr std::size_t kBudget = 4 * kBatch;        // reads per readiness event
  static constexpr std::size_t kSlot = 65536;               // one packet of any size
  static constexpr std::size_t kTxBatch = kMaxGsoSegments;  // sendmmsg batch: a super-packet

 private:
  struct GroFlow;
  UserspaceDriver(boost::asio::io_context& io, UserspaceConfig config, std::unique_ptr<SteeredTun> tun,
                  int raw_fd, int raw6_fd);
  void arm_raw(boost::asio::posix::stream_descriptor& sd);
  void on_tun_readable();
  void on_raw_readable(int fd);
  // The per-packet outbound path for one (already segmented) inner packet: hold, lookup,
  // encapsulation; IP-in-IP results are queued in tx slot `batched` (flushed when full).
  void outbound(ByteView inner, std::size_t& batched);
  void flush_ipip(std::size_t count);
  // Sends the gathered RFC 3519 datagrams (one udp_send_batch call), counted per datagram.
  void flush_udp();
  void deliver(const Inbound& in);
  // Received inner packets through the coalescer; flush_gro() writes what it merged.
  void deliver_coalesced(const Inbound& in);
  void flush_gro();
  void flush_gro(GroFlow& flow);
  [[nodiscard]] bool gro_pending() const;
  // One packet into the kernel, with a virtio_net_hdr when the TUN wants one.
  bool write_tun(ByteView packet, const VnetHeader& header = {});
  // The inner address the lookup key names (0 when the packet is too short to say).
  [[nodiscard]] Ipv4 key_address(ByteView inner) const;
  // Encapsulates one inner packet for its routed peer and sends it at once (control plane:
  // releasing a hold), through its own buffer.
  Result<void> send_one(ByteView inner);

  UserspaceConfig config_;
  std::unique_ptr<SteeredTun> tun_;  // the TUN and the steering into it (HoAs, their IPv6, holds)
  TunnelTable table_;
  // HoldPort state: what the TUN read path hands to the sink instead of sending (diverted_) or
  // besides sending (tapped_).
  Sink sink_;
  std::unordered_set<Ipv4> diverted_;
  std::unordered_set<Ipv4> tapped_;
  boost::asio::posix::stream_descriptor raw_sd_;
  boost::asio::posix::stream_descriptor raw6_sd_;  // protocol 41: dual-stack VMs' IPv6 (RFC 4213)
  // Preallocated I/O state.
  std::size_t stride_;                 // one MTU-sized packet + outer header, rounded up
  std::vector<std::uint8_t> tun_buf_;  // what one TUN read returns (vnet header + packet)
  std::vector<std::uint8_t> seg_buf_;  // kMaxGsoSegments segments of one super-packet
  std::array<std::size_t, kMaxGsoSegments> seg_len_{};
  std::vector<std::uint8_t> tx_buf_;   // kTxBatch outer packets of stride_ bytes
  std::vector<std::uint8_t> one_buf_;  // send_one's outer packet (any size)
  std::vector<std::uint8_t> rx_buf_;   // kBatch received outer packets
  std::vector<std::uint8_t> udp_buf_;  // RFC 3519 datagrams for one UDP GSO send
  DatagramBatch udp_batch_;
  // One super-packet being merged per TCP flow, for a few flows at once (iperf3 -P 4, or a
  // VM's several connections, interleave within one batch).
  struct GroFlow {
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(kSlot);
    TcpCoalescer coalescer{buf};
    std::array<DecapsulatedPacket, kMaxGsoSegments> pending{};  // counted after the write
    std::size_t count = 0;
  };
  static constexpr std::size_t kGroFlows = 4;
  std::array<std::unique_ptr<GroFlow>, kGroFlows> gro_;
  std::size_t gro_next_ = 0;                               // the flow slot to evict when all are busy
  bool flush_posted_ = false;                              // a flush_gro() is queued on the loop
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // expires with the driver
  std::array<mmsghdr, kTxBatch> tx_msgs_{};
  std::array<iovec, kTxBatch> tx_iov_{};
  std::array<sockaddr_in, kTxBatch> tx_addr_{};
  std::array<Ipv4, kTxBatch> tx_peer_{};
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<iovec, kBatch> rx_iov_{};
};

}  // namespace vmroam::dataplane
