// The delay line: two PacketPorts, one Direction per way, one epoll loop on one thread.
//
// Loop: epoll waits on both sockets, one timerfd per direction (CLOCK_MONOTONIC, absolute
// deadline of that direction's earliest frame, TFD_TIMER_ABSTIME so no drift accumulates),
// an optional statistics timerfd and a signalfd for SIGTERM/SIGINT (signals are events: the
// handler is the loop itself). Each frame is stamped with the monotonic time when it is read;
// after every wake-up each direction sends what is due and re-arms its timer. Timer slack is
// set to 1 ns so the kernel does not coalesce our wake-ups (default slack is 50 µs).
#pragma once

#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/wanem/direction.hpp"
#include "tools/wanem/options.hpp"
#include "tools/wanem/packet_port.hpp"

namespace vmroam::wanem {

class DelayLine {
 public:
  // Opens the sockets and timers; a named error if an interface or a privilege is missing.
  [[nodiscard]] static Result<std::unique_ptr<DelayLine>> open(const Options& options);

  // Runs until SIGTERM or SIGINT; an error only if the loop itself breaks.
  [[nodiscard]] Result<void> run();

  [[nodiscard]] nlohmann::json stats();
  // Writes the counters to --json-stats (atomically) and, if `to_stderr`, as a line to stderr.
  void write_stats(bool to_stderr);

 private:
  struct Path {
    PacketPort* in;
    PacketPort* out;
    Direction direction;
    FileDescriptor timer;
    TimePoint armed{};
  };

  DelayLine(const Options& options, PacketPort a, PacketPort b, std::uint64_t seed);
  Result<void> drain(Path& path);
  void service(Path& path);

  Options options_;
  std::uint64_t seed_;
  SeededRandom random_;
  PacketPort a_;
  PacketPort b_;
  std::vector<Path> paths_;  // [0] = a→b, [1] = b→a
  FileDescriptor epoll_;
  FileDescriptor stats_timer_;
  FileDescriptor signals_;
  std::vector<std::uint8_t> buffer_;
  TimePoint started_;
};

}  // namespace vmroam::wanem
