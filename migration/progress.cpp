// Progress line formatting. See progress.hpp.
#include "migration/progress.hpp"

#include <cstdio>

namespace vmroam::migration {

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

std::string render_progress(const Progress& p, int bar_width) {
  const auto& m = p.info;
  // Sent versus what is still dirty: transferred / (transferred + remaining). RAM total is
  // mostly zero pages that cost nothing (docs/migration.md), so it would make a misleading bar.
  std::uint64_t denom = m.ram_transferred + m.ram_remaining;
  double frac = denom ? static_cast<double>(m.ram_transferred) / static_cast<double>(denom) : 0.0;
  if (m.status == "completed") frac = 1.0;
  int filled = static_cast<int>(frac * bar_width + 0.5);
  std::string bar = "[";
  for (int i = 0; i < bar_width; ++i) bar += i < filled ? '#' : '.';
  bar += "]";
  char head[64];
  std::snprintf(head, sizeof head, " %3d%%  ", static_cast<int>(frac * 100 + 0.5));
  std::string s = bar + head;
  s += format_bytes(m.ram_transferred) + " sent  remaining " + format_bytes(m.ram_remaining);
  char tail[160];
  double dirty_bytes_s = static_cast<double>(m.dirty_pages_rate) * static_cast<double>(m.page_size);
  std::snprintf(tail, sizeof tail, "  %.1f Mbit/s  dirty %s/s  pass %lld", m.mbps,
                format_bytes(static_cast<std::uint64_t>(dirty_bytes_s)).c_str(),
                static_cast<long long>(p.passes));
  s += tail;
  if (m.expected_downtime_ms) s += "  expected downtime " + std::to_string(*m.expected_downtime_ms) + " ms";
  char end[64];
  std::snprintf(end, sizeof end, "  %s  %.1f s", m.status.c_str(), p.elapsed_s);
  s += end;
  return s;
}

}  // namespace vmroam::migration
