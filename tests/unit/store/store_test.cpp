// Store: round trips of every table, atomic batches (a failing mutation applies nothing),
// reopen restores everything, and named errors for databases we cannot use.
#include "common/store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <functional>

#include "tests/fakes/temp_dir.hpp"

namespace vmroam::store {
namespace {

using test::TempDir;

Ipv4 ip(const char* s) { return Ipv4::parse(s).value(); }
MacAddress mac(const char* s) { return MacAddress::parse(s).value(); }
Ipv6 ip6(const std::string& s) { return Ipv6::parse(s).value(); }

VmRecord vm(const std::string& id, std::uint8_t n) {
  VmRecord r;
  r.id = id;
  r.home_address = Ipv4::from_octets(10, 1, 0, n);
  r.mac = MacAddress({0x52, 0x54, 0, 0, 1, n});
  r.allowed_fas = {ip("192.0.2.1"), ip("192.0.2.2")};
  r.spi = 0xfffffff0u;
  r.algorithm = "hmac-sha256";
  r.key = Bytes(32, n);
  r.fa_ha_spi = 300;
  r.params = R"({"note":"x"})";
  r.home_addresses_v6 = {ip6("2001:db8:1::" + std::to_string(n)), ip6("2001:db8:1::1:" + std::to_string(n))};
  return r;
}

BindingRecord binding(std::uint8_t n) {
  BindingRecord r;
  r.home_address = Ipv4::from_octets(10, 1, 0, n);
  r.care_of_address = ip("192.0.2.1");
  r.foreign_agent = ip("192.0.2.1");
  r.lifetime_granted = 600;
  r.flags = 0x02;
  r.encapsulation = "udp";
  r.registered_at_unix_ms = 1'700'000'000'000;
  r.expires_at_unix_ms = 1'700'000'600'000;
  r.identification = 0xfedcba9876543210ULL;  // high bit set: stored bit-for-bit
  r.move_seq = 3;
  r.counters.packets_in = 1;
  r.counters.bytes_in = ~std::uint64_t{0};
  r.counters.packets_out = 2;
  r.counters.bytes_out = 3;
  r.home_addresses_v6 = {ip6("2001:db8:1::" + std::to_string(n))};
  return r;
}

VisitorRecord visitor(const std::string& id, std::uint8_t n) {
  VisitorRecord r;
  r.id = id;
  r.home_address = Ipv4::from_octets(10, 1, 0, n);
  r.mac = MacAddress({0x52, 0x54, 0, 0, 2, n});
  r.home_gateway = ip("10.1.0.1");
  r.home_gateway_mac = mac("02:00:00:00:00:01");
  r.home_agent = ip("198.51.100.1");
  r.spi = 256;
  r.algorithm = "hmac-md5";
  r.key = Bytes{1, 2, 3};
  r.lifetime_requested = 65535;
  r.state = "active";
  r.last_reply_code = 0;
  r.reason = "";
  r.identification_sent = 0x8000000000000001ULL;
  r.expires_at_unix_ms = std::nullopt;
  r.created_at_unix_ms = 1'700'000'000'123;
  r.home_addresses_v6 = {ip6("2001:db8:1::" + std::to_string(n)), ip6("2001:db8:1::1:" + std::to_string(n))};
  r.granted_v6 = {ip6("2001:db8:1::" + std::to_string(n))};
  r.home_gateway_v6 = ip6("fe80::1");
  return r;
}

Store open_ok(const std::string& path) {
  auto s = Store::open(path);
  if (!s) ADD_FAILURE() << s.error().to_string();
  return std::move(s).value();
}

TEST(Store, RoundTripsEveryTable) {
  TempDir dir;
  Store s = open_ok(dir.file("a.db"));
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  Batch b;
  b.put_vm(vm("vm-a", 10));
  VmRecord no_fa_ha = vm("vm-b", 11);
  no_fa_ha.fa_ha_spi.reset();
  no_fa_ha.allowed_fas.clear();
  b.put_vm(no_fa_ha);
  b.put_binding(binding(10));
  BindingRecord infinite = binding(11);
  infinite.expires_at_unix_ms.reset();
  b.put_binding(infinite);
  b.put_replay({ip("10.1.0.10"), 0xffffffffffffffffULL});
  b.put_visitor(visitor("vm-c", 12));
  VisitorRecord v4_only = visitor("vm-d", 13);  // no IPv6 at all: empty lists, NULL gateway
  v4_only.home_addresses_v6.clear();
  v4_only.granted_v6.clear();
  v4_only.home_gateway_v6.reset();
  b.put_visitor(v4_only);
  ASSERT_TRUE(s.commit(b));

  auto snap = s.load();
  ASSERT_TRUE(snap) << snap.error().to_string();
  EXPECT_EQ(snap->vms, (std::vector<VmRecord>{vm("vm-a", 10), no_fa_ha}));
  EXPECT_EQ(snap->bindings, (std::vector<BindingRecord>{binding(10), infinite}));
  EXPECT_EQ(snap->replay, (std::vector<ReplayRecord>{{ip("10.1.0.10"), 0xffffffffffffffffULL}}));
  EXPECT_EQ(snap->visitors, (std::vector<VisitorRecord>{visitor("vm-c", 12), v4_only}));
}

TEST(Store, PutReplacesByKeyAndDeleteRemoves) {
  TempDir dir;
  Store s = open_ok(dir.file("a.db"));
  Batch b;
  b.put_binding(binding(10));
  b.put_vm(vm("vm-a", 10));
  b.put_visitor(visitor("vm-v", 10));
  b.put_replay({ip("10.1.0.10"), 5});
  ASSERT_TRUE(s.commit(b));

  Batch c;
  BindingRecord moved = binding(10);
  moved.care_of_address = ip("192.0.2.2");
  moved.move_seq = 4;
  c.put_binding(moved);
  c.put_replay({ip("10.1.0.10"), 6});
  c.delete_vm("vm-a");
  c.delete_vm("never-existed");
  c.delete_visitor("vm-v");
  ASSERT_TRUE(s.commit(c));
  auto snap = s.load();
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->bindings, std::vector<BindingRecord>{moved});
  EXPECT_EQ(snap->replay, (std::vector<ReplayRecord>{{ip("10.1.0.10"), 6}}));
  EXPECT_TRUE(snap->vms.empty());
  EXPECT_TRUE(snap->visitors.empty());

