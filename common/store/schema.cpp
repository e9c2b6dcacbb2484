// The durable store's schema (schema.hpp).
#include "common/store/schema.hpp"

#include <array>
#include <cstdlib>

#include "common/store/sqlite.hpp"

namespace vmroam::store::schema {

namespace {

// kMigrations[v] takes the schema from version v to v + 1. Never edit a shipped entry;
// append a new one and bump kVersion.
constexpr std::array<const char*, kVersion> kMigrations = {
    // 0 -> 1
    R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
INSERT INTO schema_version (version) VALUES (0);
CREATE TABLE ha_vms (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  home_address TEXT NOT NULL UNIQUE,
  mac TEXT NOT NULL UNIQUE,
  allowed_fas TEXT NOT NULL CHECK (json_valid(allowed_fas) AND json_type(allowed_fas) = 'array'),
  spi INTEGER NOT NULL CHECK (spi BETWEEN 0 AND 4294967295),
  algorithm TEXT NOT NULL,
  key BLOB NOT NULL,
  fa_ha_spi INTEGER CHECK (fa_ha_spi BETWEEN 0 AND 4294967295),
  params TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object')
) STRICT;
CREATE TABLE ha_bindings (
  home_address TEXT PRIMARY KEY NOT NULL,
  care_of_address TEXT NOT NULL,
  foreign_agent TEXT NOT NULL,
  lifetime_granted INTEGER NOT NULL CHECK (lifetime_granted BETWEEN 0 AND 65535),
  flags INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 255),
  encapsulation TEXT NOT NULL,
  registered_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  identification INTEGER NOT NULL,
  move_seq INTEGER NOT NULL,
  packets_in INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  packets_out INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  params TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object')
) STRICT, WITHOUT ROWID;
CREATE TABLE ha_replay (
  home_address TEXT PRIMARY KEY NOT NULL,
  last_identification INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE fa_visitors (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) > 0),
  home_address TEXT NOT NULL UNIQUE,
  mac TEXT NOT NULL UNIQUE,
  home_gateway TEXT NOT NULL,
  home_gateway_mac TEXT NOT NULL,
  home_agent TEXT NOT NULL,
  spi INTEGER NOT NULL CHECK (spi BETWEEN 0 AND 4294967295),
  algorithm TEXT NOT NULL,
  key BLOB NOT NULL,
  lifetime_requested INTEGER NOT NULL CHECK (lifetime_requested BETWEEN 0 AND 65535),
  encapsulation TEXT NOT NULL,
  state TEXT NOT NULL,
  last_reply_code INTEGER CHECK (last_reply_code BETWEEN 0 AND 255),
  reason TEXT NOT NULL,
  identification_sent INTEGER NOT NULL,
  expires_at_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  packets_in INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL,
  packets_out INTEGER NOT NULL,
  bytes_out INTEGER NOT NULL,
  params TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object')
) STRICT;
)sql",
    // 1 -> 2: pending registration revocations (RFC 3543 §4): the signed message as sent, so
    // that a restarted home agent re-sends exactly it until the old foreign agent acknowledges.
    R"sql(
CREATE TABLE ha_revocations (
  revocation_id INTEGER PRIMARY KEY NOT NULL CHECK (revocation_id BETWEEN 0 AND 4294967295),
  foreign_agent TEXT NOT NULL,
  home_address TEXT NOT NULL,
  message BLOB NOT NULL CHECK (length(message) > 0),
  created_at_ms INTEGER NOT NULL,
  params TEXT NOT NULL CHECK (json_valid(params) AND json_type(params) = 'object')
) STRICT;
)sql",
    // 2 -> 3: dual-stack VMs (IPv6 home addresses, docs/protocol.md "Dual-stack VMs").
    R"sql(
ALTER TABLE ha_vms ADD COLUMN home_addresses_v6 TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(home_addresses_v6) AND json_type(home_addresses_v6) = 'array');
ALTER TABLE ha_bindings ADD COLUMN home_addresses_v6 TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(home_addresses_v6) AND json_type(home_addresses_v6) = 'array');
ALTER TABLE fa_visitors ADD COLUMN home_addresses_v6 TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(home_addresses_v6) AND json_type(home_addresses_v6) = 'array');
ALTER TABLE fa_visitors ADD COLUMN granted_v6 TEXT NOT NULL DEFAULT '[]'
  CHECK (json_valid(granted_v6) AND json_type(granted_v6) = 'array');
