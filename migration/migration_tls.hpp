// TLS on the migration stream (docs/migration.md "TLS"; docs/security.md): the QMP commands
// that give each QEMU its x509 credentials and make the migration use them. Pure: the
// commands are values, Switchover runs them as setup steps.
//
// QEMU 7.2 (docs/system/tls.rst, qapi/migration.json): a `tls-creds-x509` object reads
// ca-cert.pem plus client-cert.pem/client-key.pem (endpoint=client, the source) or
// server-cert.pem/server-key.pem (endpoint=server, the destination) from `dir`; with
// verify-peer on, each side checks the other's certificate against the CA (mutual TLS), and
// the source also checks the destination's certificate against `tls-hostname`. The migration
// parameter `tls-creds` names the object; an empty string turns TLS off.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vmroam::migration {

using Json = nlohmann::json;

struct MigrationTls {
  bool enabled = true;  // false only with --insecure-migration
  // Either the driver creates the objects from these directories (object-add)…
  std::string creds_dir_src, creds_dir_dst;
  // …or they exist already with this id on both sides (-object on QEMU's command line).
  std::string creds_id;
  std::string hostname;  // the destination's name in its certificate (tls-hostname)
  // The source's certificate subject (RFC 4514 form, "CN=…,O=…"): with it the destination
  // accepts only that peer (tls-authz), on the migration stream and on NBD. Empty: any peer
  // the CA signed.
  std::string peer_dn;
};

struct QmpStep {
  std::string name;
  Json args;
  bool may_fail = false;  // an error is not a setup failure (object-del of nothing)
  friend bool operator==(const QmpStep&, const QmpStep&) = default;
};

enum class MigrationSide { source, destination };

// The ids of the objects the driver creates.
inline constexpr const char* kTlsCredsSourceId = "vmroam-migration-tls-client";
inline constexpr const char* kTlsCredsDestinationId = "vmroam-migration-tls-server";
inline constexpr const char* kTlsAuthzId = "vmroam-migration-authz";

// object-add arguments for an authz-list that allows exactly one distinguished name.
[[nodiscard]] Json tls_authz_object(const std::string& dn);

// object-add arguments (flat, as QEMU ≥ 6.0 takes them) for a tls-creds-x509 object.
[[nodiscard]] Json tls_creds_object(const std::string& id, const std::string& dir, MigrationSide side);

// What to run on one side before migrate / migrate-incoming. With TLS: (object-del of a
// stale object, object-add) when the driver creates the creds, then migrate-set-parameters
// tls-creds (+ tls-hostname at the source; + an authz-list and tls-authz at the destination
// when a peer_dn is given). Without (--insecure-migration): tls-creds "" (and
// tls-hostname "" at the source), so that creds left by an earlier move are not used.
[[nodiscard]] std::vector<QmpStep> tls_setup(const MigrationTls& tls, MigrationSide side);

// The host of a "tcp:HOST:PORT" uri ("[v6]" unbracketed); empty if there is none.
[[nodiscard]] std::string uri_host(const std::string& uri);

// For the summary: "x509, peer verified as HOST[, only DN accepted]" or
// "off (--insecure-migration)".
[[nodiscard]] std::string describe(const MigrationTls& tls);

}  // namespace vmroam::migration
