// vmroam-migrate's command line: pure parsing into CliArgs (tested in
// tests/unit/migration/cli_test.cpp); main.cpp runs what it describes.
#pragma once

#include <optional>
#include <string>

#include "migration/switchover.hpp"

namespace vmroam::migration {

struct CliArgs {
  std::string source, dest, uri, fa, fa_token, vm_json, vm_id, json_out, listen, depart_fa, ha, ha_token;
  // TLS on the migration stream (docs/security.md): the creds directories the driver loads
  // into each QEMU, or an object id both already have; the destination's certificate name.
  std::string tls_dir_src, tls_dir_dst, tls_creds, tls_hostname;
  // TLS to the agents' APIs (https:// endpoints): CA file, our certificate and key.
  std::string api_ca_file, api_cert_file, api_key_file;
  // The source's certificate subject the destination accepts (tls-authz); "any": no check.
  std::string tls_peer_dn;
  bool insecure_migration = false;
  bool target_pause_given = false;  // --target-pause (its default is in SwitchoverOptions)
  SwitchoverOptions opt;
  StorageOptions storage;  // --copy-storage
  bool quiet = false;
  bool verbose = false;
};

[[nodiscard]] const char* cli_usage();

// nullopt: run with `a`; otherwise the exit code to stop with (0 after --help or --version,
// 64 for a usage error, already explained on stderr).
[[nodiscard]] std::optional<int> parse_cli(int argc, const char* const* argv, CliArgs& a);

}  // namespace vmroam::migration
