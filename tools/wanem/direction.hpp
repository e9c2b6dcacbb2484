// One direction of the delay line (frames in on one port, out on the other): the link model,
// the timed queue and the counters, without any I/O. The event loop hands it each received
// frame with its arrival time and asks it for the frames that are due; it records how late
// each frame actually left (the timing error the operator sees) in a histogram.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/wanem/link_model.hpp"
#include "tools/wanem/timed_queue.hpp"

namespace vmroam::wanem {

// Send lateness (actual departure − deadline) in 10 µs buckets up to 20 ms, then overflow.
class LatenessHistogram {
 public:
  static constexpr std::int64_t kBucketNs = 10'000;
  static constexpr std::size_t kBuckets = 2000;

  void record(Duration lateness);
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] Duration max() const { return max_; }
  [[nodiscard]] Duration mean() const;
  // Upper edge of the bucket holding quantile q (0 < q ≤ 1); max() when in the overflow.
  [[nodiscard]] Duration quantile(double q) const;

 private:
  std::array<std::uint64_t, kBuckets + 1> buckets_{};
  std::uint64_t count_ = 0;
  long double sum_ns_ = 0;
  Duration max_{0};
};

struct DirectionCounters {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t lost = 0;            // dropped by the loss model
  std::uint64_t queue_overflow = 0;  // dropped because the queue was full
  std::uint64_t tx_errors = 0;       // the kernel refused the send (e.g. a full tbf queue)
};

class Direction {
 public:
  // `header_bytes`: a fixed per-frame header the frames carry (the virtio-net header) that is
  // sent along but is not part of the frame on the link, so it is not counted or rate-limited.
  Direction(const DirectionConfig& config, bool allow_reorder, std::uint64_t queue_bytes,
            std::uint64_t queue_packets, std::size_t header_bytes, Random& random)
      : config_(config),
        model_(config, allow_reorder, random),
        queue_(queue_bytes, queue_packets),
        header_bytes_(header_bytes) {}

  // A frame (header included, exactly as it will be sent again) arrived at `now`.
  void on_frame(TimePoint now, std::span<const std::uint8_t> frame);

  // Hands every frame due at `now` to send(std::span<const uint8_t>) -> bool (true = sent),
  // in deadline order, and records how late each one was.
  template <typename Send>
  void send_due(TimePoint now, Send&& send) {
    while (auto f = queue_.pop_due(now)) {
      lateness_.record(now - f->deadline);
      if (send(std::span<const std::uint8_t>(f->bytes))) {
        ++counters_.tx_packets;
        counters_.tx_bytes += link_bytes(f->bytes.size());
      } else {
        ++counters_.tx_errors;
      }
    }
  }

  [[nodiscard]] std::optional<TimePoint> next_deadline() const { return queue_.next_deadline(); }
  [[nodiscard]] const DirectionCounters& counters() const { return counters_; }
  [[nodiscard]] const LatenessHistogram& lateness() const { return lateness_; }
  [[nodiscard]] const TimedQueue& queue() const { return queue_; }
  [[nodiscard]] nlohmann::json to_json() const;

 private:
  [[nodiscard]] std::size_t link_bytes(std::size_t frame_bytes) const {
    return frame_bytes >= header_bytes_ ? frame_bytes - header_bytes_ : 0;
  }

  DirectionConfig config_;
  LinkModel model_;
  TimedQueue queue_;
  DirectionCounters counters_;
  LatenessHistogram lateness_;
  std::size_t header_bytes_;
};

}  // namespace vmroam::wanem
