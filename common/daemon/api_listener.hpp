// HTTP API listener options from an agent's config: the Unix socket (its directory is created
// if missing) and, optionally, TCP "address:port" with the bearer token read from a file and
// the TLS context made from api.tls (docs/configuration.md "api").
#pragma once

#include <memory>

#include "common/api/http_server.hpp"
#include "common/config/json_reader.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

// Errors: "bad_field" (api.tcp not "a.b.c.d:port"), "io_error" (token file unreadable or
// too short), "tls_config" (a TLS file unusable, named), "mkdir_failed".
[[nodiscard]] Result<api::HttpServerOptions> api_listener_options(const config::ApiSection& section);

// SIGHUP: the TLS context for the next config's api.tls, made before anything is applied so
// that a broken file rejects the whole reload; null when that config has no TLS listener.
// The caller hands it to HttpServer::set_tls() once the rest of the reload succeeded; new
// connections use it, open ones keep theirs.
[[nodiscard]] Result<std::shared_ptr<api::TlsContext>> reload_api_tls(const config::ApiSection& next);

}  // namespace vmroam::daemon
