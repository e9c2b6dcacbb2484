// Userspace GSO/GRO: see gso.hpp.
#include "common/dataplane/gso.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace vmroam::dataplane {

namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::size_t kTcpMinHeader = 20;
constexpr std::uint8_t kFin = 0x01;
constexpr std::uint8_t kPsh = 0x08;
constexpr std::uint8_t kAck = 0x10;
constexpr std::uint8_t kCwr = 0x80;
constexpr std::size_t kTcpChecksumAt = 16;  // RFC 793 §3.1
constexpr std::size_t kIpChecksumAt = 10;   // RFC 791 §3.1

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}
std::uint32_t fold(std::uint64_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint32_t>(s);
}

// RFC 793 §3.1 pseudo-header: source, destination, zero + protocol, TCP length.
std::uint32_t tcp_pseudo_sum(const std::uint8_t* ip, std::size_t tcp_length) {
  std::uint64_t s = 0;
  for (std::size_t i = 12; i < 20; i += 2) s += get16(ip + i);
  s += kProtoTcp;
  s += tcp_length;
  return fold(s);
}

// The IPv4 header checksum, recomputed (RFC 791 §3.1).
void set_ip_checksum(std::uint8_t* ip, std::size_t ihl) {
  put16(ip + kIpChecksumAt, 0);
  put16(ip + kIpChecksumAt, static_cast<std::uint16_t>(~checksum_add(ByteView(ip, ihl)) & 0xffff));
}

// The fields of an IPv4/TCP packet both directions need; nullopt-like `ok` when it is not one
// we handle (IPv4, TCP, not a fragment, headers inside the buffer).
struct TcpView {
  bool ok = false;
  std::size_t ip_len = 0;
  std::size_t tcp_len = 0;  // TCP header bytes
};
TcpView view_tcp(ByteView p) {
  TcpView v;
  if (p.size() < 20 || (p[0] >> 4) != 4) return v;
  v.ip_len = std::size_t{p[0] & 0x0fu} * 4;
  if (v.ip_len < 20 || p[9] != kProtoTcp || (get16(p.data() + 6) & 0x3fff) != 0) return v;
  if (p.size() < v.ip_len + kTcpMinHeader) return v;
  v.tcp_len = static_cast<std::size_t>(p[v.ip_len + 12] >> 4) * 4;
  if (v.tcp_len < kTcpMinHeader || p.size() < v.ip_len + v.tcp_len) return v;
  v.ok = true;
  return v;
}

}  // namespace

VnetHeader read_vnet_header(ByteView b) {
  VnetHeader h;
  h.flags = b[0];
  h.gso_type = b[1];
  // Host byte order (TUN without TUNSETVNETLE/BE on a little-endian host: legacy virtio).
  std::memcpy(&h.hdr_len, b.data() + 2, 2);
  std::memcpy(&h.gso_size, b.data() + 4, 2);
  std::memcpy(&h.csum_start, b.data() + 6, 2);
  std::memcpy(&h.csum_offset, b.data() + 8, 2);
  return h;
}

void write_vnet_header(const VnetHeader& h, std::span<std::uint8_t> out) {
  out[0] = h.flags;
  out[1] = h.gso_type;
  std::memcpy(out.data() + 2, &h.hdr_len, 2);
  std::memcpy(out.data() + 4, &h.gso_size, 2);
  std::memcpy(out.data() + 6, &h.csum_start, 2);
  std::memcpy(out.data() + 8, &h.csum_offset, 2);
}

std::uint32_t checksum_add(ByteView data, std::uint32_t initial) {
  // Ones' complement addition is byte-order independent in 16-bit lanes (RFC 1071 §2(B)):
  // the bulk is summed as native-order 32-bit words (64 bytes per step, a loop the compiler
  // turns into vector adds: this sum ran for every byte twice, once per segment on the way
  // out and once per segment checked by the coalescer), folded, and swapped into network
  // order on a little-endian host; the tail as big-endian words. All sums fit 64 bits:
  // 16 words < 2^36 per step.
  const std::uint8_t* p = data.data();
  const std::size_t bulk_end = data.size() & ~std::size_t{63};
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i < bulk_end; i += 64) {
    std::array<std::uint32_t, 16> w;
    std::memcpy(w.data(), p + i, sizeof w);
    std::uint64_t step = 0;
    for (std::uint32_t x : w) step += x;
    acc += step;
  }
  std::uint32_t bulk = fold(acc);
  if constexpr (std::endian::native == std::endian::little) bulk = ((bulk & 0xffu) << 8) | (bulk >> 8);
  std::uint64_t s = std::uint64_t{initial} + bulk;
  for (; i + 4 <= data.size(); i += 4) s += get32(p + i);
  if (i + 2 <= data.size()) {
    s += get16(p + i);
    i += 2;
  }
  if (i < data.size()) s += std::uint32_t{p[i]} << 8;
  return fold(s);
}

