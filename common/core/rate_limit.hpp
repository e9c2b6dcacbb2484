// RateLimit: a token bucket per reason, so that a flood of rejected packets (or of refused API
// connections) can neither fill a disk with log lines nor turn the agent into a reflector of
// replies. The one limiter of the tree: the HA's rejection log and denial replies, and the HTTP
// server's refusal log (common/api/http_server.hpp) use it.
//
// Every rejected datagram on UDP 434 could log a line and send a denial; a sender that forges
// 50 000 requests a second would then write megabytes a second to the journal and make the
// agent send as many replies to addresses the sender chose. Each reason (the key) gets a
// bucket of `burst` events refilled at `per_second`; an event over budget is not done but
// counted, and the caller reports the counts: all of them from time to time (take_suppressed(),
// the HA's "log_suppressed" lines, docs/security.md "Floods"), or one key's on its next line
// that is admitted (take_suppressed(key), the API's "suppressed=N"). Keys are the caller's fixed vocabulary
// (reasons, not addresses); past `max_keys` distinct keys the rest share one bucket, "other", so the table
// stays bounded whatever arrives. Pure: time is a parameter.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/core/clock.hpp"

namespace vmroam {

class RateLimit {
 public:
  explicit RateLimit(double per_second = 5, double burst = 20, std::size_t max_keys = 64)
      : per_second_(per_second), burst_(burst), max_keys_(max_keys) {}

  // True: go ahead. False: over budget, counted for take_suppressed().
  [[nodiscard]] bool admit(std::string_view key, TimePoint now) {
    Bucket& b = bucket(key, now);
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    if (elapsed > 0) {
      b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
      b.refilled = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    ++b.suppressed;
    ++suppressed_total_;
    return false;
  }

  struct Suppressed {
    std::string key;
    std::uint64_t count = 0;
  };
  // The keys with events suppressed since the last call and how many; their counts restart.
  [[nodiscard]] std::vector<Suppressed> take_suppressed() {
    std::vector<Suppressed> out;
    for (auto& [key, b] : buckets_)
      if (b.suppressed > 0) {
        out.push_back({key, b.suppressed});
        b.suppressed = 0;
      }
    return out;
  }
  // The events of `key` suppressed since the last call (for the key's next admitted line);
  // its count restarts.
  [[nodiscard]] std::uint64_t take_suppressed(std::string_view key) {
    auto it = buckets_.find(key);
    if (it == buckets_.end()) it = buckets_.find(std::string_view("other"));
    if (it == buckets_.end()) return 0;
    return std::exchange(it->second.suppressed, 0);
  }
  // Every event suppressed since construction (for tests and metrics).
  [[nodiscard]] std::uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint refilled;
    std::uint64_t suppressed = 0;
  };
  Bucket& bucket(std::string_view key, TimePoint now) {
    auto it = buckets_.find(key);
    if (it != buckets_.end()) return it->second;
    if (buckets_.size() >= max_keys_) key = "other";
    return buckets_.try_emplace(std::string(key), Bucket{burst_, now, 0}).first->second;
  }

  double per_second_;
  double burst_;
  std::size_t max_keys_;
  std::map<std::string, Bucket, std::less<>> buckets_;
  std::uint64_t suppressed_total_ = 0;
};

}  // namespace vmroam
