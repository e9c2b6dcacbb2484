// See events.hpp.
#include "libvirt/events.hpp"

#include <libvirt/libvirt.h>

#include <nlohmann/json.hpp>

namespace vmroam::virt {

std::optional<CouplingEvent> from_lifecycle(int event, int detail) {
  using K = CouplingEvent::Kind;
  switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
      // Incoming migration: libvirt started the destination QEMU (-incoming) in Prepare.
      if (detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED) return CouplingEvent{K::incoming_started, {}, {}, {}};
      return std::nullopt;
    case VIR_DOMAIN_EVENT_STOPPED:
    case VIR_DOMAIN_EVENT_CRASHED:
      return CouplingEvent{K::domain_gone, {}, {}, {}};
    default:
      return std::nullopt;
  }
}

std::optional<CouplingEvent> from_qemu_event(std::string_view name, std::int64_t seconds,
                                             std::uint32_t micros, std::string_view details_json) {
  using K = CouplingEvent::Kind;
  // QMP event timestamps are the host's wall clock (seconds + microseconds).
  const WallTime at{std::chrono::duration_cast<WallTime::duration>(std::chrono::seconds(seconds) +
                                                                   std::chrono::microseconds(micros))};
  if (name == "STOP") return CouplingEvent{K::vcpus_stopped, {}, at, {}};
  if (name == "RESUME") return CouplingEvent{K::vcpus_resumed, {}, at, {}};
  if (name != "MIGRATION") return std::nullopt;
  auto data = nlohmann::json::parse(details_json, nullptr, false);
  if (!data.is_object() || !data.contains("status") || !data["status"].is_string()) return std::nullopt;
  return CouplingEvent{K::migration_status, data["status"].get<std::string>(), at, {}};
}

std::string lifecycle_name(int event, int detail) {
  static constexpr const char* kEvents[] = {"DEFINED", "UNDEFINED", "STARTED",     "SUSPENDED", "RESUMED",
                                            "STOPPED", "SHUTDOWN",  "PMSUSPENDED", "CRASHED"};
  const bool known = event >= 0 && event < static_cast<int>(std::size(kEvents));
  return std::string(known ? kEvents[event] : "EVENT") + "/" + std::to_string(detail);
}

}  // namespace vmroam::virt
