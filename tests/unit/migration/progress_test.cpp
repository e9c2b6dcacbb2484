// migration/progress: the progress line vmroam-migrate shows while QEMU copies memory. The bar
// is sent / (sent + still dirty), not sent / RAM (RAM is mostly zero pages that cost nothing);
// a completed migration is full whatever its counters; bytes in binary units, one decimal.
#include "migration/progress.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::migration {
namespace {

TEST(Progress, FormatBytes) {
  struct Case {
    std::uint64_t bytes;
    const char* text;
  };
  const std::vector<Case> cases = {
      {0, "0 B"},
      {1023, "1023 B"},
      {1024, "1.0 KiB"},
      {1536, "1.5 KiB"},
      {std::uint64_t{268} << 20, "268.0 MiB"},
      {std::uint64_t{3} << 30, "3.0 GiB"},
      {std::uint64_t{5} << 40, "5.0 TiB"},
      {std::uint64_t{2048} << 40, "2048.0 TiB"},  // TiB is the largest unit
  };
  for (const auto& c : cases) EXPECT_EQ(format_bytes(c.bytes), c.text) << c.bytes;
}

TEST(Progress, LineShowsSentAgainstDirty) {
  Progress p;
  p.info.status = "active";
  p.info.ram_total = std::uint64_t{4} << 30;  // not the denominator
  p.info.ram_transferred = std::uint64_t{30} << 20;
  p.info.ram_remaining = std::uint64_t{10} << 20;
  p.info.dirty_pages_rate = 256;  // × 4096 = 1 MiB/s
  p.info.mbps = 94.1;
  p.info.expected_downtime_ms = 300;
  p.passes = 2;
  p.elapsed_s = 3.2;
  EXPECT_EQ(render_progress(p, 8),
            "[######..]  75%  30.0 MiB sent  remaining 10.0 MiB  94.1 Mbit/s  dirty 1.0 MiB/s  pass 2  "
            "expected downtime 300 ms  active  3.2 s");
}

TEST(Progress, CompletedIsFullAndNothingIsZero) {
  Progress p;
  p.info.status = "completed";
  EXPECT_EQ(render_progress(p, 4).substr(0, 11), "[####] 100%");
  p.info.status = "setup";  // nothing counted yet: an empty bar, no division by zero
  EXPECT_EQ(render_progress(p, 4).substr(0, 11), "[....]   0%");
}

}  // namespace
}  // namespace vmroam::migration
