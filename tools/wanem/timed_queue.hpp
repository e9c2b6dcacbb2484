// A bounded queue of frames ordered by departure deadline (ties: arrival order). Bounded by
// bytes and by frames, like a router's buffer; a frame that does not fit is refused and the
// caller counts the overflow. Pure: the caller passes "now".
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/core/clock.hpp"

namespace vmroam::wanem {

struct QueuedFrame {
  TimePoint deadline{};
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> bytes;
};

class TimedQueue {
 public:
  TimedQueue(std::uint64_t max_bytes, std::uint64_t max_packets)
      : max_bytes_(max_bytes), max_packets_(max_packets) {}

  [[nodiscard]] bool has_room(std::size_t bytes) const {
    return heap_.size() < max_packets_ && bytes_ + bytes <= max_bytes_;
  }
  // False (and nothing queued) when the frame would exceed a bound.
  bool push(TimePoint deadline, std::vector<std::uint8_t> bytes);
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  // The earliest frame whose deadline is at or before `now`, if any.
  [[nodiscard]] std::optional<QueuedFrame> pop_due(TimePoint now);

  [[nodiscard]] std::size_t packets() const { return heap_.size(); }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }

 private:
  std::uint64_t max_bytes_;
  std::uint64_t max_packets_;
  std::uint64_t bytes_ = 0;
  std::uint64_t next_seq_ = 0;
  std::vector<QueuedFrame> heap_;
};

}  // namespace vmroam::wanem
