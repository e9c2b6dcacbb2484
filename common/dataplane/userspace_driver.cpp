// UserspaceDriver: see userspace_driver.hpp.
#include "common/dataplane/userspace_driver.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/wire/ipip.hpp"

namespace vmroam::dataplane {

namespace asio = boost::asio;

Result<std::unique_ptr<UserspaceDriver>> UserspaceDriver::create(asio::io_context& io, Netlink& nl,
                                                                 UserspaceConfig config) {
  SteeringConfig steering = config.steering;
  steering.key = config.key;
  // The TUN with offloads (IFF_VNET_HDR): TCP super-packets in one read (docs/dataplane.md
  // "Performance"); IPv6 on for dual-stack VMs, rp_filter 0, forwarding 1 (steered_tun.hpp).
  VMROAM_TRY(auto tun,
             SteeredTun::open(io, nl, {config.tun_name, config.mtu, /*vnet_header=*/true, steering}));
  // Dual-stack VMs' IPv6 comes as protocol 41 (RFC 4213), which the IPPROTO_IPIP socket does
  // not see; we send it through that one (IP_HDRINCL: our header names the protocol).
  int raw6 = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPV6);
  if (raw6 < 0) return fail("raw_socket_failed", std::string("IPPROTO_IPV6: ") + std::strerror(errno));
  int raw = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_IPIP);
  if (raw < 0) {
    int e = errno;
    ::close(raw6);
    return fail("raw_socket_failed", std::string("IPPROTO_IPIP: ") + std::strerror(e));
  }
  int one = 1;
  if (::setsockopt(raw, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) {
    int e = errno;
    ::close(raw);
    ::close(raw6);
    return fail("raw_socket_failed", std::string("IP_HDRINCL: ") + std::strerror(e));
  }
  // One loop thread serves both directions: a TCP sender's 64 KiB bursts arrive while it is
  // busy with the other one. With the defaults (~208 KiB socket buffers, a 500-packet TUN
  // queue) the kernel dropped thousands of packets per second under iperf3 (bench/dataplane).
  // Deeper queues absorb the bursts; *FORCE needs CAP_NET_ADMIN, which we have; without it the
  // plain option is capped by net.core.[rw]mem_max, and that is still better than nothing.
  constexpr int kSocketBuffer = 4 * 1024 * 1024;
  for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
    if (::setsockopt(raw, SOL_SOCKET, force, &kSocketBuffer, sizeof kSocketBuffer) < 0)
      (void)::setsockopt(raw, SOL_SOCKET, plain, &kSocketBuffer, sizeof kSocketBuffer);
  }
  if (::setsockopt(raw6, SOL_SOCKET, SO_RCVBUFFORCE, &kSocketBuffer, sizeof kSocketBuffer) < 0)
    (void)::setsockopt(raw6, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
  {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, tun->name().c_str(), IFNAMSIZ - 1);
    ifr.ifr_qlen = 4096;
    (void)::ioctl(raw, SIOCSIFTXQLEN, &ifr);  // best effort: a shorter queue still works
  }
  return std::unique_ptr<UserspaceDriver>(
      new UserspaceDriver(io, std::move(config), std::move(tun), raw, raw6));
}

