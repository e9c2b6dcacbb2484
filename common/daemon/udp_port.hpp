// The agents' UDP 434 socket on the daemon's io_context.
//
// Per readiness event the socket is drained (non-blocking reads until it would block, at most
// kBudget datagrams) and each datagram is handed to on_datagram; then on_batch_end runs once.
// That is the group-commit point: everything that arrived together is committed together.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/core/address.hpp"
#include "common/core/asio.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

class UdpPort {
 public:
  using DatagramHandler = std::function<void(ByteView payload, Ipv4 src, std::uint16_t src_port)>;
  static constexpr std::size_t kBudget = 256;

  // Errors: "udp_bind_failed" naming the address.
  [[nodiscard]] static Result<std::unique_ptr<UdpPort>> open(boost::asio::io_context& io, Ipv4 address,
                                                             std::uint16_t port);
  void start(DatagramHandler on_datagram, std::function<void()> on_batch_end);
  // Non-blocking; false (and counted by the caller) if the kernel refused it.
  bool send(Ipv4 dst, std::uint16_t port, ByteView payload);
  void close();
  [[nodiscard]] std::uint16_t local_port() const;

 private:
  explicit UdpPort(boost::asio::io_context& io) : socket_(io) {}
  void arm();
  boost::asio::ip::udp::socket socket_;
  DatagramHandler on_datagram_;
  std::function<void()> on_batch_end_;
  std::array<std::uint8_t, 65536> buffer_{};
};

}  // namespace vmroam::daemon
