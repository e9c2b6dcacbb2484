// The durable store's schema: the migrations that build it, one version at a time, and the
// tables with their columns in the order records are bound and read (record_codec.hpp).
//
// Schema (version 1), all STRICT tables, addresses as dotted text so `sqlite3 file .dump`
// is readable by people:
//   schema_version(version)
//   ha_vms(id PK, home_address UNIQUE, mac UNIQUE, allowed_fas JSON, spi, algorithm, key,
//          fa_ha_spi, params JSON)
//   ha_bindings(home_address PK, care_of_address, foreign_agent, lifetime_granted, flags,
//          encapsulation, registered_at_ms, expires_at_ms (NULL = infinite), identification,
//          move_seq, packets/bytes in/out, params JSON)
//   ha_replay(home_address PK, last_identification)
//   fa_visitors(id PK, home_address UNIQUE, mac UNIQUE, …, params JSON)
//   ha_revocations(revocation_id PK, foreign_agent, home_address, message, created_at_ms,
//          params JSON): registration revocations sent and not yet acknowledged (RFC 3543 §4)
//          (added by version 2)
// Version 3 adds the IPv6 home addresses (JSON arrays of text addresses, '[]' for rows
// written by version 2 or earlier): ha_vms.home_addresses_v6, ha_bindings.home_addresses_v6
// (granted), fa_visitors.home_addresses_v6, .granted_v6 and .home_gateway_v6 (NULL: none).
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "common/core/result.hpp"

namespace vmroam::store::schema {

// The version this build creates and reads (store.hpp re-exports it as kSchemaVersion).
inline constexpr int kVersion = 3;

struct Table {
  const char* name;
  const char* key;
  std::vector<const char*> columns;  // key first; bind and read in this order
};

extern const Table kVms;
extern const Table kBindings;
extern const Table kReplay;
extern const Table kVisitors;
extern const Table kRevocations;

// A put replaces only the row with the same key: ON CONFLICT(key) DO UPDATE, not INSERT OR
// REPLACE (which would silently delete rows that clash on another UNIQUE column).
[[nodiscard]] std::string upsert_sql(const Table& t);
[[nodiscard]] std::string delete_sql(const Table& t);
// Every row, ordered by key.
[[nodiscard]] std::string select_sql(const Table& t);

// Brings the database to kVersion and returns the version it is at. Fails with
// store_not_ours (tables but no schema_version), store_corrupt (an unreadable version) or
// store_schema_too_new; `path` names the file in those errors. Each step runs in its own
// transaction, so a crash mid-migration leaves a whole version.
[[nodiscard]] Result<int> migrate(sqlite3* db, const std::string& path);

}  // namespace vmroam::store::schema
