// Prometheus text exposition format 0.0.4; see metrics.hpp.
//
// Format (https://prometheus.io/docs/instrumenting/exposition_formats/):
//   # HELP name help-with-\\-and-\n-escaped
//   # TYPE name counter|gauge|histogram
//   name{label="value-with-\\-\"-\n-escaped"} value
// Histograms expand to name_bucket{…,le="b"} (cumulative, ending with le="+Inf"),
// name_sum and name_count.
#include "common/api/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace vmroam::api {

namespace {

enum Type { kCounter = 0, kGauge = 1, kHistogram = 2 };
constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};

bool valid_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || s.starts_with("__") || s.find(':') != std::string_view::npos) return false;
  return valid_metric_name(s);
}

// Labels in name order, validated; "le" is reserved for histogram buckets.
Labels normalise(Labels labels) {
  std::sort(labels.begin(), labels.end());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!valid_label_name(labels[i].first) || labels[i].first == "le") std::abort();
    if (i > 0 && labels[i].first == labels[i - 1].first) std::abort();
  }
  return labels;
}

std::string label_text(const Labels& labels, std::string_view extra_name = {},
                       std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string s = "{";
  bool first = true;
  auto add = [&](std::string_view n, std::string_view v) {
    if (!first) s += ',';
    first = false;
    s += n;
    s += "=\"";
    s += escape_label_value(v);
    s += '"';
  };
  for (const auto& [n, v] : labels) add(n, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  s += '}';
  return s;
}

}  // namespace

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc{}) std::abort();
  return std::string(buf, end);
}

std::string escape_label_value(std::string_view v) {
  std::string s;
  s.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      s += "\\\\";
    else if (c == '"')
      s += "\\\"";
    else if (c == '\n')
      s += "\\n";
    else
      s += c;
  }
  return s;
}

std::string escape_help(std::string_view v) {
  std::string s;
  s.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      s += "\\\\";
    else if (c == '\n')
      s += "\\n";
    else
      s += c;
  }
  return s;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (std::isnan(bounds_[i]) || (i > 0 && !(bounds_[i] > bounds_[i - 1]))) std::abort();
  }
}

void Histogram::observe(double v) {
  // Bucket i holds bounds_[i-1] < v <= bounds_[i]; the last slot is +Inf.
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Family {
  std::string help;
  int type = kCounter;
  std::vector<double> bounds;  // histograms: every series shares one layout
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  std::map<Labels, Series> series;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help, int type) {
  if (!valid_metric_name(name)) std::abort();
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->help = std::string(help);
    f->type = type;
    it = families_.emplace(std::string(name), std::move(f)).first;
  }
  if (it->second->type != type || it->second->help != help) std::abort();
  return *it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, Labels labels) {
  auto& s = family(name, help, kCounter).series[normalise(std::move(labels))];
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, Labels labels) {
  auto& s = family(name, help, kGauge).series[normalise(std::move(labels))];
  if (s.read) std::abort();
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

void MetricsRegistry::gauge_callback(std::string_view name, std::string_view help, Labels labels,
                                     std::function<double()> read) {
  auto& s = family(name, help, kGauge).series[normalise(std::move(labels))];
  if (s.gauge || !read) std::abort();
  s.read = std::move(read);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, Labels labels) {
  auto& f = family(name, help, kHistogram);
  if (f.series.empty()) f.bounds = bounds;
  if (f.bounds != bounds) std::abort();
  auto& s = f.series[normalise(std::move(labels))];
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

std::string MetricsRegistry::render() const {
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + escape_help(f->help) + "\n";
    out += "# TYPE " + name + " " + std::string(kTypeNames[f->type]) + "\n";
    for (const auto& [labels, s] : f->series) {
      if (s.histogram) {
        const Histogram& h = *s.histogram;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cumulative += h.counts()[i];
          std::string le = i < h.bounds().size() ? format_metric_value(h.bounds()[i]) : "+Inf";
          out += name + "_bucket" + label_text(labels, "le", le) + " " + std::to_string(cumulative) + "\n";
        }
        out += name + "_sum" + label_text(labels) + " " + format_metric_value(h.sum()) + "\n";
        out += name + "_count" + label_text(labels) + " " + std::to_string(h.count()) + "\n";
        continue;
      }
      double v = s.counter ? s.counter->value() : s.gauge ? s.gauge->value() : s.read();
      out += name + label_text(labels) + " " + format_metric_value(v) + "\n";
    }
  }
  return out;
}

}  // namespace vmroam::api
