#pragma once

#include <string>

#include "common/core/result.hpp"

namespace vmroam::migration {

// Connects TCP to the destination of a "tcp:HOST:PORT" uri with TCP_NOTSENT_LOWAT and a
// small SO_SNDBUF, so that QEMU's bandwidth estimate (bytes written per 100 ms, docs/migration.md
// §6 3.8) counts bytes that left rather than bytes queued. Errors: "bad_uri", "connect_failed".
[[nodiscard]] Result<int> open_tuned_migration_socket(const std::string& uri);

}  // namespace vmroam::migration
