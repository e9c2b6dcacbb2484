// ReplyBatch (home-agent/reply_batch): a committed batch's replies to one FA address and port
// of one size go out as one segmented send, in the order they were added, at most
// kMaxSegments (and kMaxBytes) per send; anything else goes one by one; without a segmented
// send everything goes one by one; nothing leaves before flush(); refusals are counted.
#include "home-agent/reply_batch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::ha {
namespace {

const Ipv4 kFa1 = Ipv4::from_octets(192, 0, 2, 3);
const Ipv4 kFa2 = Ipv4::from_octets(192, 0, 2, 4);

struct Sent {
  Ipv4 dst;
  std::uint16_t port;
  std::string payload;
  std::size_t segment = 0;  // 0: one datagram (SendOne)
};

struct Wire {
  std::vector<Sent> sent;
  std::size_t accept = static_cast<std::size_t>(-1);  // segmented sends: at most this many
  ReplyBatch batch(bool segmented = true) {
    ReplyBatch::SendSegmented seg;
    if (segmented)
      seg = [this](Ipv4 d, std::uint16_t p, ByteView b, std::size_t size) {
        sent.push_back({d, p, std::string(b.begin(), b.end()), size});
        return std::min(accept, b.size() / size);
      };
    return ReplyBatch(
        [this](Ipv4 d, std::uint16_t p, ByteView b) {
          sent.push_back({d, p, std::string(b.begin(), b.end())});
        },
        seg);
  }
};

ByteView bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

TEST(ReplyBatch, NothingLeavesBeforeFlush) {
  Wire w;
  ReplyBatch b = w.batch();
  b.add(kFa1, 434, bytes("aaaa"));
  EXPECT_TRUE(w.sent.empty());
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(b.flush(), 0u);
  ASSERT_EQ(w.sent.size(), 1u);
  EXPECT_EQ(w.sent[0].payload, "aaaa");
  EXPECT_EQ(w.sent[0].segment, 0u);  // a group of one: a plain send
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.flush(), 0u);
  EXPECT_EQ(w.sent.size(), 1u);
}

TEST(ReplyBatch, SameFaSameSizeGoTogetherInOrder) {
  Wire w;
  ReplyBatch b = w.batch();
  b.add(kFa1, 434, bytes("a1a1"));
  b.add(kFa2, 434, bytes("b1b1"));
  b.add(kFa1, 434, bytes("a2a2"));
  b.add(kFa1, 5000, bytes("c1c1"));   // another port: another group
  b.add(kFa1, 434, bytes("a3a3a3"));  // another size: another group
  b.add(kFa1, 434, bytes("a4a4"));
  b.flush();
  ASSERT_EQ(w.sent.size(), 4u);
  EXPECT_EQ(w.sent[0].dst, kFa1);
  EXPECT_EQ(w.sent[0].payload, "a1a1a2a2a4a4");
  EXPECT_EQ(w.sent[0].segment, 4u);
  EXPECT_EQ(w.sent[1].dst, kFa2);
  EXPECT_EQ(w.sent[1].payload, "b1b1");
  EXPECT_EQ(w.sent[2].port, 5000);
  EXPECT_EQ(w.sent[3].payload, "a3a3a3");
}

TEST(ReplyBatch, AtMostMaxSegmentsPerSend) {
  Wire w;
  ReplyBatch b = w.batch();
  const std::size_t n = ReplyBatch::kMaxSegments * 2 + 1;
  for (std::size_t i = 0; i < n; ++i) {
    char c = static_cast<char>('a' + i % 26);
    b.add(kFa1, 434, bytes(std::string(2, c)));
  }
  b.flush();
  ASSERT_EQ(w.sent.size(), 3u);
  EXPECT_EQ(w.sent[0].payload.size(), ReplyBatch::kMaxSegments * 2);
  EXPECT_EQ(w.sent[1].payload.size(), ReplyBatch::kMaxSegments * 2);
  EXPECT_EQ(w.sent[2].payload.size(), 2u);
  EXPECT_EQ(w.sent[1].payload.substr(0, 2),
            std::string(2, static_cast<char>('a' + ReplyBatch::kMaxSegments % 26)));
}

TEST(ReplyBatch, AtMostMaxBytesPerSend) {
  Wire w;
  ReplyBatch b = w.batch();
  const std::string big(ReplyBatch::kMaxBytes / 2 + 1, 'x');
  b.add(kFa1, 434, bytes(big));
  b.add(kFa1, 434, bytes(big));
  b.flush();
  EXPECT_EQ(w.sent.size(), 2u);
}

TEST(ReplyBatch, WithoutSegmentedSendOneByOne) {
  Wire w;
  ReplyBatch b = w.batch(/*segmented=*/false);
  b.add(kFa1, 434, bytes("a1"));
  b.add(kFa1, 434, bytes("a2"));
  b.flush();
  ASSERT_EQ(w.sent.size(), 2u);
  EXPECT_EQ(w.sent[0].payload, "a1");
  EXPECT_EQ(w.sent[1].payload, "a2");
}

TEST(ReplyBatch, RefusedDatagramsAreCounted) {
  Wire w;
  w.accept = 0;  // the kernel refused the segmented send
  ReplyBatch b = w.batch();
  for (const char* r : {"a1", "a2", "a3"}) b.add(kFa1, 434, bytes(r));
  EXPECT_EQ(b.flush(), 3u);
}

TEST(ReplyBatch, EmptyPayloadIsDropped) {
  Wire w;
  ReplyBatch b = w.batch();
  b.add(kFa1, 434, ByteView{});
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace vmroam::ha