UserspaceDriver::UserspaceDriver(asio::io_context& io, UserspaceConfig config,
                                 std::unique_ptr<SteeredTun> tun, int raw_fd, int raw6_fd)
    : config_(std::move(config)),
      tun_(std::move(tun)),
      table_(config_.key, config_.local, config_.ttl),
      raw_sd_(io, raw_fd),
      raw6_sd_(io, raw6_fd),
      // A segment is at most the TUN's MTU (the kernel cuts to it or sends ICMP "fragmentation
      // needed"); room for the outer header (IPv4 20 or RFC 3519 4), rounded to a cache line.
      stride_(std::max<std::size_t>(2048, (config_.mtu + wire::kIpipOverhead + 63) / 64 * 64)),
      tun_buf_(kVnetHeaderSize + kSlot),
      seg_buf_(kMaxGsoSegments * stride_),
      tx_buf_(kTxBatch * stride_),
      one_buf_(kSlot),
      rx_buf_(kBatch * kSlot),
      udp_buf_(kMaxUdpGsoBytes),
      udp_batch_(udp_buf_) {
  for (auto& f : gro_) f = std::make_unique<GroFlow>();
  for (std::size_t i = 0; i < kBatch; ++i) {
    rx_iov_[i] = iovec{rx_buf_.data() + i * kSlot, kSlot};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  for (std::size_t i = 0; i < kTxBatch; ++i) {
    tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[i];
    tx_msgs_[i].msg_hdr.msg_iovlen = 1;
    tx_msgs_[i].msg_hdr.msg_name = &tx_addr_[i];
    tx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
  if (config_.key == LookupKey::destination) offer_hold_port(this);
  tun_->watch([this] { on_tun_readable(); });
  arm_raw(raw_sd_);
  arm_raw(raw6_sd_);
}

UserspaceDriver::~UserspaceDriver() {
  boost::system::error_code ec;
  raw_sd_.cancel(ec);
  raw_sd_.close(ec);
  raw6_sd_.cancel(ec);
  raw6_sd_.close(ec);
  // tun_ goes next: its steering (routes, rules) first, then the TUN.
}

Result<void> UserspaceDriver::add_tunnel_endpoint(const TunnelEndpoint& endpoint) {
  if (endpoint.encapsulation == Encapsulation::udp && !config_.udp_send)
    return fail("no_udp_socket", "UDP tunnelling needs the daemon's UDP 434 sender");
  return table_.add_endpoint(endpoint);
}

Result<void> UserspaceDriver::remove_tunnel_endpoint(Ipv4 peer) {
  if (!table_.has_endpoint(peer)) return fail("unknown_peer", peer.to_string());
  // Unsteer the HoAs routed to this peer before the table forgets them. The table forgets
  // them whatever the kernel says; the first refusal is reported.
  Result<void> unsteered = ok();
  for (Ipv4 hoa : table_.hoas_of(peer))
    if (auto r = tun_->unsteer(hoa, table_.home_addresses_v6(hoa)); !r && unsteered)
      unsteered = fail(r.error());
  VMROAM_TRY_VOID(table_.remove_endpoint(peer));
  return unsteered;
}

Result<void> UserspaceDriver::route(Ipv4 hoa, Ipv4 peer) {
  if (!table_.has_endpoint(peer)) return fail("unknown_peer", peer.to_string());
  VMROAM_TRY_VOID(tun_->steer(hoa));  // the route owns the steering now
  VMROAM_TRY_VOID(table_.route(hoa, peer));
  // Its VM's IPv6 addresses follow; a refusal is reported, the IPv4 route stands.
  return tun_->resteer6(hoa, {}, table_.home_addresses_v6(hoa));
}

Result<void> UserspaceDriver::unroute(Ipv4 hoa) {
  VMROAM_TRY_VOID(table_.unroute(hoa));
  return tun_->unsteer(hoa, table_.home_addresses_v6(hoa));
}

Result<void> UserspaceDriver::set_home_addresses_v6(Ipv4 hoa, const std::vector<Ipv6>& addresses) {
  const std::vector<Ipv6> gone = table_.set_home_addresses_v6(hoa, addresses);
  return tun_->resteer6(hoa, gone, addresses);  // the new ones follow the HoA's route or hold
}

Result<void> UserspaceDriver::divert(Ipv4 hoa, bool on) {
  if (config_.key != LookupKey::destination) return fail("not_supported", "divert: destination lookup only");
  if (on) {
    if (diverted_.contains(hoa)) return ok();
    // A VM at home has no route into the TUN yet: steer it (and its IPv6) here so the kernel
    // hands us its packets (removed again when the divert ends, unless a binding took it over).
    VMROAM_TRY_VOID(tun_->steer_for_hold(hoa, table_.home_addresses_v6(hoa)));
    diverted_.insert(hoa);
    return ok();
  }
  diverted_.erase(hoa);
  // Still not routed: the VM is at home (or the move was cancelled there). Our steering goes,
  // so that what is reinjected now reaches the kernel's home-link route.
  return tun_->end_hold_steering(hoa, table_.home_addresses_v6(hoa));
}

Result<void> UserspaceDriver::tap(Ipv4 hoa, bool on) {
  if (config_.key != LookupKey::destination) return fail("not_supported", "tap: destination lookup only");
  if (on)
    tapped_.insert(hoa);
  else
    tapped_.erase(hoa);
  return ok();
}

Result<void> UserspaceDriver::reinject(ByteView packet) {
  if (config_.key != LookupKey::destination)
    return fail("not_supported", "reinject: destination lookup only");
  if (table_.routed(key_address(packet))) return send_one(packet);
  // Not routed: back to the kernel, which delivers it on the home link.
  if (!write_tun(packet)) return table_.drop(DropReason::deliver_failed);
  return ok();
}

Ipv4 UserspaceDriver::key_address(ByteView inner) const { return table_.key_hoa(inner); }

Result<void> UserspaceDriver::send_one(ByteView inner) {
  std::span<std::uint8_t> slot(one_buf_);
  auto out = table_.encapsulate(inner, slot);
  if (!out) return fail(out.error());  // counted by the table
  const TunnelEndpoint& ep = out->endpoint;
  bool sent = false;
  if (ep.encapsulation == Encapsulation::udp) {
    sent = config_.udp_send(ep.peer, ep.udp_port, ByteView(slot.data(), out->size));
  } else {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(ep.peer.value());
    sent = ::sendto(raw_sd_.native_handle(), slot.data(), out->size, 0,
                    reinterpret_cast<const sockaddr*>(&to), sizeof to) == static_cast<ssize_t>(out->size);
  }
  if (!sent) return table_.drop(DropReason::send_failed);
  table_.count_sent(ep.peer, out->size);
  return ok();
}

void UserspaceDriver::arm_raw(asio::posix::stream_descriptor& sd) {
  sd.async_wait(asio::posix::stream_descriptor::wait_read, [this, &sd](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) on_raw_readable(sd.native_handle());
    arm_raw(sd);
  });
}

bool UserspaceDriver::write_tun(ByteView packet, const VnetHeader& header) {
  if (!tun_->vnet_header()) return tun_->write(packet);
  std::array<std::uint8_t, kVnetHeaderSize> h{};
  write_vnet_header(header, h);
  std::array<iovec, 2> iov{iovec{h.data(), h.size()},
                           iovec{const_cast<std::uint8_t*>(packet.data()), packet.size()}};
  return ::writev(tun_->fd(), iov.data(), 2) == static_cast<ssize_t>(h.size() + packet.size());
}

void UserspaceDriver::on_tun_readable() {
  std::size_t batched = 0;
  for (std::size_t n = 0; n < kBudget; ++n) {
    ssize_t got = ::read(tun_->fd(), tun_buf_.data(), tun_buf_.size());
    if (got <= 0) break;  // EAGAIN: drained
    if (!tun_->vnet_header()) {
      outbound(ByteView(tun_buf_.data(), static_cast<std::size_t>(got)), batched);
      continue;
    }
    if (static_cast<std::size_t>(got) < kVnetHeaderSize) {
      table_.count(DropReason::malformed);
      continue;
    }
    const VnetHeader h = read_vnet_header(ByteView(tun_buf_.data(), kVnetHeaderSize));
    std::span<std::uint8_t> packet(tun_buf_.data() + kVnetHeaderSize,
                                   static_cast<std::size_t>(got) - kVnetHeaderSize);
    if (h.gso_type == kVnetGsoNone) {
      if (!complete_checksum(h, packet)) {
        table_.count(DropReason::malformed);
        continue;
      }
      outbound(packet, batched);
      continue;
    }
    // A super-packet: cut it here (segments are MTU-sized, checksums complete), then every
    // segment takes the ordinary path.
    for (std::size_t first = 0;;) {
      auto count = gso_segment(h, packet, seg_buf_, stride_, seg_len_, first);
      if (!count) {
        table_.count(count.error().code == "malformed" || count.error().code == "unsupported_gso"
                         ? DropReason::malformed
                         : DropReason::too_big);
        break;
      }
      if (*count == 0) break;
      for (std::size_t i = 0; i < *count; ++i)
        outbound(ByteView(seg_buf_.data() + i * stride_, seg_len_[i]), batched);
      first += *count;
    }
  }
  if (batched) flush_ipip(batched);
  if (!udp_batch_.empty()) flush_udp();
}

void UserspaceDriver::outbound(ByteView inner, std::size_t& batched) {
  // Handover hold: a diverted HoA's packets go to the hold instead of anywhere else.
  if (!diverted_.empty()) {
    const Ipv4 key = key_address(inner);
    if (diverted_.contains(key)) {
      if (sink_) sink_(Seen::diverted, key, std::chrono::system_clock::now(), inner);
      return;
    }
  }
  std::span<std::uint8_t> slot(tx_buf_.data() + batched * stride_, stride_);
  auto out = table_.encapsulate(inner, slot);
  if (!out) {
    // Queued by the kernel just before the HoA was unrouted: give it back, the kernel now
    // delivers it on the home link (the route into the TUN is gone, so it cannot loop).
    if (out.error().code == "in_grace" && !write_tun(inner)) table_.count(DropReason::deliver_failed);
    return;  // anything else was counted by the table
  }
  if (!tapped_.empty() && sink_) {
    const Ipv4 key = key_address(inner);
    if (tapped_.contains(key)) sink_(Seen::tapped, key, std::chrono::system_clock::now(), inner);
  }
  const TunnelEndpoint& ep = out->endpoint;
  if (ep.encapsulation == Encapsulation::udp) {
    const ByteView datagram(slot.data(), out->size);
    if (config_.udp_send_batch) {
      // Gathered for one UDP GSO send (at the end of this read loop, or when the next one
      // does not fit: another peer, a bigger datagram, the per-send limits).
      if (udp_batch_.add(ep.peer, ep.udp_port, datagram)) return;
      if (!udp_batch_.empty()) flush_udp();
      if (udp_batch_.add(ep.peer, ep.udp_port, datagram)) return;
    }
    if (config_.udp_send(ep.peer, ep.udp_port, datagram))
      table_.count_sent(ep.peer, out->size);
    else
      table_.count(DropReason::send_failed);
    return;
  }
  tx_iov_[batched].iov_len = out->size;
  tx_addr_[batched] = sockaddr_in{};
  tx_addr_[batched].sin_family = AF_INET;
  tx_addr_[batched].sin_addr.s_addr = htonl(ep.peer.value());
  tx_peer_[batched] = ep.peer;
  if (++batched == kTxBatch) {
    flush_ipip(batched);
    batched = 0;
  }
}

void UserspaceDriver::flush_ipip(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) tx_iov_[i].iov_base = tx_buf_.data() + i * stride_;
  std::size_t done = 0;
  while (done < count) {
    int sent =
        ::sendmmsg(raw_sd_.native_handle(), tx_msgs_.data() + done, static_cast<unsigned>(count - done), 0);
    if (sent <= 0) {
      // The message at `done` failed (EMSGSIZE: bigger than the path MTU, and a header we
      // built is never fragmented by the kernel; ENOBUFS; unreachable). Count it, go on.
      table_.count(errno == EMSGSIZE ? DropReason::too_big : DropReason::send_failed);
      ++done;
      continue;
    }
    for (int i = 0; i < sent; ++i) {
      auto k = done + static_cast<std::size_t>(i);
      table_.count_sent(tx_peer_[k], tx_iov_[k].iov_len);
    }
    done += static_cast<std::size_t>(sent);
  }
}