  Batch d;
  d.delete_binding(ip("10.1.0.10"));
  d.delete_replay(ip("10.1.0.10"));
  ASSERT_TRUE(s.commit(d));
  EXPECT_TRUE(s.load_bindings()->empty());
  EXPECT_TRUE(s.load_replay()->empty());
  EXPECT_TRUE(s.commit(Batch{}));  // empty batch: nothing to do
}

TEST(Store, PendingRevocationsRoundTripAndAreDeletedById) {
  TempDir dir;
  RevocationRecord a{
      0xfffffffeu, ip("192.0.2.2"), ip("10.1.0.10"), Bytes{7, 0, 0x80, 0, 1, 2}, 1'700'000'000'123, "{}"};
  RevocationRecord b{1, ip("192.0.2.3"), ip("10.1.0.11"), Bytes{7, 1}, 1'700'000'000'456, "{}"};
  {
    Store s = open_ok(dir.file("a.db"));
    Batch put;
    put.put_revocation(a);
    put.put_revocation(b);
    ASSERT_TRUE(s.commit(put));
  }
  Store s = open_ok(dir.file("a.db"));
  auto snap = s.load();
  ASSERT_TRUE(snap) << snap.error().to_string();
  EXPECT_EQ(snap->revocations, (std::vector<RevocationRecord>{b, a}));  // ordered by id
  Batch del;
  del.delete_revocation(0xfffffffeu);
  del.delete_revocation(12345);  // never existed: not an error
  ASSERT_TRUE(s.commit(del));
  EXPECT_EQ(*s.load_revocations(), std::vector<RevocationRecord>{b});
  Batch empty_message;
  empty_message.put_revocation({2, ip("192.0.2.2"), ip("10.1.0.12"), Bytes{}, 0, "{}"});
  auto r = s.commit(empty_message);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "store_constraint");
}

