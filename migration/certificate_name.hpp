// The subject of an x509 certificate in the form QEMU's tls-authz compares against
// (RFC 4514: most specific first, "CN=src.example,O=site"), so that the destination can be
// told to accept only the source's certificate (docs/security.md "Which peer is accepted").
#pragma once

#include <string>

#include "common/core/result.hpp"

namespace vmroam::migration {

// Reads a PEM certificate. Errors: "cert_unreadable" (no such file, not PEM).
[[nodiscard]] Result<std::string> certificate_subject(const std::string& pem_path);

}  // namespace vmroam::migration
