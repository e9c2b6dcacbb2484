// Metrics registry: the exact Prometheus text format 0.0.4 output.
#include "common/api/metrics.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace vmroam::api {
namespace {

TEST(Metrics, GoldenText) {
  MetricsRegistry m;
  m.counter("vmroam_registrations_total", "Registration Requests handled", {{"result", "accepted"}}).inc(3);
  m.counter("vmroam_registrations_total", "Registration Requests handled",
            {{"result", "denied"}, {"code", "133"}})
      .inc();
  // Same name and labels: the same series.
  m.counter("vmroam_registrations_total", "Registration Requests handled", {{"result", "accepted"}}).inc();
  Gauge& g = m.gauge("vmroam_bindings", "Bindings in the cache");
  g.set(2);
  g.inc(0.5);
  m.gauge_callback("vmroam_buffered_packets", "Packets held\nwhile \\ preparing", {{"vm", "a\"b\\c\nd"}},
                   [] { return 7.0; });
  Histogram& h =
      m.histogram("vmroam_api_request_seconds", "API request latency", {0.01, 0.1, 1}, {{"method", "GET"}});
  h.observe(0.005);
  h.observe(0.01);  // le is inclusive
  h.observe(0.5);
  h.observe(3);
  m.counter("vmroam_bytes_total", "Bytes tunnelled").inc(1e21);

  const char* expected =
      "# HELP vmroam_api_request_seconds API request latency\n"
      "# TYPE vmroam_api_request_seconds histogram\n"
      "vmroam_api_request_seconds_bucket{method=\"GET\",le=\"0.01\"} 2\n"
      "vmroam_api_request_seconds_bucket{method=\"GET\",le=\"0.1\"} 2\n"
      "vmroam_api_request_seconds_bucket{method=\"GET\",le=\"1\"} 3\n"
      "vmroam_api_request_seconds_bucket{method=\"GET\",le=\"+Inf\"} 4\n"
      "vmroam_api_request_seconds_sum{method=\"GET\"} 3.515\n"
      "vmroam_api_request_seconds_count{method=\"GET\"} 4\n"
      "# HELP vmroam_bindings Bindings in the cache\n"
      "# TYPE vmroam_bindings gauge\n"
      "vmroam_bindings 2.5\n"
      "# HELP vmroam_buffered_packets Packets held\\nwhile \\\\ preparing\n"
      "# TYPE vmroam_buffered_packets gauge\n"
      "vmroam_buffered_packets{vm=\"a\\\"b\\\\c\\nd\"} 7\n"
      "# HELP vmroam_bytes_total Bytes tunnelled\n"
      "# TYPE vmroam_bytes_total counter\n"
      "vmroam_bytes_total 1e+21\n"
      "# HELP vmroam_registrations_total Registration Requests handled\n"
      "# TYPE vmroam_registrations_total counter\n"
      "vmroam_registrations_total{code=\"133\",result=\"denied\"} 1\n"
      "vmroam_registrations_total{result=\"accepted\"} 4\n";
  EXPECT_EQ(m.render(), expected);
}

TEST(Metrics, ValueFormatting) {
  struct Case {
    double v;
    const char* text;
  };
  const Case cases[] = {
      {0, "0"},
      {42, "42"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_metric_value(c.v), c.text) << c.text;
}

TEST(Metrics, CounterIgnoresNegative) {
  Counter c;
  c.inc(2);
  c.inc(-5);
  EXPECT_EQ(c.value(), 2);
}

TEST(Metrics, EmptyHistogramRendersZeros) {
  MetricsRegistry m;
  (void)m.histogram("h", "x", {1});
  EXPECT_EQ(
      m.render(),
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(MetricsDeath, MisuseAborts) {
  EXPECT_DEATH(
      {
        MetricsRegistry m;
        (void)m.counter("x", "h");
        (void)m.gauge("x", "h");
      },
      "");
  EXPECT_DEATH(
      {
        MetricsRegistry m;
        (void)m.counter("bad name", "h");
      },
      "");
  EXPECT_DEATH(
      {
        MetricsRegistry m;
        (void)m.counter("x", "h", {{"le", "1"}});
      },
      "");
}

}  // namespace
}  // namespace vmroam::api
