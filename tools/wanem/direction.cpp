// One direction of the delay line; see direction.hpp.
#include "tools/wanem/direction.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace vmroam::wanem {

void LatenessHistogram::record(Duration lateness) {
  const auto ns = std::max<std::int64_t>(lateness.count(), 0);
  const auto bucket = std::min<std::size_t>(static_cast<std::size_t>(ns / kBucketNs), kBuckets);
  ++buckets_[bucket];
  ++count_;
  sum_ns_ += static_cast<long double>(ns);
  max_ = std::max(max_, Duration(ns));
}

Duration LatenessHistogram::mean() const {
  if (count_ == 0) return Duration{0};
  return Duration(static_cast<Duration::rep>(sum_ns_ / static_cast<long double>(count_)));
}

Duration LatenessHistogram::quantile(double q) const {
  if (count_ == 0) return Duration{0};
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(Duration((i + 1) * kBucketNs), max_);
  }
  return max_;
}

void Direction::on_frame(TimePoint now, std::span<const std::uint8_t> frame) {
  const std::size_t payload_bytes = link_bytes(frame.size());
  ++counters_.rx_packets;
  counters_.rx_bytes += payload_bytes;
  if (!queue_.has_room(frame.size())) {
    ++counters_.queue_overflow;
    return;
  }
  const Verdict v = model_.on_frame(now, payload_bytes);
  if (v.lost) {
    ++counters_.lost;
    return;
  }
  queue_.push(v.deadline, std::vector<std::uint8_t>(frame.begin(), frame.end()));
}

nlohmann::json Direction::to_json() const {
  auto us = [](Duration d) { return static_cast<double>(d.count()) / 1e3; };
  return nlohmann::json{
      {"delay_us", us(config_.delay)},
      {"jitter_us", us(config_.jitter)},
      {"loss", config_.loss},
      {"rate_bps", config_.rate_bps},
      {"rx_packets", counters_.rx_packets},
      {"rx_bytes", counters_.rx_bytes},
      {"tx_packets", counters_.tx_packets},
      {"tx_bytes", counters_.tx_bytes},
      {"lost", counters_.lost},
      {"queue_overflow", counters_.queue_overflow},
      {"tx_errors", counters_.tx_errors},
      {"queued_packets", queue_.packets()},
      {"queued_bytes", queue_.bytes()},
      {"lateness_us",
       {{"count", lateness_.count()},
        {"mean", us(lateness_.mean())},
        {"p50", us(lateness_.quantile(0.5))},
        {"p99", us(lateness_.quantile(0.99))},
        {"max", us(lateness_.max())}}},
  };
}

}  // namespace vmroam::wanem