Result<void> complete_checksum(const VnetHeader& h, std::span<std::uint8_t> packet) {
  if (!(h.flags & kVnetNeedsCsum)) return ok();
  const std::size_t start = h.csum_start;
  const std::size_t at = start + h.csum_offset;
  if (start >= packet.size() || at + 2 > packet.size()) return fail("bad_csum_offsets");
  // The field holds the pseudo-header sum; the sum over [start, end) includes it.
  const std::uint32_t s = checksum_add(ByteView(packet.data() + start, packet.size() - start));
  put16(packet.data() + at, static_cast<std::uint16_t>(~s & 0xffff));
  return ok();
}

Result<std::size_t> gso_segment(const VnetHeader& h, ByteView packet, std::span<std::uint8_t> out,
                                std::size_t stride, std::span<std::size_t> lengths, std::size_t first) {
  if (h.gso_type != kVnetGsoTcpv4) return fail("unsupported_gso");
  if (h.gso_size == 0) return fail("bad_gso_size");
  const TcpView v = view_tcp(packet);
  if (!v.ok || get16(packet.data() + 2) != packet.size())
    return fail("malformed", "not a whole IPv4/TCP packet");
  const std::size_t hdr = v.ip_len + v.tcp_len;
  const std::size_t payload = packet.size() - hdr;
  const std::size_t mss = h.gso_size;
  const std::size_t count = payload == 0 ? 1 : (payload + mss - 1) / mss;
  const std::size_t room = std::min(lengths.size(), stride == 0 ? 0 : out.size() / stride);
  if (room == 0) return fail("no_room");
  if (hdr + std::min(mss, payload) > stride) return fail("segment_too_big");
  if (first >= count) return std::size_t{0};
  const std::size_t last = std::min(count, first + room);  // one past

  const std::uint8_t* in = packet.data();
  const std::uint16_t id0 = get16(in + 4);
  const std::uint32_t seq0 = get32(in + v.ip_len + 4);
  const std::uint8_t flags0 = in[v.ip_len + 13];
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t off = i * mss;
    const std::size_t len = std::min(mss, payload - std::min(payload, off));
    std::uint8_t* seg = out.data() + (i - first) * stride;
    std::memcpy(seg, in, hdr);
    std::memcpy(seg + hdr, in + hdr + off, len);
    const std::size_t total = hdr + len;
    put16(seg + 2, static_cast<std::uint16_t>(total));
    put16(seg + 4, static_cast<std::uint16_t>(id0 + i));  // what the kernel's TSO does
    set_ip_checksum(seg, v.ip_len);
    std::uint8_t* tcp = seg + v.ip_len;
    put32(tcp + 4, seq0 + static_cast<std::uint32_t>(off));
    std::uint8_t f = flags0;
    if (i + 1 < count) f &= static_cast<std::uint8_t>(~(kFin | kPsh));
    if (i > 0) f &= static_cast<std::uint8_t>(~kCwr);
    tcp[13] = f;
    put16(tcp + kTcpChecksumAt, 0);
    const std::uint32_t s =
        checksum_add(ByteView(tcp, total - v.ip_len), tcp_pseudo_sum(seg, total - v.ip_len));
    put16(tcp + kTcpChecksumAt, static_cast<std::uint16_t>(~s & 0xffff));
    lengths[i - first] = total;
  }
  return last - first;
}

