// PacketRecorder and HoldQueue: see handover_hold.hpp.
#include "common/dataplane/handover_hold.hpp"

#include <algorithm>

namespace vmroam::dataplane {

std::size_t PacketRecorder::recorded(Ipv4 hoa) const {
  auto it = rings_.find(hoa);
  return it == rings_.end() ? 0 : it->second.entries.size();
}

void PacketRecorder::record(Ipv4 hoa, WallTime at, ByteView packet) {
  auto it = rings_.find(hoa);
  if (it == rings_.end()) return;
  Ring& r = it->second;
  r.entries.push_back(Entry{at, Bytes(packet.begin(), packet.end())});
  r.bytes += packet.size();
  const WallTime horizon = at - limits_.window;
  while (!r.entries.empty() && (r.entries.front().at < horizon || r.bytes > limits_.max_bytes)) {
    r.bytes -= r.entries.front().packet.size();
    r.entries.pop_front();
  }
}

std::vector<Bytes> PacketRecorder::take_since(Ipv4 hoa, WallTime since) {
  std::vector<Bytes> out;
  auto it = rings_.find(hoa);
  if (it == rings_.end()) return out;
  for (auto& e : it->second.entries)
    if (e.at >= since) out.push_back(std::move(e.packet));
  it->second = Ring{};
  return out;
}

std::size_t HoldQueue::queued(Ipv4 hoa) const {
  auto it = queues_.find(hoa);
  return it == queues_.end() ? 0 : it->second.packets.size();
}

bool HoldQueue::push(Ipv4 hoa, ByteView packet) {
  auto it = queues_.find(hoa);
  if (it == queues_.end()) return false;
  Queue& q = it->second;
  // Tail drop: what is already queued is older and was sent first; keep the order intact.
  if (q.packets.size() >= limits_.max_packets || q.bytes + packet.size() > limits_.max_bytes) {
    ++overflowed_;
    return false;
  }
  q.packets.emplace_back(packet.begin(), packet.end());
  q.bytes += packet.size();
  return true;
}

std::vector<Bytes> HoldQueue::release(Ipv4 hoa) {
  auto it = queues_.find(hoa);
  if (it == queues_.end()) return {};
  std::vector<Bytes> out = std::move(it->second.packets);
  queues_.erase(it);
  return out;
}

}  // namespace vmroam::dataplane
