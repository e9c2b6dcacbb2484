// One direction's loss / delay / jitter / rate decisions; see link_model.hpp.
#include "tools/wanem/link_model.hpp"

#include <algorithm>
#include <cmath>

namespace vmroam::wanem {

Verdict LinkModel::on_frame(TimePoint arrival, std::size_t bytes) {
  if (config_.loss > 0 && random_.uniform() < config_.loss) return Verdict{true, {}};

  TimePoint sent = arrival;
  if (config_.rate_bps > 0) {
    const auto start = std::max(arrival, link_free_);
    const double ns = 8e9 * static_cast<double>(bytes) / static_cast<double>(config_.rate_bps);
    link_free_ = start + Duration(static_cast<Duration::rep>(std::llround(ns)));
    sent = link_free_;
  }

  Duration delay = config_.delay;
  if (config_.jitter.count() > 0) {
    const double offset = (2.0 * random_.uniform() - 1.0) * static_cast<double>(config_.jitter.count());
    delay += Duration(static_cast<Duration::rep>(std::llround(offset)));
    delay = std::max(delay, Duration{0});
  }
  TimePoint deadline = sent + delay;
  if (!allow_reorder_) deadline = std::max(deadline, last_deadline_);
  last_deadline_ = std::max(last_deadline_, deadline);
  return Verdict{false, deadline};
}

}  // namespace vmroam::wanem
