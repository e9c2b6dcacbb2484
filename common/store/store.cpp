// SQLite implementation of the durable store. One connection, used from the daemon's one
// thread. Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) and reused.
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
#include "common/store/store.hpp"

#include <sqlite3.h>

#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <type_traits>

namespace vmroam::store {

namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

std::string_view code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return "store_constraint";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "store_busy";
    case SQLITE_FULL:
      return "store_full";
    case SQLITE_IOERR:
      return "store_io";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return "store_corrupt";
    case SQLITE_CANTOPEN:
      return "store_open_failed";
    default:
      return "store_error";
  }
}

Unexpected db_fail(sqlite3* db, int rc, std::string_view what) {
  std::string ctx(what);
  ctx += ": ";
  ctx += sqlite3_errstr(rc);
  if (db) {
    const char* msg = sqlite3_errmsg(db);
    if (msg && std::string_view(msg) != sqlite3_errstr(rc)) {
      ctx += " (";
      ctx += msg;
      ctx += ")";
    }
  }
  return fail(code_for(rc), std::move(ctx));
}

// ---- schema ---------------------------------------------------------------------------------

// kMigrations[v] takes the schema from version v to v + 1. Never edit a shipped entry;
// append a new one and bump kSchemaVersion.
constexpr std::array<const char*, kSchemaVersion> kMigrations = {
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
};

struct Table {
  const char* name;
  const char* key;
  std::vector<const char*> columns;  // key first; bind and read in this order
};

const Table kVms{
    "ha_vms",
    "id",
    {"id", "home_address", "mac", "allowed_fas", "spi", "algorithm", "key", "fa_ha_spi", "params"}};
const Table kBindings{"ha_bindings",
                      "home_address",
                      {"home_address", "care_of_address", "foreign_agent", "lifetime_granted", "flags",
                       "encapsulation", "registered_at_ms", "expires_at_ms", "identification", "move_seq",
                       "packets_in", "bytes_in", "packets_out", "bytes_out", "params"}};
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
                       "params"}};

