// The SQLite layer under the durable store: owning handles, SQLite result codes mapped to
// the store's named errors, and the two cursors that move values in and out of a statement
// (Binder left to right into parameters, Row left to right out of columns). Knows SQLite,
// not the store's tables (schema.hpp) nor its records (record_codec.hpp).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// The store's error code for a SQLite result code (store.hpp lists them).
[[nodiscard]] std::string_view code_for(int rc);

// A named error for `rc`, its context `what` plus SQLite's own message for `db` when it adds
// something.
[[nodiscard]] Unexpected db_fail(sqlite3* db, int rc, std::string_view what);

// Prepares `sql` once for reuse (SQLITE_PREPARE_PERSISTENT).
[[nodiscard]] Result<Stmt> prepare(sqlite3* db, const std::string& sql);

// Runs SQL text with no results (several statements allowed).
[[nodiscard]] Result<void> exec(sqlite3* db, const char* sql, std::string_view what);

// Runs a one-row, one-column query and returns its text ("" when there is no row).
[[nodiscard]] Result<std::string> query_text(sqlite3* db, const char* sql);

// Runs a statement to completion and resets it; returns SQLITE_DONE on success.
int step_done(sqlite3_stmt* s);

// Binds parameters left to right; the first failure sticks and is checked once.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* s) : s_(s) {}
  [[nodiscard]] int rc() const { return rc_; }
  Binder& text(std::string_view v);
  Binder& i64(std::int64_t v);
  // Unsigned 64-bit values are stored bit-for-bit (two's complement) in SQLite's int64.
  Binder& u64(std::uint64_t v) { return i64(static_cast<std::int64_t>(v)); }
  Binder& blob(ByteView v);
  Binder& null();
  Binder& ipv4(Ipv4 a) { return text(a.to_string()); }
  Binder& mac(const MacAddress& m) { return text(m.to_string()); }
  template <typename T>
  Binder& opt_i64(const std::optional<T>& v) {
    return v ? i64(static_cast<std::int64_t>(*v)) : null();
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

  std::string text();
  std::int64_t i64() { return sqlite3_column_int64(s_, i_++); }
  std::uint64_t u64() { return static_cast<std::uint64_t>(i64()); }
  // An unsigned value that must fit T; one that does not marks the row bad as `what`.
  template <typename T>
  T uint(const char* what) {
    std::int64_t v = i64();
    if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) mark(what, std::to_string(v));
    return static_cast<T>(v);
  }
  // As uint<T>, but NULL reads as nullopt.
  template <typename T>
  std::optional<T> opt_uint(const char* what) {
    if (is_null()) {
      ++i_;
      return std::nullopt;
    }
    return uint<T>(what);
  }
  Bytes blob();
  [[nodiscard]] bool is_null() const { return sqlite3_column_type(s_, i_) == SQLITE_NULL; }
  std::optional<std::int64_t> opt_i64();
  Ipv4 ipv4(const char* what);
  MacAddress mac(const char* what);
  // Marks the row bad (the first mark wins): `what` = 'value'.
  void mark(const char* what, const std::string& value);

 private:
  sqlite3_stmt* s_;
  int i_ = 0;
  std::string bad_;
};

}  // namespace vmroam::store::sqlite