TEST(Store, FailingBatchAppliesNothing) {
  struct Case {
    const char* description;
    std::function<void(Batch&)> fill;
    std::string_view expected_code;
    std::string expected_context_prefix;
  };
  const Case cases[] = {
      {"binding params not JSON",
       [](Batch& b) {
         b.put_binding(binding(20));
         b.delete_binding(Ipv4::from_octets(10, 1, 0, 10));
         BindingRecord bad = binding(21);
         bad.params = "{not json";
         b.put_binding(bad);
       },
       "store_constraint", "mutation 2 (put_binding)"},
      {"two visitors with one MAC",
       [](Batch& b) {
         b.put_replay({ip("10.1.0.30"), 1});
         VisitorRecord other = visitor("vm-other", 31);
         other.mac = visitor("vm-v", 10).mac;
         b.put_visitor(other);
       },
       "store_constraint", "mutation 1 (put_visitor)"},
      {"VM params not an object",
       [](Batch& b) {
         b.delete_vm("vm-a");
         VmRecord bad = vm("vm-z", 40);
         bad.params = "[]";
         b.put_vm(bad);
       },
       "store_constraint", "mutation 1 (put_vm)"},
      {"a second VM claims a home address",
       [](Batch& b) {
         b.put_binding(binding(50));
         VmRecord dup = vm("vm-dup", 10);
         dup.mac = mac("02:00:00:00:00:99");
         b.put_vm(dup);
       },
       "store_constraint", "mutation 1 (put_vm)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    TempDir dir;
    Store s = open_ok(dir.file("a.db"));
    Batch base;
    base.put_binding(binding(10));
    base.put_vm(vm("vm-a", 10));
    base.put_visitor(visitor("vm-v", 10));
    ASSERT_TRUE(s.commit(base));
    auto before = s.load();
    ASSERT_TRUE(before);

    Batch b;
    c.fill(b);
    auto r = s.commit(b);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, c.expected_code);
    EXPECT_EQ(r.error().context.substr(0, c.expected_context_prefix.size()), c.expected_context_prefix)
        << r.error().context;

    auto after = s.load();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->bindings, before->bindings);
    EXPECT_EQ(after->vms, before->vms);
    EXPECT_EQ(after->visitors, before->visitors);
    EXPECT_EQ(after->replay, before->replay);

    // The store stays usable after a refused batch.
    Batch next;
    next.put_binding(binding(99));
    ASSERT_TRUE(s.commit(next));
    EXPECT_EQ(s.load_bindings()->size(), before->bindings.size() + 1);
  }
}

TEST(Store, ReopenRestoresEverything) {
  TempDir dir;
  Snapshot want;
  {
    Store s = open_ok(dir.file("a.db"));
    for (std::uint8_t n = 1; n <= 20; ++n) {
      Batch b;
      b.put_binding(binding(n));
      b.put_replay({Ipv4::from_octets(10, 1, 0, n), n});
      if (n % 2) b.put_vm(vm("vm-" + std::to_string(100 + n), n));
      if (n % 3 == 0) b.put_visitor(visitor("v-" + std::to_string(100 + n), n));
      if (n % 5 == 0) b.delete_binding(Ipv4::from_octets(10, 1, 0, static_cast<std::uint8_t>(n - 1)));
      ASSERT_TRUE(s.commit(b));
    }
    auto snap = s.load();
    ASSERT_TRUE(snap);
    want = *snap;
    EXPECT_EQ(want.bindings.size(), 16u);
    s.close();
    Batch late;
    late.put_binding(binding(1));
    EXPECT_EQ(s.commit(late).error().code, "store_closed");
  }
  Store s = open_ok(dir.file("a.db"));
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  auto got = s.load();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bindings, want.bindings);
  EXPECT_EQ(got->vms, want.vms);
  EXPECT_EQ(got->visitors, want.visitors);
  EXPECT_EQ(got->replay, want.replay);
}

void raw_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(Store, RefusesDatabasesItCannotUseWithNamedErrors) {
  struct Case {
    const char* description;
    std::function<std::string(const TempDir&)> prepare;  // returns the path to open
    std::string_view expected_code;
  };
  const Case cases[] = {
      {"garbage file",
       [](const TempDir& d) {
         std::ofstream(d.file("g.db")) << std::string(8192, 'x');
         return d.file("g.db");
       },
       "store_corrupt"},
      {"directory does not exist", [](const TempDir& d) { return d.file("no/such/dir/a.db"); },
       "store_open_failed"},
      {"path is a directory", [](const TempDir& d) { return d.file(""); }, "store_open_failed"},
      {"someone else's database",
       [](const TempDir& d) {
         raw_sql(d.file("o.db"), "CREATE TABLE t (x);");
         return d.file("o.db");
       },
       "store_not_ours"},
      {"schema from a newer build",
       [](const TempDir& d) {
         raw_sql(d.file("n.db"),
                 "CREATE TABLE schema_version (version INTEGER); INSERT INTO schema_version VALUES (99);");
         return d.file("n.db");
       },
       "store_schema_too_new"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    TempDir dir;
    auto s = Store::open(c.prepare(dir));
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, c.expected_code) << s.error().to_string();
    EXPECT_FALSE(s.error().context.empty());
  }
}

