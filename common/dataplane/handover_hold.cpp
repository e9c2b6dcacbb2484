// PacketRecorder, HoldQueue and HandoverHold: see handover_hold.hpp.
#include "common/dataplane/handover_hold.hpp"

#include <algorithm>

namespace vmroam::dataplane {

std::size_t PacketRecorder::recorded(Ipv4 hoa) const {
  auto it = rings_.find(hoa);
  return it == rings_.end() ? 0 : it->second.entries.size();
}

std::vector<Ipv4> PacketRecorder::hoas() const {
  std::vector<Ipv4> out;
  for (const auto& [hoa, ring] : rings_) out.push_back(hoa);
  return out;
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

std::vector<Ipv4> HoldQueue::hoas() const {
  std::vector<Ipv4> out;
  for (const auto& [hoa, queue] : queues_) out.push_back(hoa);
  return out;
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

HandoverHold::HandoverHold(HoldPort& port, Limits limits)
    : port_(port), recorder_(limits.recorder), queue_(limits.queue) {
  port_.set_sink([this](HoldPort::Seen what, Ipv4 hoa, WallTime at, ByteView packet) {
    on_packet(what, hoa, at, packet);
  });
}

HandoverHold::~HandoverHold() {
  // Nobody is left to tell of a port error here; the packets go out all the same.
  for (Ipv4 hoa : queue_.hoas()) {
    [[maybe_unused]] const auto released = release(hoa);
  }
  for (Ipv4 hoa : recorder_.hoas()) {
    [[maybe_unused]] const auto untapped = stop_recording(hoa);
  }
  port_.set_sink({});
}

void HandoverHold::on_packet(HoldPort::Seen what, Ipv4 hoa, WallTime at, ByteView packet) {
  if (what == HoldPort::Seen::tapped) {
    recorder_.record(hoa, at, packet);
    return;
  }
  // A packet the port diverted just before release() ended the divert comes after what was
  // released: send it on now, still in order. Otherwise it joins the queue (or is counted as
  // hold_full when the queue is full).
  if (!queue_.holding(hoa)) {
    [[maybe_unused]] const auto sent = port_.reinject(packet);  // a failure is counted by the driver
    return;
  }
  [[maybe_unused]] const bool queued = queue_.push(hoa, packet);  // a full queue counts it in dropped()
}

Result<void> HandoverHold::record(Ipv4 hoa) {
  VMROAM_TRY_VOID(port_.tap(hoa, true));
  recorder_.watch(hoa);
  return ok();
}

Result<void> HandoverHold::stop_recording(Ipv4 hoa) {
  recorder_.unwatch(hoa);  // whatever the port says: copies for an unwatched HoA are dropped
  return port_.tap(hoa, false);
}

Result<std::size_t> HandoverHold::hold_and_recover(Ipv4 hoa, std::optional<WallTime> recover_since,
                                                   const Recover& recover) {
  if (!queue_.holding(hoa)) {
    VMROAM_TRY_VOID(port_.divert(hoa, true));
    queue_.hold(hoa);
  }
  std::vector<Bytes> recorded;
  if (recover_since) recorded = recorder_.take_since(hoa, *recover_since);
  std::vector<Bytes> recovered = recover ? recover() : std::vector<Bytes>{};
  // A failed untap is harmless here: the recorder has stopped watching, the copies go nowhere.
  [[maybe_unused]] const auto untapped = stop_recording(hoa);
  std::size_t queued = 0;
  for (auto* batch : {&recorded, &recovered})
    for (const Bytes& p : *batch)
      if (queue_.push(hoa, p)) ++queued;
  return queued;
}

Result<std::size_t> HandoverHold::release(Ipv4 hoa) {
  if (!queue_.holding(hoa)) return fail("not_holding", hoa.to_string());
  std::vector<Bytes> packets = queue_.release(hoa);
  // A failed undivert does not stop the release: what is held must go out now, and whatever
  // the port still diverts comes back through on_packet(), which sends it on.
  const Result<void> undiverted = port_.divert(hoa, false);
  std::size_t released = 0;
  for (const Bytes& p : packets)
    if (port_.reinject(p)) ++released;  // a failed one is counted by the driver
  if (!undiverted) return fail(undiverted.error());
  return released;
}

}  // namespace vmroam::dataplane
