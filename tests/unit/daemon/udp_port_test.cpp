// UdpPort: the batched receive (recvmmsg, kBatch a call) hands every datagram over once, in
// order, with its source; a readiness event ends its batch after at most kBudget datagrams;
// and split() cuts a UDP GRO buffer into its datagrams. On 127.0.0.1, an ephemeral port.
#include "common/daemon/udp_port.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace vmroam::daemon {
namespace {

const Ipv4 kLoopback = Ipv4::from_octets(127, 0, 0, 1);

struct Got {
  std::string payload;
  Ipv4 src;
  std::uint16_t port;
};

// A client socket bound to 127.0.0.1 (ephemeral port), sending to `port`.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    socklen_t len = sizeof local;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len), 0);
    port_ = ntohs(local.sin_port);
    to_.sin_family = AF_INET;
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to_.sin_port = htons(port);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  void send(const std::string& s) {
    ASSERT_EQ(::sendto(fd_, s.data(), s.size(), 0, reinterpret_cast<sockaddr*>(&to_), sizeof to_),
              static_cast<ssize_t>(s.size()));
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  int fd_;
  std::uint16_t port_ = 0;
  sockaddr_in to_{};
};

TEST(UdpPort, EveryDatagramOnceInOrderWithItsSourceAndBatchesOfAtMostTheBudget) {
  boost::asio::io_context io;
  auto port = UdpPort::open(io, kLoopback, 0);
  ASSERT_TRUE(port) << port.error().to_string();
  Client client((*port)->local_port());
  // More than one budget's worth, sent before the loop runs: several full recvmmsg calls, a
  // partial one, and a second readiness event. Sizes vary (1 byte to 1400), so that a slot
  // reused by the next call must not keep bytes of the previous datagram.
  constexpr int kCount = 3 * static_cast<int>(UdpPort::kBudget) / 2 + 5;
  std::vector<std::string> sent;
  for (int i = 0; i < kCount; ++i) {
    sent.push_back(std::to_string(i) + std::string(static_cast<std::size_t>(i * 37 % 1400), 'x'));
    client.send(sent.back());
  }
  std::vector<Got> got;
  std::vector<std::size_t> batches;
  std::size_t in_batch = 0;
  (*port)->start(
      [&](ByteView payload, Ipv4 src, std::uint16_t src_port) {
        got.push_back({std::string(payload.begin(), payload.end()), src, src_port});
        ++in_batch;
      },
      [&] {
        batches.push_back(in_batch);
        in_batch = 0;
      });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < sent.size() && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds(100));
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(got[i].payload, sent[i]) << "datagram " << i;
    EXPECT_EQ(got[i].src, kLoopback);
    EXPECT_EQ(got[i].port, client.port());
  }
  ASSERT_GE(batches.size(), 2u) << "more than kBudget datagrams waiting take two readiness events";
  for (std::size_t b : batches) EXPECT_LE(b, UdpPort::kBudget);
  (*port)->close();
}

TEST(UdpPort, SplitCutsAGroBufferIntoItsDatagrams) {
  const Bytes buffer = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  struct Case {
    const char* description;
    std::size_t segment_size;
    std::vector<std::size_t> sizes;
  };
  const Case cases[] = {
      {"no GRO cmsg: one datagram", 0, {10}},
      {"segment as big as the buffer", 10, {10}},
      {"equal segments", 5, {5, 5}},
      {"the last one shorter", 4, {4, 4, 2}},
  };
  for (const auto& c : cases) {
    std::vector<std::size_t> sizes;
    std::size_t first_byte_sum = 0;
    UdpPort::split(buffer, c.segment_size, [&](ByteView d) {
      sizes.push_back(d.size());
      first_byte_sum += d[0];
    });
    EXPECT_EQ(sizes, c.sizes) << c.description;
    std::size_t expected_sum = 0;
    for (std::size_t at = 0, i = 0; i < c.sizes.size(); at += c.sizes[i], ++i) expected_sum += buffer[at];
    EXPECT_EQ(first_byte_sum, expected_sum) << c.description;
  }
}

}  // namespace
}  // namespace vmroam::daemon
