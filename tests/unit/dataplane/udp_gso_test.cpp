// UDP GSO/GRO on the RFC 3519 path: DatagramBatch (common/dataplane/gso.hpp) gathers only
// what one UDP_SEGMENT send cuts back into the same datagrams, and UdpPort::split
// (common/daemon/udp_port.hpp) cuts a UDP_GRO buffer into the datagrams it carries; the two
// are inverse (batch, then split at the batch's segment size, gives the datagrams back).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/daemon/udp_port.hpp"
#include "common/dataplane/gso.hpp"

namespace vmroam::dataplane {
namespace {

const Ipv4 kPeerA(0x0a090002);  // 10.9.0.2
const Ipv4 kPeerB(0x0a090003);  // 10.9.0.3

struct Datagram {
  Ipv4 dst = kPeerA;
  std::uint16_t port = 434;
  std::size_t size = 1472;
};

Bytes payload_of(std::size_t index, std::size_t size) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(index * 31 + i);
  if (!b.empty()) b[0] = 4;  // RFC 3519 type 4, as the tunnel sends
  return b;
}

struct BatchCase {
  std::string description;
  std::vector<Datagram> input;
  std::size_t max_segments;
  std::size_t max_bytes;
  std::vector<std::size_t> expected_batches;  // datagrams per take(), in order
};

// Feeds the datagrams the way the driver does (add; on false take and add again; a datagram
// that cannot start a batch goes alone, recorded as a batch of 0) and checks every batch.
TEST(DatagramBatch, GathersOnlyWhatUdpSegmentCutsBack) {
  const std::vector<BatchCase> cases = {
      {"one datagram", {{}}, 64, kMaxUdpGsoBytes, {1}},
      {"equal sizes share a send", {{}, {}, {}}, 64, kMaxUdpGsoBytes, {3}},
      {"a shorter last one joins and ends the batch",
       {{}, {}, {kPeerA, 434, 100}, {}},
       64,
       kMaxUdpGsoBytes,
       {3, 1}},
      {"a bigger one starts a new batch", {{kPeerA, 434, 100}, {}}, 64, kMaxUdpGsoBytes, {1, 1}},
      {"another peer starts a new batch", {{}, {kPeerB}, {kPeerB}}, 64, kMaxUdpGsoBytes, {1, 2}},
      {"another port starts a new batch", {{}, {kPeerA, 4434}}, 64, kMaxUdpGsoBytes, {1, 1}},
      {"segment limit", std::vector<Datagram>(5), 2, kMaxUdpGsoBytes, {2, 2, 1}},
      {"byte limit: a 64 KiB super-packet's 47 datagrams take two sends",
       std::vector<Datagram>(47),
       64,
       kMaxUdpGsoBytes,
       {44, 3}},
      {"too big to batch at all goes alone", {{kPeerA, 434, 200}, {kPeerA, 434, 50}}, 64, 100, {0, 1}},
      {"empty datagram goes alone", {{kPeerA, 434, 0}}, 64, kMaxUdpGsoBytes, {0}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    std::vector<std::uint8_t> buf(65536);
    DatagramBatch batch(buf, c.max_segments, c.max_bytes);
    std::vector<Bytes> sent_alone;
    std::vector<std::size_t> batches;
    std::vector<Bytes> expected_wire, wire;
    auto take = [&] {
      const auto p = batch.take();
      batches.push_back(p.segments);
      EXPECT_TRUE(batch.empty());
      // What the kernel puts on the wire: the payload cut every segment_size bytes.
      std::size_t i = 0;
      daemon::UdpPort::split(p.payload, p.segment_size, [&](ByteView d) {
        EXPECT_EQ(d.size(), p.size_of(i++));
        wire.emplace_back(d.begin(), d.end());
      });
      EXPECT_EQ(i, p.segments);
    };
    for (std::size_t i = 0; i < c.input.size(); ++i) {
      const Datagram& d = c.input[i];
      const Bytes bytes = payload_of(i, d.size);
      expected_wire.push_back(bytes);
      if (batch.add(d.dst, d.port, bytes)) continue;
      if (!batch.empty()) take();
      if (batch.add(d.dst, d.port, bytes)) continue;
      batches.push_back(0);
      wire.push_back(bytes);
    }
    if (!batch.empty()) take();
    EXPECT_EQ(batches, c.expected_batches);
    EXPECT_EQ(wire, expected_wire);  // every datagram once, in order, unchanged
  }
}

TEST(DatagramBatch, PendingNamesTheDestination) {
  std::vector<std::uint8_t> buf(65536);
  DatagramBatch batch(buf);
  ASSERT_TRUE(batch.add(kPeerB, 4434, payload_of(0, 1000)));
  ASSERT_TRUE(batch.add(kPeerB, 4434, payload_of(1, 10)));
  const auto p = batch.take();
  EXPECT_EQ(p.dst, kPeerB);
  EXPECT_EQ(p.port, 4434);
  EXPECT_EQ(p.segment_size, 1000u);
  EXPECT_EQ(p.segments, 2u);
  EXPECT_EQ(p.payload.size(), 1010u);
  EXPECT_EQ(p.size_of(0), 1000u);
  EXPECT_EQ(p.size_of(1), 10u);
}

struct SplitCase {
  std::string description;
  std::size_t buffer_size;
  std::size_t segment_size;
  std::vector<std::size_t> expected;  // datagram sizes
};

TEST(UdpPortSplit, CutsAGroBufferBySegmentSize) {
  const std::vector<SplitCase> cases = {
      {"no UDP_GRO cmsg: one datagram", 1472, 0, {1472}},
      {"segment size of the whole buffer", 1472, 1472, {1472}},
      {"segment size above the buffer (a single GRO datagram)", 100, 1472, {100}},
      {"equal datagrams", 4416, 1472, {1472, 1472, 1472}},
      {"last one shorter", 3000, 1472, {1472, 1472, 56}},
      {"registration-sized datagrams", 120, 40, {40, 40, 40}},
      {"empty buffer passes through", 0, 0, {0}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    Bytes buf(c.buffer_size);
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i);
    std::vector<std::size_t> sizes;
    std::size_t at = 0;
    daemon::UdpPort::split(buf, c.segment_size, [&](ByteView d) {
      sizes.push_back(d.size());
      if (!d.empty()) {
        EXPECT_EQ(d.data(), buf.data() + at);  // contiguous, in order
      }
      at += d.size();
    });
    EXPECT_EQ(sizes, c.expected);
    EXPECT_EQ(at, c.buffer_size);
  }
}

}  // namespace
}  // namespace vmroam::dataplane