TEST(Store, MigratesAnEmptyFileFromVersionZero) {
  TempDir dir;
  std::ofstream(dir.file("e.db")).close();  // zero bytes: a valid, empty SQLite database
  Store s = open_ok(dir.file("e.db"));
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  auto snap = s.load();
  ASSERT_TRUE(snap);
  EXPECT_TRUE(snap->bindings.empty());
}

// The SQL that takes a freshly created store back to an older schema version: version 2
// has no IPv6 columns (schema.cpp, 2 -> 3), version 1 neither those nor ha_revocations (1 -> 2).
std::string downgrade_sql(int version) {
  std::string sql =
      "ALTER TABLE ha_vms DROP COLUMN home_addresses_v6;"
      "ALTER TABLE ha_bindings DROP COLUMN home_addresses_v6;"
      "ALTER TABLE fa_visitors DROP COLUMN home_addresses_v6;"
      "ALTER TABLE fa_visitors DROP COLUMN granted_v6;"
      "ALTER TABLE fa_visitors DROP COLUMN home_gateway_v6;";
  if (version < 2) sql += "DROP TABLE ha_revocations;";
  return sql + "UPDATE schema_version SET version = " + std::to_string(version) + ";";
}

// A store written by schema version 1 or 2 (no IPv6 columns) opens at kSchemaVersion: its rows
// gain empty IPv6 lists, and IPv6 addresses can be written at once.
TEST(Store, MigratesAStoreWithoutIpv6KeepingItsRows) {
  for (int version : {1, 2}) {
    SCOPED_TRACE("from version " + std::to_string(version));
    TempDir dir;
    {
      Store s = open_ok(dir.file("old.db"));
      Batch b;
      b.put_vm(vm("vm-a", 10));
      b.put_binding(binding(10));
      b.put_visitor(visitor("vm-c", 12));
      ASSERT_TRUE(s.commit(b));
    }
    raw_sql(dir.file("old.db"), downgrade_sql(version).c_str());
    Store s = open_ok(dir.file("old.db"));
    EXPECT_EQ(s.schema_version(), kSchemaVersion);
    auto snap = s.load();
    ASSERT_TRUE(snap) << snap.error().to_string();
    ASSERT_EQ(snap->vms.size(), 1u);
    VmRecord want_vm = vm("vm-a", 10);
    want_vm.home_addresses_v6.clear();
    EXPECT_EQ(snap->vms[0], want_vm);
    ASSERT_EQ(snap->bindings.size(), 1u);
    EXPECT_TRUE(snap->bindings[0].home_addresses_v6.empty());
    ASSERT_EQ(snap->visitors.size(), 1u);
    EXPECT_TRUE(snap->visitors[0].home_addresses_v6.empty());
    EXPECT_FALSE(snap->visitors[0].home_gateway_v6.has_value());
    EXPECT_TRUE(snap->revocations.empty());
    Batch b;
    b.put_vm(vm("vm-a", 10));
    ASSERT_TRUE(s.commit(b));
    EXPECT_EQ(s.load()->vms[0], vm("vm-a", 10));
  }
}

TEST(Store, DetectsARowItCannotParse) {
  TempDir dir;
  {
    Store s = open_ok(dir.file("a.db"));
    Batch b;
    b.put_binding(binding(10));
    ASSERT_TRUE(s.commit(b));
  }
  raw_sql(dir.file("a.db"), "UPDATE ha_bindings SET care_of_address = '300.1.1.1';");
  Store s = open_ok(dir.file("a.db"));
  auto r = s.load_bindings();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "store_corrupt");
  EXPECT_NE(r.error().context.find("care_of_address"), std::string::npos) << r.error().context;
}

TEST(Store, DetectsAnIpv6ListItCannotParse) {
  TempDir dir;
  {
    Store s = open_ok(dir.file("a.db"));
    Batch b;
    b.put_vm(vm("vm-a", 10));
    ASSERT_TRUE(s.commit(b));
  }
  raw_sql(dir.file("a.db"), R"(UPDATE ha_vms SET home_addresses_v6 = '["2001:db8::1", "10.1.0.1"]';)");
  Store s = open_ok(dir.file("a.db"));
  auto r = s.load();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "store_corrupt");
  EXPECT_NE(r.error().context.find("home_addresses_v6"), std::string::npos) << r.error().context;
}

}  // namespace
}  // namespace vmroam::store
