// The SQLite layer: result codes map to the store's named errors (extended codes too), the
// Binder and Row cursors round-trip every kind of value on an in-memory database, a value that
// does not parse marks the row with the column's name, and statements reset after running.
#include "common/store/sqlite.hpp"

#include <gtest/gtest.h>

namespace vmroam::store::sqlite {
namespace {

Db memory_db() {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  return Db(raw);
}

TEST(Sqlite, MapsResultCodesToNamedErrors) {
  struct Case {
    int rc;
    std::string_view code;
  };
  const Case cases[] = {
      {SQLITE_CONSTRAINT, "store_constraint"},
      {SQLITE_CONSTRAINT_UNIQUE, "store_constraint"},
      {SQLITE_BUSY, "store_busy"},
      {SQLITE_LOCKED, "store_busy"},
      {SQLITE_FULL, "store_full"},
      {SQLITE_IOERR, "store_io"},
      {SQLITE_IOERR_FSYNC, "store_io"},
      {SQLITE_CORRUPT, "store_corrupt"},
      {SQLITE_NOTADB, "store_corrupt"},
      {SQLITE_CANTOPEN, "store_open_failed"},
      {SQLITE_MISUSE, "store_error"},
  };
  for (const auto& c : cases) EXPECT_EQ(code_for(c.rc), c.code) << c.rc;
}

TEST(Sqlite, FailureNamesWhatAndSqlitesMessage) {
  Db db = memory_db();
  auto s = prepare(db.get(), "SELECT nope FROM nowhere");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, "store_error");
  EXPECT_NE(s.error().context.find("prepare SELECT nope"), std::string::npos) << s.error().context;
  EXPECT_NE(s.error().context.find("nowhere"), std::string::npos) << s.error().context;
}

TEST(Sqlite, QueryTextReadsOneValueOrNothing) {
  Db db = memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('a');", "create"));
  EXPECT_EQ(query_text(db.get(), "SELECT x FROM t").value(), "a");
  EXPECT_EQ(query_text(db.get(), "SELECT x FROM t WHERE x = 'b'").value(), "");
  auto bad = exec(db.get(), "INSERT INTO nowhere VALUES (1)", "insert somewhere");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().context.find("insert somewhere"), std::string::npos);
}

TEST(Sqlite, BinderAndRowRoundTripEveryKindOfValue) {
  Db db = memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (a, b, c, d, e, f, g, h, i)", "create"));
  Stmt ins = prepare(db.get(), "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").value();
  Binder b(ins.get());
  b.text("hello").i64(-5).u64(~std::uint64_t{0}).blob(Bytes{}).blob(Bytes{1, 2});
  b.ipv4(Ipv4::from_octets(10, 1, 0, 7)).mac(MacAddress({2, 0, 0, 0, 0, 9}));
  b.opt_i64(std::optional<int>{}).opt_i64(std::optional<int>{42});
  ASSERT_EQ(b.rc(), SQLITE_OK);
  ASSERT_EQ(step_done(ins.get()), SQLITE_DONE);

  Stmt sel = prepare(db.get(), "SELECT a, b, c, d, e, f, g, h, i, typeof(d) FROM t").value();
  ASSERT_EQ(sqlite3_step(sel.get()), SQLITE_ROW);
  Row row(sel.get());
  EXPECT_EQ(row.text(), "hello");
  EXPECT_EQ(row.i64(), -5);
  EXPECT_EQ(row.u64(), ~std::uint64_t{0});  // bit-for-bit through SQLite's signed integer
  EXPECT_EQ(row.blob(), Bytes{});
  EXPECT_EQ(row.blob(), (Bytes{1, 2}));
  EXPECT_EQ(row.ipv4("f"), Ipv4::from_octets(10, 1, 0, 7));
  EXPECT_EQ(row.mac("g"), MacAddress({2, 0, 0, 0, 0, 9}));
  EXPECT_EQ(row.opt_i64(), std::nullopt);
  EXPECT_EQ(row.opt_uint<std::uint8_t>("i"), std::optional<std::uint8_t>{42});
  EXPECT_EQ(row.text(), "blob");  // an empty blob is a blob, not NULL
  EXPECT_TRUE(row.ok());
}

TEST(Sqlite, RowMarksTheFirstValueThatDoesNotParse) {
  Db db = memory_db();
  Stmt sel = prepare(db.get(), "SELECT 'x.y', 256, -1, 'not a mac'").value();
  ASSERT_EQ(sqlite3_step(sel.get()), SQLITE_ROW);
  Row row(sel.get());
  row.ipv4("care_of_address");
  row.uint<std::uint8_t>("flags");
  row.opt_uint<std::uint32_t>("spi");
  row.mac("mac");
  EXPECT_FALSE(row.ok());
  EXPECT_EQ(row.bad(), "care_of_address = 'x.y'");

  Stmt range = prepare(db.get(), "SELECT 256").value();
  ASSERT_EQ(sqlite3_step(range.get()), SQLITE_ROW);
  Row r2(range.get());
  r2.uint<std::uint8_t>("flags");
  EXPECT_EQ(r2.bad(), "flags = '256'");
}

TEST(Sqlite, BinderKeepsTheFirstFailure) {
  Db db = memory_db();
  Stmt s = prepare(db.get(), "SELECT ?").value();
  Binder b(s.get());
  b.i64(1).text("too many").i64(3);
  EXPECT_EQ(b.rc(), SQLITE_RANGE);
}

TEST(Sqlite, StepDoneResetsSoAStatementRunsAgain) {
  Db db = memory_db();
  ASSERT_TRUE(exec(db.get(), "CREATE TABLE t (x INTEGER UNIQUE)", "create"));
  Stmt ins = prepare(db.get(), "INSERT INTO t VALUES (?)").value();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Binder(ins.get()).i64(i).rc(), SQLITE_OK);
    EXPECT_EQ(step_done(ins.get()), SQLITE_DONE);
  }
  ASSERT_EQ(Binder(ins.get()).i64(1).rc(), SQLITE_OK);
  EXPECT_EQ(step_done(ins.get()) & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(query_text(db.get(), "SELECT count(*) FROM t").value(), "2");
}

}  // namespace
}  // namespace vmroam::store::sqlite