bool TcpCoalescer::add(ByteView p) {
  const TcpView v = view_tcp(p);
  if (!v.ok || v.ip_len != 20 || get16(p.data() + 2) != p.size()) return false;
  const std::size_t hdr = v.ip_len + v.tcp_len;
  const std::size_t payload = p.size() - hdr;
  const std::uint8_t* tcp = p.data() + v.ip_len;
  const std::uint8_t flags = tcp[13];
  // Plain data only: ACK set, nothing but PSH besides (no SYN/FIN/RST/URG/ECE/CWR).
  if (payload == 0 || (flags & ~(kAck | kPsh)) != 0 || !(flags & kAck)) return false;
  // The headers must be intact: a bad segment goes on alone and its receiver drops it.
  if (checksum_add(ByteView(p.data(), v.ip_len)) != 0xffff) return false;
  if (checksum_add(ByteView(tcp, p.size() - v.ip_len), tcp_pseudo_sum(p.data(), p.size() - v.ip_len)) !=
      0xffff)
    return false;
  const std::uint32_t seq = get32(tcp + 4);
  const std::size_t limit = std::min<std::size_t>(buf_.size(), 65535);

  if (segments_ == 0) {
    if (p.size() > limit) return false;
    std::memcpy(buf_.data(), p.data(), p.size());
    size_ = p.size();
    segments_ = 1;
    ip_len_ = v.ip_len;
    hdr_len_ = hdr;
    mss_ = payload;
    next_seq_ = seq + static_cast<std::uint32_t>(payload);
    closed_ = (flags & kPsh) != 0;
    return true;
  }
  if (closed_ || hdr != hdr_len_ || payload > mss_ || seq != next_seq_ || size_ + payload > limit ||
      segments_ >= kMaxGsoSegments)
    return false;
  const std::uint8_t* a = buf_.data();
  const std::uint8_t* b = p.data();
  // IP: version/IHL/TOS, flags/fragment, TTL/protocol, addresses equal (not length, ID, sum).
  if (std::memcmp(a, b, 2) != 0 || std::memcmp(a + 6, b + 6, 4) != 0 || std::memcmp(a + 12, b + 12, 8) != 0)
    return false;
  const std::uint8_t* ta = a + ip_len_;
  // TCP: ports; ack, data offset; window and urgent pointer and options (timestamps too).
  if (std::memcmp(ta, tcp, 4) != 0 || std::memcmp(ta + 8, tcp + 8, 5) != 0 ||
      std::memcmp(ta + 14, tcp + 14, 2) != 0 || std::memcmp(ta + 18, tcp + 18, v.tcp_len - 18) != 0)
    return false;
  std::memcpy(buf_.data() + size_, p.data() + hdr, payload);
  size_ += payload;
  ++segments_;
  next_seq_ += static_cast<std::uint32_t>(payload);
  if (flags & kPsh) buf_[ip_len_ + 13] |= kPsh;
  if (payload < mss_ || (flags & kPsh)) closed_ = true;
  return true;
}

bool TcpCoalescer::same_flow(ByteView p) const {
  if (segments_ == 0) return false;
  const TcpView v = view_tcp(p);
  return v.ok && std::memcmp(buf_.data() + 12, p.data() + 12, 8) == 0 &&
         std::memcmp(buf_.data() + ip_len_, p.data() + v.ip_len, 4) == 0;
}

TcpCoalescer::Merged TcpCoalescer::flush() {
  Merged m;
  m.packet = ByteView(buf_.data(), size_);
  if (segments_ > 1) {
    std::uint8_t* ip = buf_.data();
    put16(ip + 2, static_cast<std::uint16_t>(size_));
    set_ip_checksum(ip, ip_len_);
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, the kernel (or whoever cuts
    // the packet again) finishes it per segment.
    put16(ip + ip_len_ + kTcpChecksumAt, static_cast<std::uint16_t>(tcp_pseudo_sum(ip, size_ - ip_len_)));
    m.header.flags = kVnetNeedsCsum;
    m.header.gso_type = kVnetGsoTcpv4;
    m.header.hdr_len = static_cast<std::uint16_t>(hdr_len_);
    m.header.gso_size = static_cast<std::uint16_t>(mss_);
    m.header.csum_start = static_cast<std::uint16_t>(ip_len_);
    m.header.csum_offset = kTcpChecksumAt;
  }
  segments_ = 0;
  size_ = 0;
  closed_ = false;
  return m;
}

bool DatagramBatch::add(Ipv4 dst, std::uint16_t port, ByteView datagram) {
  if (datagram.empty() || datagram.size() > max_bytes_) return false;
  if (segments_ != 0) {
    // Joins only what UDP_SEGMENT cuts back into the same datagrams: same destination, not
    // bigger than the first (a shorter one is the last), within the per-send limits.
    if (closed_ || dst != dst_ || port != port_ || datagram.size() > segment_size_ ||
        segments_ == max_segments_ || size_ + datagram.size() > max_bytes_)
      return false;
  } else {
    dst_ = dst;
    port_ = port;
    segment_size_ = datagram.size();
  }
  std::memcpy(buf_.data() + size_, datagram.data(), datagram.size());
  size_ += datagram.size();
  ++segments_;
  closed_ = datagram.size() < segment_size_;
  return true;
}

DatagramBatch::Pending DatagramBatch::take() {
  if (segments_ == 0) std::abort();  // contract: only when something is pending
  Pending p{dst_, port_, ByteView(buf_.data(), size_), segment_size_, segments_};
  segments_ = 0;
  size_ = 0;
  closed_ = false;
  return p;
}

}  // namespace vmroam::dataplane
