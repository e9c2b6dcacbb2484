// Known QEMU defects that can corrupt a guest during a live migration, judged from what the
// source reports (its accelerator, `query-version` and `query-memory-size-summary`). Pure: no
// QMP command can repair them during a move, so the driver names them in the summary and says
// how to launch a guest that is not exposed (docs/migration.md "A tighter downtime-limit, and
// guests that break").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmroam::migration {

struct QemuVersion {
  int major = 0;
  int minor = 0;
  int micro = 0;
};

// The guest's RAM as `query-memory-size-summary` reports it.
struct GuestRam {
  std::uint64_t base_bytes = 0;     // "base-memory": the boot RAM, one RAM block (-m)
  std::uint64_t plugged_bytes = 0;  // "plugged-memory": hot-plugged DIMMs, blocks of their own
};

// The RAM block length whose multiples take QEMU's word-at-a-time dirty-bitmap sync: one
// 64-bit bitmap word of 4 KiB target pages (x86 guest, 64-bit host).
inline constexpr std::uint64_t kDirtyBitmapWordBytes = 64 * 4096;

struct QemuHazard {
  std::string id;    // stable key for scripts: "tcg-dirty-tlb"
  std::string text;  // one sentence for the operator
};

// accelerator: "kvm" | "tcg" | "unknown"; version and ram: the source's, if it answered
// (nullptr: not known, which cannot rule a defect out).
[[nodiscard]] std::vector<QemuHazard> known_hazards(const std::string& accelerator,
                                                    const QemuVersion* version, const GuestRam* ram);

[[nodiscard]] std::string to_string(const QemuVersion& v);

// The return values of `query-version` ({"qemu": {"major", "minor", "micro"}, …}) and
// `query-memory-size-summary` ({"base-memory", "plugged-memory"?}). Anything else (a field
// missing, of another type, negative): nullopt, which known_hazards() treats as not known.
[[nodiscard]] std::optional<QemuVersion> parse_qemu_version(const nlohmann::json& reply);
[[nodiscard]] std::optional<GuestRam> parse_guest_ram(const nlohmann::json& reply);

}  // namespace vmroam::migration
