// Known QEMU defects that can corrupt a guest during a live migration, judged from what the
// source reports (its accelerator and `query-version`). Pure: the driver cannot work around
// them over QMP, so it names them in the summary and the operator decides (docs/migration.md
// "A tighter downtime-limit, and guests that break").
#pragma once

#include <string>
#include <vector>

namespace vmroam::migration {

struct QemuVersion {
  int major = 0;
  int minor = 0;
  int micro = 0;
};

struct QemuHazard {
  std::string id;    // stable key for scripts: "tcg-dirty-tlb"
  std::string text;  // one sentence for the operator
};

// accelerator: "kvm" | "tcg" | "unknown"; version: the source's, if it answered.
[[nodiscard]] std::vector<QemuHazard> known_hazards(const std::string& accelerator,
                                                    const QemuVersion* version);

[[nodiscard]] std::string to_string(const QemuVersion& v);

}  // namespace vmroam::migration