std::string column_list(const Table& t) {
  std::string s;
  for (const char* c : t.columns) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

// A put replaces only the row with the same key: ON CONFLICT(key) DO UPDATE, not INSERT OR
// REPLACE (which would silently delete rows that clash on another UNIQUE column).
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

// ---- binding values -------------------------------------------------------------------------

// Binds parameters left to right; the first failure sticks and is checked once.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* s) : s_(s) {}
  [[nodiscard]] int rc() const { return rc_; }
  Binder& text(std::string_view v) {
    return put(sqlite3_bind_text(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Binder& i64(std::int64_t v) { return put(sqlite3_bind_int64(s_, ++i_, v)); }
  // Unsigned 64-bit values are stored bit-for-bit (two's complement) in SQLite's int64.
  Binder& u64(std::uint64_t v) { return i64(static_cast<std::int64_t>(v)); }
  Binder& blob(ByteView v) {
    // An empty vector's data() may be null, which SQLite binds as NULL: bind an empty blob.
    if (v.empty()) return put(sqlite3_bind_zeroblob(s_, ++i_, 0));
    return put(sqlite3_bind_blob(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Binder& ipv4(Ipv4 a) { return text(a.to_string()); }
  Binder& mac(const MacAddress& m) { return text(m.to_string()); }
  template <typename T>
  Binder& opt_i64(const std::optional<T>& v) {
    return v ? i64(static_cast<std::int64_t>(*v)) : put(sqlite3_bind_null(s_, ++i_));
  }

 private:
  Binder& put(int rc) {
    if (rc_ == SQLITE_OK) rc_ = rc;
    return *this;
  }
  sqlite3_stmt* s_;
  int i_ = 0;
  int rc_ = SQLITE_OK;
};

// Reads columns left to right; a value that does not parse marks the row bad (checked once).
class Row {
 public:
  explicit Row(sqlite3_stmt* s) : s_(s) {}
  [[nodiscard]] bool ok() const { return bad_.empty(); }
  [[nodiscard]] const std::string& bad() const { return bad_; }

  std::string text() {
    const auto* p = sqlite3_column_text(s_, i_);
    int n = sqlite3_column_bytes(s_, i_++);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  std::int64_t i64() { return sqlite3_column_int64(s_, i_++); }
  std::uint64_t u64() { return static_cast<std::uint64_t>(i64()); }
  template <typename T>
  T uint(const char* what) {
    std::int64_t v = i64();
    if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) mark(what, std::to_string(v));
    return static_cast<T>(v);
  }
  Bytes blob() {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i_));
    int n = sqlite3_column_bytes(s_, i_++);
    return p ? Bytes(p, p + n) : Bytes();
  }
  bool is_null() const { return sqlite3_column_type(s_, i_) == SQLITE_NULL; }
  std::optional<std::int64_t> opt_i64() {
    if (is_null()) {
      ++i_;
      return std::nullopt;
    }
    return i64();
  }
  Ipv4 ipv4(const char* what) {
    std::string s = text();
    auto a = Ipv4::parse(s);
    if (!a) mark(what, s);
    return a.value_or(Ipv4{});
  }
  MacAddress mac(const char* what) {
    std::string s = text();
    auto m = MacAddress::parse(s);
    if (!m) mark(what, s);
    return m.value_or(MacAddress{});
  }
  void mark(const char* what, const std::string& value) {
    if (bad_.empty()) bad_ = std::string(what) + " = '" + value + "'";
  }

 private:
  sqlite3_stmt* s_;
  int i_ = 0;
  std::string bad_;
};

std::string fas_to_json(const std::vector<Ipv4>& fas) {
  std::string s = "[";
  for (std::size_t i = 0; i < fas.size(); ++i) {
    if (i) s += ",";
    s += "\"" + fas[i].to_string() + "\"";
  }
  return s + "]";
}

std::vector<Ipv4> fas_from_json(const std::string& text, Row& row) {
  std::vector<Ipv4> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    row.mark("allowed_fas", text);
    return out;
  }
  for (const auto& e : j) {
    auto a = e.is_string() ? Ipv4::parse(e.get<std::string>()) : Result<Ipv4>(fail("bad_ipv4"));
    if (!a) {
      row.mark("allowed_fas", text);
      return {};
    }
    out.push_back(*a);
  }
  return out;
}

void bind(Binder& b, const VmRecord& r) {
  b.text(r.id).ipv4(r.home_address).mac(r.mac).text(fas_to_json(r.allowed_fas)).i64(r.spi).text(r.algorithm);
  b.blob(r.key).opt_i64(r.fa_ha_spi).text(r.params);
}
void bind(Binder& b, const BindingRecord& r) {
  b.ipv4(r.home_address).ipv4(r.care_of_address).ipv4(r.foreign_agent).i64(r.lifetime_granted).i64(r.flags);
  b.text(r.encapsulation).i64(r.registered_at_unix_ms).opt_i64(r.expires_at_unix_ms).u64(r.identification);
  b.u64(r.move_seq).u64(r.packets_in).u64(r.bytes_in).u64(r.packets_out).u64(r.bytes_out).text(r.params);
}
void bind(Binder& b, const ReplayRecord& r) { b.ipv4(r.home_address).u64(r.last_identification); }
void bind(Binder& b, const VisitorRecord& r) {
  b.text(r.id)
      .ipv4(r.home_address)
      .mac(r.mac)
      .ipv4(r.home_gateway)
      .mac(r.home_gateway_mac)
      .ipv4(r.home_agent);
  b.i64(r.spi).text(r.algorithm).blob(r.key).i64(r.lifetime_requested).text(r.encapsulation).text(r.state);
  b.opt_i64(r.last_reply_code).text(r.reason).u64(r.identification_sent).opt_i64(r.expires_at_unix_ms);
  b.i64(r.created_at_unix_ms).u64(r.packets_in).u64(r.bytes_in).u64(r.packets_out).u64(r.bytes_out);
  b.text(r.params);
}

VmRecord read_vm(Row& row) {
  VmRecord r;
  r.id = row.text();
  r.home_address = row.ipv4("home_address");
  r.mac = row.mac("mac");
  std::string fas = row.text();
  r.allowed_fas = fas_from_json(fas, row);
  r.spi = row.uint<std::uint32_t>("spi");
  r.algorithm = row.text();
  r.key = row.blob();
  if (auto v = row.opt_i64()) {
    if (*v < 0 || *v > 0xffffffffLL) row.mark("fa_ha_spi", std::to_string(*v));
    r.fa_ha_spi = static_cast<std::uint32_t>(*v);
  }
  r.params = row.text();
  return r;
}
BindingRecord read_binding(Row& row) {
  BindingRecord r;
  r.home_address = row.ipv4("home_address");
  r.care_of_address = row.ipv4("care_of_address");
  r.foreign_agent = row.ipv4("foreign_agent");
  r.lifetime_granted = row.uint<std::uint16_t>("lifetime_granted");
  r.flags = row.uint<std::uint8_t>("flags");
  r.encapsulation = row.text();
  r.registered_at_unix_ms = row.i64();
  r.expires_at_unix_ms = row.opt_i64();
  r.identification = row.u64();
  r.move_seq = row.u64();
  r.packets_in = row.u64();
  r.bytes_in = row.u64();
  r.packets_out = row.u64();
  r.bytes_out = row.u64();
  r.params = row.text();
  return r;
}
ReplayRecord read_replay(Row& row) {
  ReplayRecord r;
  r.home_address = row.ipv4("home_address");
  r.last_identification = row.u64();
  return r;
}
VisitorRecord read_visitor(Row& row) {
  VisitorRecord r;
  r.id = row.text();
  r.home_address = row.ipv4("home_address");
  r.mac = row.mac("mac");
  r.home_gateway = row.ipv4("home_gateway");
  r.home_gateway_mac = row.mac("home_gateway_mac");
  r.home_agent = row.ipv4("home_agent");
  r.spi = row.uint<std::uint32_t>("spi");
  r.algorithm = row.text();
  r.key = row.blob();
  r.lifetime_requested = row.uint<std::uint16_t>("lifetime_requested");
  r.encapsulation = row.text();
  r.state = row.text();
  if (auto v = row.opt_i64()) {
    if (*v < 0 || *v > 255) row.mark("last_reply_code", std::to_string(*v));
    r.last_reply_code = static_cast<std::uint8_t>(*v);
  }
  r.reason = row.text();
  r.identification_sent = row.u64();
  r.expires_at_unix_ms = row.opt_i64();
  r.created_at_unix_ms = row.i64();
  r.packets_in = row.u64();
  r.bytes_in = row.u64();
  r.packets_out = row.u64();
  r.bytes_out = row.u64();
  r.params = row.text();
  return r;
}

// Runs a statement to completion and resets it; returns SQLITE_DONE on success.
int step_done(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  while (rc == SQLITE_ROW) rc = sqlite3_step(s);
  int reset_rc = sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc == SQLITE_DONE) return rc;
  return reset_rc != SQLITE_OK ? reset_rc : rc;
}

}  // namespace

// ---- Store ----------------------------------------------------------------------------------

struct Store::Impl {
  std::string path;
  Db db;
  int version = 0;
  bool poisoned = false;
  struct TableStmts {
    Stmt upsert, remove, select;
  };
  TableStmts vms, bindings, replay, visitors;
  Stmt begin, commit, rollback;

  // Binds one batch mutation to its cached statement; the caller steps it.
  struct OpBinder {
    Impl& impl;
    sqlite3_stmt* stmt = nullptr;
    int rc = SQLITE_OK;
    const char* what = "";

    template <typename Record>
    void put(TableStmts& t, const char* w, const Record& r) {
      stmt = t.upsert.get();
      what = w;
      Binder b(stmt);
      bind(b, r);
      rc = b.rc();
    }
    void del(TableStmts& t, const char* w, std::string_view id) {
      stmt = t.remove.get();
      what = w;
      rc = Binder(stmt).text(id).rc();
    }
    void del(TableStmts& t, const char* w, Ipv4 a) {
      stmt = t.remove.get();
      what = w;
      rc = Binder(stmt).ipv4(a).rc();
    }
    void operator()(const VmRecord& r) { put(impl.vms, "put_vm", r); }
    void operator()(const Batch::DeleteVm& d) { del(impl.vms, "delete_vm", d.id); }
    void operator()(const BindingRecord& r) { put(impl.bindings, "put_binding", r); }
    void operator()(const Batch::DeleteBinding& d) { del(impl.bindings, "delete_binding", d.home_address); }
    void operator()(const ReplayRecord& r) { put(impl.replay, "put_replay", r); }
    void operator()(const Batch::DeleteReplay& d) { del(impl.replay, "delete_replay", d.home_address); }
    void operator()(const VisitorRecord& r) { put(impl.visitors, "put_visitor", r); }
    void operator()(const Batch::DeleteVisitor& d) { del(impl.visitors, "delete_visitor", d.id); }
  };

  Result<Stmt> prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db.get(), sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return db_fail(db.get(), rc, "prepare " + sql.substr(0, 40));
    return Stmt(s);
  }
  Result<TableStmts> prepare_table(const Table& t) {
    TableStmts ts;
    VMROAM_TRY(ts.upsert, prepare(upsert_sql(t)));
    VMROAM_TRY(ts.remove, prepare(delete_sql(t)));
    VMROAM_TRY(ts.select, prepare(select_sql(t)));
    return ts;
  }
  Result<void> exec(const char* sql, std::string_view what) {
    int rc = sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db_fail(db.get(), rc, what);
    return ok();
  }
  // Runs a one-row, one-column query and returns its text.
  Result<std::string> query_text(const char* sql) {
    VMROAM_TRY(Stmt s, prepare(sql));
    int rc = sqlite3_step(s.get());
    if (rc == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(s.get(), 0);
      return std::string(p ? reinterpret_cast<const char*>(p) : "");
    }
    if (rc == SQLITE_DONE) return std::string();
    return db_fail(db.get(), rc, sql);
  }

  Result<void> migrate() {
    VMROAM_TRY(
        std::string has_version,
        query_text("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'"));
    if (has_version == "0") {
      VMROAM_TRY(std::string others,
                 query_text("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"));
      if (others != "0") return fail("store_not_ours", path + " has tables but no schema_version");
      version = 0;
    } else {
      VMROAM_TRY(std::string v, query_text("SELECT version FROM schema_version"));
      version = std::atoi(v.c_str());
      if (v.empty() || version < 0) return fail("store_corrupt", path + ": bad schema_version '" + v + "'");
    }
    if (version > kSchemaVersion)
      return fail("store_schema_too_new", path + " has schema version " + std::to_string(version) +
                                              ", this build knows up to " + std::to_string(kSchemaVersion));
    // Each step in its own transaction, so a crash mid-migration leaves a whole version.
    while (version < kSchemaVersion) {
      VMROAM_TRY_VOID(exec("BEGIN IMMEDIATE", "begin migration"));
      std::string sql = kMigrations.at(static_cast<std::size_t>(version));
      sql += "UPDATE schema_version SET version = " + std::to_string(version + 1) + ";";
      if (auto r = exec(sql.c_str(), "migrate from version " + std::to_string(version)); !r) {
        (void)exec("ROLLBACK", "rollback migration");
        return r;
      }
      VMROAM_TRY_VOID(exec("COMMIT", "commit migration"));
      ++version;
    }
    return ok();
  }

  template <typename Record, typename Read>
  Result<std::vector<Record>> load_table(sqlite3_stmt* s, const char* table, Read read) {
    std::vector<Record> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row row(s);
      out.push_back(read(row));
      if (!row.ok()) {
        sqlite3_reset(s);
        return fail("store_corrupt", std::string(table) + ": bad " + row.bad());
      }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db_fail(db.get(), rc, std::string("load ") + table);
    return out;
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() { close(); }

void Store::close() {
  if (!impl_) return;
  // Statements first: sqlite3_close_v2 would otherwise defer closing until they are gone.
  impl_->vms = {};
  impl_->bindings = {};
  impl_->replay = {};
  impl_->visitors = {};
  impl_->begin.reset();
  impl_->commit.reset();
  impl_->rollback.reset();
  impl_->db.reset();
  impl_.reset();
}

int Store::schema_version() const { return impl_ ? impl_->version : 0; }
const std::string& Store::path() const {
  static const std::string kNone;
  return impl_ ? impl_->path : kNone;
}

Result<Store> Store::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE, nullptr);
  impl->db.reset(raw);  // closed on every path, even when open failed
  if (rc != SQLITE_OK) {
    auto e = db_fail(raw, rc, "open " + path);
    e.error.code = "store_open_failed";
    return e;
  }
  sqlite3* db = raw;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 1000);

  // WAL: a commit appends to the log and fsyncs it once (synchronous=FULL), readers never
  // block the writer, and a torn tail is discarded on recovery (checksummed frames).
  auto mode = impl->query_text("PRAGMA journal_mode = WAL");
  if (!mode) return fail(mode.error().code, path + ": " + mode.error().context);
  if (*mode != "wal")
    return fail("store_error", path + ": cannot use WAL journal mode (got '" + *mode + "')");
  VMROAM_TRY_VOID(impl->exec("PRAGMA synchronous = FULL", "synchronous"));
  auto check = impl->query_text("PRAGMA quick_check");
  if (!check) return fail(check.error().code, path + ": " + check.error().context);
  if (*check != "ok") return fail("store_corrupt", path + ": quick_check: " + *check);
  VMROAM_TRY_VOID(impl->migrate());

  VMROAM_TRY(impl->vms, impl->prepare_table(kVms));
  VMROAM_TRY(impl->bindings, impl->prepare_table(kBindings));
  VMROAM_TRY(impl->replay, impl->prepare_table(kReplay));
  VMROAM_TRY(impl->visitors, impl->prepare_table(kVisitors));
  // IMMEDIATE: take the write lock at BEGIN, so a busy database fails before any work.
  VMROAM_TRY(impl->begin, impl->prepare("BEGIN IMMEDIATE"));
  VMROAM_TRY(impl->commit, impl->prepare("COMMIT"));
  VMROAM_TRY(impl->rollback, impl->prepare("ROLLBACK"));
  return Store(std::move(impl));
}

