// What a move did: the outcome, the timings and the timeline, for the text and JSON summary
// vmroam-migrate prints (docs/migration.md "Summary").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "migration/bandwidth.hpp"
#include "migration/downtime.hpp"
#include "migration/qemu_hazards.hpp"

namespace vmroam::migration {

using Json = nlohmann::json;

struct TimelineEntry {
  double t_ms;       // since start(), driver's monotonic clock
  std::string side;  // source | destination | fa | driver
  std::string what;
};

struct Summary {
  // completed | prepare_failed | setup_failed | migration_failed | cancelled | timeout |
  // registration_failed_before_switch (early handover refused: migration cancelled) |
  // registration_failed | failed_after_switch | source_lost (the source QEMU died before the
  // switch: the guest with it) | destination_lost (the destination QEMU died before it ran the
  // VM: the VM runs at the source) | vm_lost (both, or the destination after its RESUME)
  std::string outcome = "completed";
  std::string error;
  std::string accelerator = "unknown";
  std::string qemu_version;                      // the source's `query-version` ("7.2.22"); empty: not known
  std::vector<QemuHazard> warnings;              // known QEMU defects this move runs into (qemu_hazards.hpp)
  std::optional<std::uint64_t> guest_ram_bytes;  // the source's boot RAM (base-memory)
  std::string tuning;
  std::string fa = "none";
  // The migration stream: "x509, peer verified as HOST" | "off (--insecure-migration)".
  std::string migration_tls = "unknown";
  double total_time_ms = 0;  // migrate sent → both sides done (driver's clock)
  std::int64_t qemu_total_time_ms = 0;
  std::optional<std::int64_t> qemu_downtime_ms;
  std::uint64_t bytes_transferred = 0;
  std::optional<std::uint64_t> downtime_bytes;  // QEMU's ram.downtime-bytes: the last pass
  std::optional<BandwidthReport> bandwidth;     // the rate the driver used, and why
  std::int64_t passes = 0;
  std::optional<double> real_pause_ms;                     // src STOP → dst RESUME (QMP timestamps)
  std::optional<double> continue_after_pre_switchover_ms;  // event seen → continue sent
  std::optional<double> handover_ms;                       // FA-reported activate → HA reply
  std::optional<double> activate_to_outcome_ms;            // driver-measured upper bound
  // active | failed | pending | departed (no FA, previous FA departed) | skipped (--fa none)
  std::string registration = "skipped";
  std::string depart = "skipped";   // the previous FA's depart: skipped | departed | failed: …
  std::optional<double> depart_ms;  // pre-switchover → the previous FA confirmed its depart
  std::string handover_mode;        // early | switchover (what ran: early falls back)
  std::optional<std::uint64_t> downtime_limit_ms;  // the downtime-limit we set last (none: QEMU's)
  DowntimeReport downtime;                         // … its start value, why, and the raises
  std::optional<double> activate_before_stop_ms;   // early: activate → pre-switchover seen
  int reply_code = 0;
  int activate_attempts = 0;
  std::string ha = "none";                        // the home agent told about the handover
  std::string ha_hold = "skipped";                // recording | holding | released | idle | failed: …
  std::optional<std::int64_t> recovered_packets;  // copies the HA re-sends (sent after STOP)
  // --copy-storage: per-disk reports (bytes, time to ready, dirty bytes at the switchover),
  // the NBD transport and the link share (StorageMirror::summary); null without.
  Json storage;
  bool switched = false;  // migrate-continue was sent: the VM is (or will be) at the destination
  std::vector<TimelineEntry> timeline;

  [[nodiscard]] bool ok() const { return outcome == "completed"; }
  [[nodiscard]] Json to_json() const;
  [[nodiscard]] Json fields_json() const;  // to_json() without the optional parts (storage)
};

}  // namespace vmroam::migration
