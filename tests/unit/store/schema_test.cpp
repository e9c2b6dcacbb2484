// The schema: the SQL each table's statements are built from (a put replaces only the row
// with its key), and migrate() from nothing, idempotently, refusing what is not ours or newer.
#include "common/store/schema.hpp"

#include <gtest/gtest.h>

#include "common/store/sqlite.hpp"

namespace vmroam::store::schema {
namespace {

sqlite::Db memory_db() {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  return sqlite::Db(raw);
}

TEST(Schema, BuildsEachTablesStatements) {
  EXPECT_EQ(upsert_sql(kReplay),
            "INSERT INTO ha_replay (home_address, last_identification) VALUES (?, ?) "
            "ON CONFLICT(home_address) DO UPDATE SET last_identification = excluded.last_identification");
  EXPECT_EQ(delete_sql(kVms), "DELETE FROM ha_vms WHERE id = ?");
  EXPECT_EQ(select_sql(kReplay),
            "SELECT home_address, last_identification FROM ha_replay ORDER BY home_address");
  for (const Table* t : {&kVms, &kBindings, &kReplay, &kVisitors})
    EXPECT_STREQ(t->columns.front(), t->key) << t->name;  // key first: bind and read order
}

TEST(Schema, MigratesFromNothingAndAgainIsANoOp) {
  sqlite::Db db = memory_db();
  EXPECT_EQ(migrate(db.get(), ":memory:").value(), kVersion);
  EXPECT_EQ(migrate(db.get(), ":memory:").value(), kVersion);
  EXPECT_EQ(sqlite::query_text(db.get(), "SELECT version FROM schema_version").value(),
            std::to_string(kVersion));
  // Every table's statements prepare against the migrated schema.
  for (const Table* t : {&kVms, &kBindings, &kReplay, &kVisitors}) {
    EXPECT_TRUE(sqlite::prepare(db.get(), upsert_sql(*t))) << t->name;
    EXPECT_TRUE(sqlite::prepare(db.get(), delete_sql(*t))) << t->name;
    EXPECT_TRUE(sqlite::prepare(db.get(), select_sql(*t))) << t->name;
  }
}

TEST(Schema, APutReplacesOnlyTheRowWithItsKey) {
  sqlite::Db db = memory_db();
  ASSERT_TRUE(migrate(db.get(), ":memory:"));
  auto put = sqlite::prepare(db.get(), upsert_sql(kReplay)).value();
  for (auto [addr, id] : {std::pair{"10.1.0.1", 1}, std::pair{"10.1.0.2", 2}, std::pair{"10.1.0.1", 3}}) {
    ASSERT_EQ(sqlite::Binder(put.get()).text(addr).i64(id).rc(), SQLITE_OK);
    ASSERT_EQ(sqlite::step_done(put.get()), SQLITE_DONE);
  }
  EXPECT_EQ(sqlite::query_text(db.get(),
                               "SELECT group_concat(last_identification) FROM "
                               "(SELECT * FROM ha_replay ORDER BY home_address)")
                .value(),
            "3,2");
}

TEST(Schema, RefusesWhatIsNotOursOrNewer) {
  {
    sqlite::Db db = memory_db();
    ASSERT_TRUE(sqlite::exec(db.get(), "CREATE TABLE t (x)", "create"));
    auto r = migrate(db.get(), "o.db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "store_not_ours");
    EXPECT_NE(r.error().context.find("o.db"), std::string::npos);
  }
  {
    sqlite::Db db = memory_db();
    ASSERT_TRUE(sqlite::exec(
        db.get(), "CREATE TABLE schema_version (version); INSERT INTO schema_version VALUES (99)", "create"));
    auto r = migrate(db.get(), "n.db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "store_schema_too_new");
  }
  {
    sqlite::Db db = memory_db();
    ASSERT_TRUE(sqlite::exec(
        db.get(), "CREATE TABLE schema_version (version); INSERT INTO schema_version VALUES (-1)", "create"));
    auto r = migrate(db.get(), "c.db");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "store_corrupt");
  }
}

}  // namespace
}  // namespace vmroam::store::schema
