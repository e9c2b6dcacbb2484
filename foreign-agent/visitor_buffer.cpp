// VisitorBuffer: bounded per-visitor queues, flushed in order (see the header).
#include "foreign-agent/visitor_buffer.hpp"

namespace vmroam::fa {

void VisitorBuffer::start(const std::string& id) {
  Queue& q = queues_[id];
  q.buffering = true;
}

VisitorBuffer::Pushed VisitorBuffer::push(const std::string& id, ByteView packet, TimePoint now) {
  auto it = queues_.find(id);
  if (it == queues_.end() || !it->second.buffering) return {};
  Queue& q = it->second;
  Pushed out{.buffering = true};
  // Bound by age first, then by size: the newest packets are the ones a resumed TCP connection
  // still wants.
  while (!q.held.empty() && now - q.held.front().at > limits_.age) {
    q.bytes -= q.held.front().packet.size();
    q.held.pop_front();
    ++out.dropped;
  }
  if (q.bytes + packet.size() > limits_.bytes) {
    ++out.dropped;
  } else {
    q.held.push_back(Held{Bytes(packet.begin(), packet.end()), now});
    q.bytes += packet.size();
    out.queued = true;
  }
  q.overflow += out.dropped;
  return out;
}

VisitorBuffer::Flushed VisitorBuffer::flush(const std::string& id, TimePoint now,
                                            const std::function<void(ByteView)>& deliver) {
  auto it = queues_.find(id);
  if (it == queues_.end() || !it->second.buffering) return {};
  Queue& q = it->second;
  Flushed out{.was_buffering = true};
  q.buffering = false;
  for (const auto& h : q.held) {
    if (now - h.at > limits_.age) {
      ++out.expired;
      continue;
    }
    if (deliver) deliver(h.packet);
    ++out.delivered;
  }
  q.held.clear();
  q.bytes = 0;
  q.overflow += out.expired;
  q.flushed += out.delivered;
  return out;
}

BufferStats VisitorBuffer::stats(const std::string& id) const {
  auto it = queues_.find(id);
  if (it == queues_.end()) return {};
  const Queue& q = it->second;
  return {q.buffering, q.held.size(), q.bytes, q.overflow, q.flushed};
}

}  // namespace vmroam::fa
