// ControlBatch: see control_batch.hpp.
#include "common/daemon/control_batch.hpp"

#include "common/wire/mobile_ip.hpp"

namespace vmroam::daemon {

ControlBatch::Sorted ControlBatch::add(ByteView payload, Ipv4 src, std::uint16_t port) {
  if (payload.empty()) return Sorted::empty;
  // RFC 3519 tunnel data shares the port; it is data-plane work, never queued.
  if (payload[0] == static_cast<std::uint8_t>(mip::MessageType::tunnel_data)) {
    if (tunnel_data_) tunnel_data_(src, port, payload);
    return Sorted::tunnel_data;
  }
  queued_.push_back(ControlDatagram{Bytes(payload.begin(), payload.end()), src, port});
  if (queued_.size() >= max_) flush();
  return Sorted::queued;
}

void ControlBatch::flush() {
  if (queued_.empty()) return;
  std::vector<ControlDatagram> work;
  work.swap(queued_);
  if (handler_) handler_(work);
}

}  // namespace vmroam::daemon
