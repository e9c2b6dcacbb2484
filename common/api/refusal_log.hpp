// A log budget for refusals that anyone who can reach a listener can cause (a connection over
// the limit, a plaintext client on the TLS port, a failed TLS handshake): without one, a
// client that retries in a loop writes a line per attempt and fills the disk behind journald.
//
// Pure (time is a parameter): at most `burst` lines per `window`; what is refused beyond that
// is counted, and the next line admitted carries the count ("suppressed=N"), so nothing is
// hidden, only summarised.
//
//   RefusalLog budget;                         // 10 lines per 10 s
//   if (auto line = budget.admit(now)) log_info("api_tls_refused", {…, {"suppressed", *line}});
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace vmroam::api {

class RefusalLog {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RefusalLog(std::uint32_t burst = 10, std::chrono::milliseconds window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  // Whether to log this refusal now. When it is, the value is the number of refusals not
  // logged since the previous line ("0" usually), for its "suppressed" field.
  [[nodiscard]] std::optional<std::string> admit(Clock::time_point now) {
    if (!started_ || now - window_start_ >= window_) {
      started_ = true;
      window_start_ = now;
      logged_ = 0;
    }
    if (logged_ >= burst_) {
      ++suppressed_;
      ++suppressed_total_;
      return std::nullopt;
    }
    ++logged_;
    std::string n = std::to_string(suppressed_);
    suppressed_ = 0;
    return n;
  }
  // Every refusal not logged since start (for tests and metrics).
  [[nodiscard]] std::uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  std::uint32_t burst_;
  std::chrono::milliseconds window_;
  bool started_ = false;
  Clock::time_point window_start_{};
  std::uint32_t logged_ = 0;
  std::uint64_t suppressed_ = 0;
  std::uint64_t suppressed_total_ = 0;
};

}  // namespace vmroam::api
