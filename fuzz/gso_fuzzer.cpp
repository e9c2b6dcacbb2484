// Fuzz target: the userspace GSO/GRO of the data plane (common/dataplane/gso.hpp), which
// parses whatever the kernel hands over through the TUN (virtio_net_hdr + packet) and what
// arrives from a tunnel peer (the coalescer's input).
//
// The first 10 bytes are a virtio_net_hdr, the rest the packet. Beyond "no crash, no
// over-read" it checks, aborting if any fails:
//   * every segment gso_segment() writes is a valid IPv4 packet (parse_ipv4: header checksum,
//     total length) whose TCP checksum verifies, and the segments carry exactly the input's
//     payload bytes, in order;
//   * merging those segments with TcpCoalescer and cutting the result again gives back the
//     same segments (when they merge into one);
//   * complete_checksum() and TcpCoalescer::add() on the raw input never read or write
//     outside it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/core/bytes.hpp"
#include "common/dataplane/gso.hpp"
#include "common/wire/ipv4.hpp"

namespace {

namespace dp = vmroam::dataplane;
using vmroam::ByteView;

void require(bool condition) {
  if (!condition) std::abort();
}

constexpr std::size_t kStride = 2048;
std::array<std::uint8_t, dp::kMaxGsoSegments * kStride> segments;
std::array<std::uint8_t, dp::kMaxGsoSegments * kStride> again;
std::array<std::uint8_t, 65535> merge_buf;

bool tcp_checksum_ok(ByteView p) {
  auto h = vmroam::wire::parse_ipv4(p);
  if (!h) return false;
  ByteView tcp = vmroam::wire::ipv4_payload(p, *h);
  return vmroam::wire::internet_checksum(
             tcp,
             vmroam::wire::pseudo_header_sum(h->src, h->dst, 6, static_cast<std::uint16_t>(tcp.size()))) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < dp::kVnetHeaderSize) return 0;
  const dp::VnetHeader h = dp::read_vnet_header(ByteView(data, dp::kVnetHeaderSize));
  std::vector<std::uint8_t> packet(data + dp::kVnetHeaderSize, data + size);

  std::vector<std::uint8_t> copy = packet;
  (void)dp::complete_checksum(h, copy);
  {
    dp::TcpCoalescer co(merge_buf);
    if (co.add(packet)) require(co.flush().packet.size() == packet.size());
  }

  std::array<std::size_t, dp::kMaxGsoSegments> lengths{};
  auto n = dp::gso_segment(h, packet, segments, kStride, lengths);
  if (!n) return 0;
  require(*n >= 1 && *n <= dp::kMaxGsoSegments);
  const std::size_t ihl = std::size_t{packet[0] & 0x0fU} * 4;
  const std::size_t hdr = ihl + static_cast<std::size_t>(packet[ihl + 12] >> 4) * 4;
  std::size_t carried = 0;
  for (std::size_t i = 0; i < *n; ++i) {
    ByteView seg(segments.data() + i * kStride, lengths[i]);
    require(lengths[i] >= hdr && lengths[i] <= kStride);
    require(tcp_checksum_ok(seg));
    require(std::memcmp(seg.data() + hdr, packet.data() + hdr + carried, seg.size() - hdr) == 0);
    carried += seg.size() - hdr;
  }
  // The first call may stop at kMaxGsoSegments; the payload it covered is what it carried.
  require(carried <= packet.size() - hdr);

  dp::TcpCoalescer co(merge_buf);
  std::size_t merged = 0;
  while (merged < *n && co.add(ByteView(segments.data() + merged * kStride, lengths[merged]))) ++merged;
  if (merged == *n && merged > 1) {
    const auto m = co.flush();
    std::array<std::size_t, dp::kMaxGsoSegments> lengths2{};
    auto n2 = dp::gso_segment(m.header, m.packet, again, kStride, lengths2);
    require(n2.has_value() && *n2 == *n);
    for (std::size_t i = 0; i < *n; ++i) {
      require(lengths2[i] == lengths[i]);
      require(std::memcmp(again.data() + i * kStride, segments.data() + i * kStride, lengths[i]) == 0);
    }
  }
  return 0;
}