void UserspaceDriver::flush_udp() {
  const DatagramBatch::Pending b = udp_batch_.take();
  const std::size_t sent = config_.udp_send_batch(b.dst, b.port, b.payload, b.segment_size);
  for (std::size_t i = 0; i < b.segments; ++i) {
    if (i < sent)
      table_.count_sent(b.dst, b.size_of(i));
    else
      table_.count(DropReason::send_failed);
  }
}

void UserspaceDriver::on_raw_readable(int fd) {
  for (std::size_t total = 0; total < kBudget;) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      rx_iov_[i].iov_len = kSlot;
      rx_msgs_[i].msg_hdr.msg_flags = 0;
    }
    int got = ::recvmmsg(fd, rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN: drained
    for (int i = 0; i < got; ++i) {
      auto& m = rx_msgs_[static_cast<std::size_t>(i)];
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        table_.count(DropReason::too_big);
        continue;
      }
      auto in = table_.accept_ipip(
          ByteView(static_cast<const std::uint8_t*>(m.msg_hdr.msg_iov->iov_base), m.msg_len));
      if (in) deliver_coalesced(*in);
    }
    flush_gro();  // what this batch merged goes now, not after the next wait
    total += static_cast<std::size_t>(got);
    if (static_cast<std::size_t>(got) < kBatch) return;
  }
}

