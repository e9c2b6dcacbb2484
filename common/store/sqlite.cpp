// The SQLite layer under the durable store (sqlite.hpp).
#include "common/store/sqlite.hpp"

namespace vmroam::store::sqlite {

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

Result<Stmt> prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                              nullptr);
  if (rc != SQLITE_OK) return db_fail(db, rc, "prepare " + sql.substr(0, 40));
  return Stmt(s);
}

Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return db_fail(db, rc, what);
  return ok();
}

Result<std::string> query_text(sqlite3* db, const char* sql) {
  VMROAM_TRY(Stmt s, prepare(db, sql));
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) {
    const auto* p = sqlite3_column_text(s.get(), 0);
    return std::string(p ? reinterpret_cast<const char*>(p) : "");
  }
  if (rc == SQLITE_DONE) return std::string();
  return db_fail(db, rc, sql);
}

int step_done(sqlite3_stmt* s) {
  int rc = sqlite3_step(s);
  while (rc == SQLITE_ROW) rc = sqlite3_step(s);
  int reset_rc = sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (rc == SQLITE_DONE) return rc;
  return reset_rc != SQLITE_OK ? reset_rc : rc;
}

// ---- Binder ---------------------------------------------------------------------------------

Binder& Binder::text(std::string_view v) {
  return put(sqlite3_bind_text(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
}
Binder& Binder::i64(std::int64_t v) { return put(sqlite3_bind_int64(s_, ++i_, v)); }
Binder& Binder::blob(ByteView v) {
  // An empty vector's data() may be null, which SQLite binds as NULL: bind an empty blob.
  if (v.empty()) return put(sqlite3_bind_zeroblob(s_, ++i_, 0));
  return put(sqlite3_bind_blob(s_, ++i_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
}
Binder& Binder::null() { return put(sqlite3_bind_null(s_, ++i_)); }

// ---- Row ------------------------------------------------------------------------------------

std::string Row::text() {
  const auto* p = sqlite3_column_text(s_, i_);
  int n = sqlite3_column_bytes(s_, i_++);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Bytes Row::blob() {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i_));
  int n = sqlite3_column_bytes(s_, i_++);
  return p ? Bytes(p, p + n) : Bytes();
}

std::optional<std::int64_t> Row::opt_i64() {
  if (is_null()) {
    ++i_;
    return std::nullopt;
  }
  return i64();
}

Ipv4 Row::ipv4(const char* what) {
  std::string s = text();
  auto a = Ipv4::parse(s);
  if (!a) mark(what, s);
  return a.value_or(Ipv4{});
}

MacAddress Row::mac(const char* what) {
  std::string s = text();
  auto m = MacAddress::parse(s);
  if (!m) mark(what, s);
  return m.value_or(MacAddress{});
}

void Row::mark(const char* what, const std::string& value) {
  if (bad_.empty()) bad_ = std::string(what) + " = '" + value + "'";
}

}  // namespace vmroam::store::sqlite
