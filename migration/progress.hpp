// The migration progress line shown on stderr while QEMU copies memory. Pure formatting:
// the switchover hands it a query-migrate snapshot and the pass count from MIGRATION_PASS
// events; the display never drives a decision (events do, docs/migration.md).
#pragma once

#include <cstdint>
#include <string>

#include "migration/qmp_codec.hpp"

namespace vmroam::migration {

struct Progress {
  qmp::MigrationInfo info;
  std::int64_t passes = 0;  // MIGRATION_PASS events seen
  double elapsed_s = 0;     // since `migrate` was sent
};

// "[#########.........]  45%  120.0/268.0 MiB sent  remaining 140.2 MiB  94.1 Mbit/s
//  dirty 1.2 MiB/s  pass 2  expected downtime 300 ms  status active  3.2 s"
[[nodiscard]] std::string render_progress(const Progress& p, int bar_width = 24);

// Bytes as "12.3 MiB" (binary units, one decimal).
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

}  // namespace vmroam::migration