Result<void> Store::commit(const Batch& batch) {
  if (!impl_) return fail("store_closed");
  if (impl_->poisoned)
    return fail("store_poisoned", impl_->path + ": an earlier commit failed with an I/O error");
  if (batch.empty()) return ok();
  sqlite3* db = impl_->db.get();

  int rc = step_done(impl_->begin.get());
  if (rc != SQLITE_DONE) return db_fail(db, rc, "begin");

  auto abandon = [&](int err, const std::string& what) -> Unexpected {
    auto e = db_fail(db, err, what);
    if (!sqlite3_get_autocommit(db)) step_done(impl_->rollback.get());
    // After an I/O error the on-disk outcome of this transaction is unknown (the kernel may
    // have dropped dirty pages, cf. "fsyncgate"); stop writing and let a restart recover.
    if ((err & 0xff) == SQLITE_IOERR || (err & 0xff) == SQLITE_CORRUPT) impl_->poisoned = true;
    return e;
  };

  for (std::size_t i = 0; i < batch.ops_.size(); ++i) {
    Impl::OpBinder ob{*impl_};
    std::visit(ob, batch.ops_[i]);
    sqlite3_stmt* s = ob.stmt;
    int bind_rc = ob.rc;
    const char* what = ob.what;
    std::string where = "mutation " + std::to_string(i) + " (" + what + ")";
    if (bind_rc != SQLITE_OK) {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      return abandon(bind_rc, where);
    }
    rc = step_done(s);
    if (rc != SQLITE_DONE) return abandon(rc, where);
  }
  rc = step_done(impl_->commit.get());
  if (rc != SQLITE_DONE) return abandon(rc, "commit");
  return ok();
}

Result<std::vector<VmRecord>> Store::load_vms() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<VmRecord>(impl_->vms.select.get(), kVms.name, read_vm);
}
Result<std::vector<BindingRecord>> Store::load_bindings() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<BindingRecord>(impl_->bindings.select.get(), kBindings.name, read_binding);
}
Result<std::vector<ReplayRecord>> Store::load_replay() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<ReplayRecord>(impl_->replay.select.get(), kReplay.name, read_replay);
}
Result<std::vector<VisitorRecord>> Store::load_visitors() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<VisitorRecord>(impl_->visitors.select.get(), kVisitors.name, read_visitor);
}

Result<Snapshot> Store::load() {
  Snapshot s;
  VMROAM_TRY(s.vms, load_vms());
  VMROAM_TRY(s.bindings, load_bindings());
  VMROAM_TRY(s.replay, load_replay());
  VMROAM_TRY(s.visitors, load_visitors());
  return s;
}

}  // namespace vmroam::store
