// ControlBatch (common/daemon/control_batch.hpp): how UDP 434 datagrams are sorted, batched
// and handed over, and the bound on a batch.
#include "common/daemon/control_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::daemon {
namespace {

const Ipv4 kFa(0xc0000202);  // 192.0.2.2

TEST(ControlBatch, SortsEachDatagram) {
  struct Case {
    std::string description;
    Bytes payload;
    ControlBatch::Sorted sorted;
    std::size_t queued;
    std::size_t tunnel_data;
  };
  const std::vector<Case> cases = {
      {"registration request (type 1) is queued", Bytes{1, 0, 0}, ControlBatch::Sorted::queued, 1, 0},
      {"registration reply (type 3) is queued", Bytes{3}, ControlBatch::Sorted::queued, 1, 0},
      {"RFC 3519 tunnel data (type 4) goes to the data plane at once", Bytes{4, 4, 0, 0},
       ControlBatch::Sorted::tunnel_data, 0, 1},
      {"an empty datagram is refused", Bytes{}, ControlBatch::Sorted::empty, 0, 0},
  };
  for (const auto& c : cases) {
    std::vector<Bytes> tunnelled;
    ControlBatch b([&](Ipv4, std::uint16_t, ByteView p) { tunnelled.emplace_back(p.begin(), p.end()); },
                   [](std::span<const ControlDatagram>) {});
    EXPECT_EQ(b.add(c.payload, kFa, 434), c.sorted) << c.description;
    EXPECT_EQ(b.size(), c.queued) << c.description;
    ASSERT_EQ(tunnelled.size(), c.tunnel_data) << c.description;
    if (c.tunnel_data) {
      EXPECT_EQ(tunnelled[0], c.payload) << c.description;
    }
  }
}

TEST(ControlBatch, FlushHandsOverEverythingInArrivalOrderOnce) {
  std::vector<std::vector<std::uint8_t>> flushed;  // first byte after the type, per datagram
  std::vector<std::size_t> sizes;
  ControlBatch b(nullptr, [&](std::span<const ControlDatagram> batch) {
    sizes.push_back(batch.size());
    for (const auto& d : batch) flushed.push_back({d.payload.at(1), static_cast<std::uint8_t>(d.port)});
  });
  b.flush();
  EXPECT_TRUE(sizes.empty()) << "an empty batch is not handed over";
  Bytes datagram{1, 7};
  EXPECT_EQ(b.add(datagram, kFa, 10), ControlBatch::Sorted::queued);
  datagram[1] = 8;  // the batch keeps its own copy
  EXPECT_EQ(b.add(datagram, kFa, 11), ControlBatch::Sorted::queued);
  b.flush();
  b.flush();
  EXPECT_EQ(sizes, std::vector<std::size_t>{2});
  EXPECT_EQ(flushed, (std::vector<std::vector<std::uint8_t>>{{7, 10}, {8, 11}}));
  EXPECT_EQ(b.size(), 0u);
}

TEST(ControlBatch, AFullBatchIsFlushedAtOnce) {
  std::vector<std::size_t> sizes;
  ControlBatch b(
      nullptr, [&](std::span<const ControlDatagram> batch) { sizes.push_back(batch.size()); }, 3);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(b.add(Bytes{1}, kFa, 434), ControlBatch::Sorted::queued);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3}));
  EXPECT_EQ(b.size(), 1u);
}

TEST(ControlBatch, DatagramsAddedByTheHandlerWaitForTheNextFlush) {
  std::vector<std::size_t> sizes;
  ControlBatch* self = nullptr;
  ControlBatch b(nullptr, [&](std::span<const ControlDatagram> batch) {
    sizes.push_back(batch.size());
    if (sizes.size() == 1) {
      EXPECT_EQ(self->add(Bytes{1}, kFa, 434), ControlBatch::Sorted::queued);
    }
  });
  self = &b;
  EXPECT_EQ(b.add(Bytes{1}, kFa, 434), ControlBatch::Sorted::queued);
  b.flush();
  EXPECT_EQ(b.size(), 1u);
  b.flush();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 1}));
}

}  // namespace
}  // namespace vmroam::daemon
