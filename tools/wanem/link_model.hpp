// The pure model of one direction of an emulated WAN link: given a frame's arrival time and
// size, decide whether it is lost and, if not, when it leaves. No clocks, no sockets: time is
// a parameter and randomness comes from an injected source, so tests replay exact decisions.
//
// Departure of frame i (all times absolute):
//   start_i    = max(arrival_i, free_{i-1})            serialisation, only with a rate
//   free_i     = start_i + 8 * bytes_i / rate
//   deadline_i = free_i + delay + U(-jitter, +jitter), never before free_i
//   deadline_i = max(deadline_i, deadline_{i-1})        unless reordering is allowed
// Loss is decided first (a lost frame uses no link time); a random number is drawn only
// for a feature that is on, so a run's decisions depend on the seed and the options alone.
#pragma once

#include <cstdint>
#include <random>

#include "common/core/clock.hpp"
#include "tools/wanem/options.hpp"

namespace vmroam::wanem {

// Uniform numbers in [0, 1); the seam that makes loss and jitter testable.
class Random {
 public:
  virtual ~Random() = default;
  [[nodiscard]] virtual double uniform() = 0;
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
  [[nodiscard]] double uniform() override {
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine_);
  }

 private:
  std::mt19937_64 engine_;
};

struct Verdict {
  bool lost = false;
  TimePoint deadline{};
};

class LinkModel {
 public:
  LinkModel(const DirectionConfig& config, bool allow_reorder, Random& random)
      : config_(config), allow_reorder_(allow_reorder), random_(random) {}

  [[nodiscard]] Verdict on_frame(TimePoint arrival, std::size_t bytes);

 private:
  DirectionConfig config_;
  bool allow_reorder_;
  Random& random_;
  TimePoint link_free_{};
  TimePoint last_deadline_{};
};

}  // namespace vmroam::wanem
