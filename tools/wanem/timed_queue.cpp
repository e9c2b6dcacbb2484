// Deadline-ordered bounded frame queue; see timed_queue.hpp.
#include "tools/wanem/timed_queue.hpp"

#include <algorithm>
#include <utility>

namespace vmroam::wanem {
namespace {
// std::push_heap keeps the "largest" first; invert to keep the earliest (deadline, seq).
bool later(const QueuedFrame& x, const QueuedFrame& y) {
  return x.deadline != y.deadline ? x.deadline > y.deadline : x.seq > y.seq;
}
}  // namespace

bool TimedQueue::push(TimePoint deadline, std::vector<std::uint8_t> bytes) {
  if (!has_room(bytes.size())) return false;
  bytes_ += bytes.size();
  heap_.push_back(QueuedFrame{deadline, next_seq_++, std::move(bytes)});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return true;
}

std::optional<TimePoint> TimedQueue::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

std::optional<QueuedFrame> TimedQueue::pop_due(TimePoint now) {
  if (heap_.empty() || heap_.front().deadline > now) return std::nullopt;
  std::pop_heap(heap_.begin(), heap_.end(), later);
  QueuedFrame f = std::move(heap_.back());
  heap_.pop_back();
  bytes_ -= f.bytes.size();
  return f;
}

}  // namespace vmroam::wanem
