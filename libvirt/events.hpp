// From what libvirt reports to the coupling's events (pure). libvirt gives two kinds:
// domain lifecycle events (virConnectDomainEventRegisterAny, VIR_DOMAIN_EVENT_ID_LIFECYCLE:
// an event and a detail number) and QEMU's own QMP events passed through libvirt-qemu
// (virConnectDomainQemuMonitorEventRegister: name, QEMU's timestamp, the "data" member as
// JSON text). Only the few that drive the coupling become CouplingEvents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libvirt/coupling.hpp"

namespace vmroam::virt {

// libvirt's lifecycle numbers (virDomainEventType and its detail enums, libvirt-domain.h).
[[nodiscard]] std::optional<CouplingEvent> from_lifecycle(int event, int detail);
// A QEMU event: "STOP", "RESUME", "MIGRATION" ({"status": …}); others → nullopt.
[[nodiscard]] std::optional<CouplingEvent> from_qemu_event(std::string_view name, std::int64_t seconds,
                                                           std::uint32_t micros,
                                                           std::string_view details_json);
// "STARTED/MIGRATED" etc. for logs.
[[nodiscard]] std::string lifecycle_name(int event, int detail);

}  // namespace vmroam::virt
