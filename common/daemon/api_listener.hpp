// HTTP API listener options from an agent's config: the Unix socket (its directory is created
// if missing) and, optionally, TCP "address:port" with the bearer token read from a file.
#pragma once

#include <optional>
#include <string>

#include "common/api/http_server.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

// Errors: "bad_field" (api.tcp not "a.b.c.d:port"), "io_error" (token file unreadable or
// empty), "mkdir_failed".
[[nodiscard]] Result<api::HttpServerOptions> api_listener_options(
    const std::string& unix_socket, const std::optional<std::string>& tcp,
    const std::optional<std::string>& token_file);

}  // namespace vmroam::daemon
