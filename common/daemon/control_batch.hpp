// ControlBatch: the UDP 434 control datagrams an agent handles together, for one group commit.
//
// Both agents share port 434 between registration messages and RFC 3519 tunnel data
// (RFC 3519 §3.3). The daemon's UdpPort hands every datagram to add(), then calls the agent's
// flush() once it has drained the socket (common/daemon/udp_port.hpp). add() sorts: tunnel
// data (first byte 4) goes to the data plane at once and is never queued; an empty datagram
// is refused; everything else is copied into the batch. flush() hands the batch to the
// handler, which decides every message, commits once and answers. A batch that reaches `max`
// is flushed at once, so one flood cannot grow it without bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"

namespace vmroam::daemon {

struct ControlDatagram {
  Bytes payload;
  Ipv4 src;
  std::uint16_t port = 0;
};

class ControlBatch {
 public:
  using TunnelData = std::function<void(Ipv4 src, std::uint16_t port, ByteView payload)>;
  using Handler = std::function<void(std::span<const ControlDatagram> batch)>;
  static constexpr std::size_t kMaxBatch = 1024;

  ControlBatch(TunnelData tunnel_data, Handler handler, std::size_t max = kMaxBatch)
      : tunnel_data_(std::move(tunnel_data)), handler_(std::move(handler)), max_(max) {}

  enum class Sorted : std::uint8_t { queued, tunnel_data, empty };
  Sorted add(ByteView payload, Ipv4 src, std::uint16_t port);
  // Hands what is queued to the handler (nothing when empty). Datagrams added while the
  // handler runs wait for the next flush.
  void flush();
  [[nodiscard]] std::size_t size() const { return queued_.size(); }

 private:
  TunnelData tunnel_data_;
  Handler handler_;
  std::size_t max_;
  std::vector<ControlDatagram> queued_;
};

}  // namespace vmroam::daemon