ALTER TABLE fa_visitors ADD COLUMN home_gateway_v6 TEXT;
)sql",
};

std::string column_list(const Table& t) {
  std::string s;
  for (const char* c : t.columns) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

}  // namespace

const Table kVms{"ha_vms",
                 "id",
                 {"id", "home_address", "mac", "allowed_fas", "spi", "algorithm", "key", "fa_ha_spi",
                  "params", "home_addresses_v6"}};
const Table kBindings{"ha_bindings",
                      "home_address",
                      {"home_address", "care_of_address", "foreign_agent", "lifetime_granted", "flags",
                       "encapsulation", "registered_at_ms", "expires_at_ms", "identification", "move_seq",
                       "packets_in", "bytes_in", "packets_out", "bytes_out", "params", "home_addresses_v6"}};
const Table kReplay{"ha_replay", "home_address", {"home_address", "last_identification"}};
const Table kVisitors{"fa_visitors",
                      "id",
                      {"id",
                       "home_address",
                       "mac",
                       "home_gateway",
                       "home_gateway_mac",
                       "home_agent",
                       "spi",
                       "algorithm",
                       "key",
                       "lifetime_requested",
                       "encapsulation",
                       "state",
                       "last_reply_code",
                       "reason",
                       "identification_sent",
                       "expires_at_ms",
                       "created_at_ms",
                       "packets_in",
                       "bytes_in",
                       "packets_out",
                       "bytes_out",
                       "params",
                       "home_addresses_v6",
                       "granted_v6",
                       "home_gateway_v6"}};

const Table kRevocations{
    "ha_revocations",
    "revocation_id",
    {"revocation_id", "foreign_agent", "home_address", "message", "created_at_ms", "params"}};

std::string upsert_sql(const Table& t) {
  std::string s = "INSERT INTO " + std::string(t.name) + " (" + column_list(t) + ") VALUES (";
  for (std::size_t i = 0; i < t.columns.size(); ++i) s += i ? ", ?" : "?";
  s += ") ON CONFLICT(" + std::string(t.key) + ") DO UPDATE SET ";
  for (std::size_t i = 1; i < t.columns.size(); ++i) {
    if (i > 1) s += ", ";
    s += std::string(t.columns[i]) + " = excluded." + t.columns[i];
  }
  return s;
}
std::string delete_sql(const Table& t) {
  return "DELETE FROM " + std::string(t.name) + " WHERE " + t.key + " = ?";
}
std::string select_sql(const Table& t) {
  return "SELECT " + column_list(t) + " FROM " + t.name + " ORDER BY " + t.key;
}

Result<int> migrate(sqlite3* db, const std::string& path) {
  int version = 0;
  VMROAM_TRY(std::string has_version,
             sqlite::query_text(db,
                                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                                "'schema_version'"));
  if (has_version == "0") {
    VMROAM_TRY(std::string others,
               sqlite::query_text(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"));
    if (others != "0") return fail("store_not_ours", path + " has tables but no schema_version");
  } else {
    VMROAM_TRY(std::string v, sqlite::query_text(db, "SELECT version FROM schema_version"));
    version = std::atoi(v.c_str());
    if (v.empty() || version < 0) return fail("store_corrupt", path + ": bad schema_version '" + v + "'");
  }
  if (version > kVersion)
    return fail("store_schema_too_new", path + " has schema version " + std::to_string(version) +
                                            ", this build knows up to " + std::to_string(kVersion));
  while (version < kVersion) {
    VMROAM_TRY_VOID(sqlite::exec(db, "BEGIN IMMEDIATE", "begin migration"));
    std::string sql = kMigrations.at(static_cast<std::size_t>(version));
    sql += "UPDATE schema_version SET version = " + std::to_string(version + 1) + ";";
    if (auto r = sqlite::exec(db, sql.c_str(), "migrate from version " + std::to_string(version)); !r) {
      // The migration's own error is the one to report; a failed rollback only means SQLite
      // already rolled the transaction back itself.
      (void)sqlite::exec(db, "ROLLBACK", "rollback migration");
      return fail(r.error());
    }
    VMROAM_TRY_VOID(sqlite::exec(db, "COMMIT", "commit migration"));
    ++version;
  }
  return version;
}

}  // namespace vmroam::store::schema
