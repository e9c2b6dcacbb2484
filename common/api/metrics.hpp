// A small metrics registry rendered in the Prometheus text exposition format 0.0.4.
//
// Single-threaded like the daemons (no atomics, no mutexes). Series are created once at
// start-up and kept by reference; hot paths only add to a double.
//
//   MetricsRegistry m;
//   Counter& rx = m.counter("vmroam_registrations_total", "Registration Requests received",
//                           {{"result", "accepted"}});
//   rx.inc();
//   m.gauge_callback("vmroam_bindings", "Bindings in the cache", {}, [&] { return cache.size(); });
//   std::string text = m.render();   // GET /metrics, content type kPrometheusType
//
// Families render sorted by name, series sorted by labels, so output is stable for golden
// tests. Asking again for the same name and labels returns the same series; the same name
// with another type, help or bucket layout is a programming error and aborts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmroam::api {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // Counters only go up; a negative amount is ignored.
  void inc(double amount = 1) {
    if (amount > 0) value_ += amount;
  }
  [[nodiscard]] double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void inc(double amount = 1) { value_ += amount; }
  void dec(double amount = 1) { value_ -= amount; }
  [[nodiscard]] double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  // `bounds` are the upper bounds (le), strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count per bound, plus one final slot for +Inf.
  [[nodiscard]] const std::vector<std::uint64_t>& counts() const { return counts_; }
  [[nodiscard]] double sum() const { return sum_; }
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Bucket bounds for request/handover latencies in seconds: 1 ms … 10 s.
[[nodiscard]] std::vector<double> latency_buckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  // A gauge read at render time (cache sizes and the like).
  void gauge_callback(std::string_view name, std::string_view help, Labels labels,
                      std::function<double()> read);
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       Labels labels = {});

  [[nodiscard]] std::string render() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, int type);
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// Exposed for tests: the number and escaping rules of the text format.
[[nodiscard]] std::string format_metric_value(double v);
[[nodiscard]] std::string escape_label_value(std::string_view v);
[[nodiscard]] std::string escape_help(std::string_view v);

}  // namespace vmroam::api