void UserspaceDriver::deliver_coalesced(const Inbound& in) {
  if (!tun_->vnet_header()) {
    deliver(in);
    return;
  }
  GroFlow* f = nullptr;
  for (auto& g : gro_)
    if (g->coalescer.same_flow(in.inner)) {
      f = g.get();
      break;
    }
  if (f) {
    if (f->coalescer.add(in.inner)) {
      f->pending[f->count++] = in.packet;
      return;
    }
    flush_gro(*f);  // the flow's merged segments go first: no reordering within a flow
  } else {
    for (auto& g : gro_)
      if (g->coalescer.empty()) {
        f = g.get();
        break;
      }
    if (!f) {
      f = gro_[gro_next_++ % kGroFlows].get();
      flush_gro(*f);
    }
  }
  if (f->coalescer.add(in.inner)) {
    f->pending[f->count++] = in.packet;
    return;
  }
  deliver(in);  // not a TCP data segment: as it is
}

bool UserspaceDriver::gro_pending() const {
  for (const auto& g : gro_)
    if (!g->coalescer.empty()) return true;
  return false;
}

void UserspaceDriver::flush_gro() {
  for (auto& g : gro_) flush_gro(*g);
}

void UserspaceDriver::flush_gro(GroFlow& flow) {
  if (flow.coalescer.empty()) return;
  const TcpCoalescer::Merged m = flow.coalescer.flush();
  const bool ok = write_tun(m.packet, m.header);
  for (std::size_t i = 0; i < flow.count; ++i) {
    if (!ok) {
      table_.count(DropReason::deliver_failed);
      continue;
    }
    table_.count_delivered(Inbound{flow.pending[i], ByteView()});
    decapsulated(flow.pending[i]);
  }
  flow.count = 0;
}

void UserspaceDriver::handle_udp_tunnel_payload(Ipv4 src, std::uint16_t src_port, ByteView payload) {
  (void)src_port;
  auto in = table_.accept_udp(src, payload);
  if (!in) return;
  deliver_coalesced(*in);
  // The daemon hands datagrams over one at a time from its own receive loop: merge what it
  // drains in one go, write it once that loop yields. The coalescer holds copies, so the
  // daemon's buffer may be reused meanwhile; `alive_` guards against a driver gone by then.
  if (!flush_posted_ && gro_pending()) {
    flush_posted_ = true;
    asio::post(raw_sd_.get_executor(), [this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired()) return;
      flush_posted_ = false;
      flush_gro();
    });
  }
}

void UserspaceDriver::deliver(const Inbound& in) {
  if (!write_tun(in.inner)) {
    table_.count(DropReason::deliver_failed);
    return;
  }
  table_.count_delivered(in);
  decapsulated(in.packet);
}

}  // namespace vmroam::dataplane
