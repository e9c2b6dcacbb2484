// The delay line's event loop; see delay_line.hpp.
#include "tools/wanem/delay_line.hpp"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>

#include "common/core/log.hpp"

namespace vmroam::wanem {
namespace {

// Larger than any GSO frame (64 KiB) plus the virtio-net header.
constexpr std::size_t kBufferBytes = 256 * 1024;
// Frames read per socket per wake-up, so that one busy direction cannot starve the timers.
constexpr int kBatch = 64;

enum : std::uint64_t { kPortA = 0, kPortB = 1, kTimerAb = 2, kTimerBa = 3, kStatsTimer = 4, kSignals = 5 };

timespec to_timespec(Duration d) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(d.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(d.count() % 1'000'000'000);
  return ts;
}

Result<void> watch(int epoll_fd, int fd, std::uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
    return fail("epoll_failed", std::string("epoll_ctl: ") + std::strerror(errno));
  return ok();
}

void consume(int fd) {
  std::uint64_t v = 0;
  [[maybe_unused]] auto n = ::read(fd, &v, sizeof v);
}

}  // namespace

DelayLine::DelayLine(const Options& options, PacketPort a, PacketPort b, std::uint64_t seed)
    : options_(options),
      seed_(seed),
      random_(seed),
      a_(std::move(a)),
      b_(std::move(b)),
      buffer_(kBufferBytes),
      started_(std::chrono::steady_clock::now()) {
  paths_.reserve(2);
  paths_.push_back(Path{&a_,
                        &b_,
                        Direction(options_.ab, options_.allow_reorder, options_.queue_limit_bytes,
                                  options_.queue_limit_packets, PacketPort::kVnetHeaderBytes, random_),
                        {},
                        {}});
  paths_.push_back(Path{&b_,
                        &a_,
                        Direction(options_.ba, options_.allow_reorder, options_.queue_limit_bytes,
                                  options_.queue_limit_packets, PacketPort::kVnetHeaderBytes, random_),
                        {},
                        {}});
}

Result<std::unique_ptr<DelayLine>> DelayLine::open(const Options& options) {
  auto a = PacketPort::open(options.a);
  if (!a) return fail(a.error().code, "--a " + a.error().context);
  auto b = PacketPort::open(options.b);
  if (!b) return fail(b.error().code, "--b " + b.error().context);
  const std::uint64_t seed = options.seed ? *options.seed : std::random_device{}();
  std::unique_ptr<DelayLine> line(new DelayLine(options, std::move(*a), std::move(*b), seed));

  (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (options.realtime) {
    sched_param p{};
    p.sched_priority = 10;
    if (sched_setscheduler(0, SCHED_FIFO, &p) != 0)
      log_warn("realtime_unavailable", {{"error", std::strerror(errno)}});
  }

  line->epoll_ = FileDescriptor(epoll_create1(EPOLL_CLOEXEC));
  if (line->epoll_.get() < 0) return fail("epoll_failed", std::strerror(errno));
  for (auto& path : line->paths_) {
    path.timer = FileDescriptor(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (path.timer.get() < 0) return fail("timer_failed", std::strerror(errno));
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return fail("signal_failed", std::strerror(errno));
  line->signals_ = FileDescriptor(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (line->signals_.get() < 0) return fail("signal_failed", std::strerror(errno));

  const int ep = line->epoll_.get();
  VMROAM_TRY_VOID(watch(ep, line->a_.fd(), kPortA));
  VMROAM_TRY_VOID(watch(ep, line->b_.fd(), kPortB));
  VMROAM_TRY_VOID(watch(ep, line->paths_[0].timer.get(), kTimerAb));
  VMROAM_TRY_VOID(watch(ep, line->paths_[1].timer.get(), kTimerBa));
  VMROAM_TRY_VOID(watch(ep, line->signals_.get(), kSignals));
  if (options.stats_interval.count() > 0) {
    line->stats_timer_ = FileDescriptor(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (line->stats_timer_.get() < 0) return fail("timer_failed", std::strerror(errno));
    itimerspec its{};
    its.it_value = to_timespec(options.stats_interval);
    its.it_interval = its.it_value;
    if (timerfd_settime(line->stats_timer_.get(), 0, &its, nullptr) != 0)
      return fail("timer_failed", std::strerror(errno));
    VMROAM_TRY_VOID(watch(ep, line->stats_timer_.get(), kStatsTimer));
  }
  return line;
}

Result<void> DelayLine::drain(Path& path) {
  for (int i = 0; i < kBatch; ++i) {
    auto n = path.in->receive(buffer_);
    if (!n) return fail(n.error());
    if (*n == 0) break;
    path.direction.on_frame(std::chrono::steady_clock::now(),
                            std::span<const std::uint8_t>(buffer_.data(), *n));
  }
  return ok();
}

void DelayLine::service(Path& path) {
  path.direction.send_due(std::chrono::steady_clock::now(),
                          [&](std::span<const std::uint8_t> f) { return path.out->send(f); });
  const auto next = path.direction.next_deadline();
  const TimePoint want = next.value_or(TimePoint{});
  if (want == path.armed) return;
  itimerspec its{};  // all zero disarms
  if (next) its.it_value = to_timespec(next->time_since_epoch());
  // libstdc++'s steady_clock is CLOCK_MONOTONIC, so its time points are absolute deadlines.
  if (timerfd_settime(path.timer.get(), TFD_TIMER_ABSTIME, &its, nullptr) == 0) path.armed = want;
}

Result<void> DelayLine::run() {
  epoll_event events[8];
  for (;;) {
    const int n = epoll_wait(epoll_.get(), events, 8, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("epoll_failed", std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
      switch (events[i].data.u64) {
        case kPortA:
          VMROAM_TRY_VOID(drain(paths_[0]));
          break;
        case kPortB:
          VMROAM_TRY_VOID(drain(paths_[1]));
          break;
        case kTimerAb:
          consume(paths_[0].timer.get());
          break;
        case kTimerBa:
          consume(paths_[1].timer.get());
          break;
        case kStatsTimer:
          consume(stats_timer_.get());
          write_stats(true);
          break;
        case kSignals: {
          signalfd_siginfo si{};
          [[maybe_unused]] auto r = ::read(signals_.get(), &si, sizeof si);
          return ok();
        }
        default:
          std::abort();
      }
    }
    for (auto& path : paths_) service(path);
  }
}

nlohmann::json DelayLine::stats() {
  const auto up = std::chrono::steady_clock::now() - started_;
  return nlohmann::json{
      {"a", a_.name()},
      {"b", b_.name()},
      {"seed", seed_},
      {"uptime_s", std::chrono::duration<double>(up).count()},
      {"ab", paths_[0].direction.to_json()},
      {"ba", paths_[1].direction.to_json()},
      {"kernel_drops", {{"a", a_.kernel_drops()}, {"b", b_.kernel_drops()}}},
      {"rx_truncated", {{"a", a_.truncated()}, {"b", b_.truncated()}}},
  };
}

void DelayLine::write_stats(bool to_stderr) {
  const std::string line = stats().dump();
  if (to_stderr) std::cerr << line << '\n' << std::flush;
  if (options_.json_stats.empty()) return;
  // Atomic replace, so a reader never sees half a file.
  const std::string tmp = options_.json_stats + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << '\n';
    if (!out) {
      log_warn("json_stats_failed", {{"file", tmp}});
      return;
    }
  }
  if (std::rename(tmp.c_str(), options_.json_stats.c_str()) != 0)
    log_warn("json_stats_failed", {{"file", options_.json_stats}, {"error", std::strerror(errno)}});
}

}  // namespace vmroam::wanem
