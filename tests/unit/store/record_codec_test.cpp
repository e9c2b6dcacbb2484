// Records to rows and back: every field of every record survives bind then read against the
// real schema (extremes included), and a column that does not parse marks the row by name.
#include "common/store/record_codec.hpp"

#include <gtest/gtest.h>

#include "common/store/schema.hpp"

namespace vmroam::store::codec {
namespace {

using sqlite::Binder;
using sqlite::Row;

struct Fixture {
  sqlite::Db db;
  Fixture() {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
    db.reset(raw);
    EXPECT_TRUE(schema::migrate(db.get(), ":memory:"));
  }
  template <typename Record>
  void put(const schema::Table& t, const Record& r) {
    auto s = sqlite::prepare(db.get(), schema::upsert_sql(t)).value();
    Binder b(s.get());
    bind(b, r);
    ASSERT_EQ(b.rc(), SQLITE_OK);
    ASSERT_EQ(sqlite::step_done(s.get()), SQLITE_DONE) << sqlite3_errmsg(db.get());
  }
  // Reads the first row of `t` with `read`; `bad` gets the row's mark, if any.
  template <typename Read>
  auto get(const schema::Table& t, Read read, std::string* bad = nullptr) {
    auto s = sqlite::prepare(db.get(), schema::select_sql(t)).value();
    EXPECT_EQ(sqlite3_step(s.get()), SQLITE_ROW);
    Row row(s.get());
    auto r = read(row);
    if (bad) *bad = row.bad();
    return r;
  }
};

Ipv4 ip(const char* s) { return Ipv4::parse(s).value(); }

TEST(RecordCodec, VmRoundTrips) {
  Fixture f;
  VmRecord r{"vm-1",
             ip("10.1.0.9"),
             MacAddress({0x52, 0x54, 0, 0, 1, 9}),
             {ip("192.0.2.1"), ip("192.0.2.2")},
             0xffffffffu,
             "hmac-sha256",
             Bytes(32, 7),
             0xfffffffeu,
             R"({"note":"x"})"};
  f.put(schema::kVms, r);
  EXPECT_EQ(f.get(schema::kVms, read_vm), r);
  VmRecord bare{"vm-2",
                ip("10.1.0.10"),
                MacAddress({0x52, 0x54, 0, 0, 1, 10}),
                {},
                0,
                "hmac-md5",
                Bytes{},
                std::nullopt,
                "{}"};
  Fixture g;
  g.put(schema::kVms, bare);
  EXPECT_EQ(g.get(schema::kVms, read_vm), bare);
}

TEST(RecordCodec, BindingRoundTrips) {
  Fixture f;
  BindingRecord r;
  r.home_address = ip("10.1.0.9");
  r.care_of_address = ip("192.0.2.1");
  r.foreign_agent = ip("192.0.2.2");
  r.lifetime_granted = 65535;
  r.flags = 0xff;
  r.encapsulation = "udp";
  r.registered_at_unix_ms = 1'700'000'000'000;
  r.expires_at_unix_ms = std::nullopt;
  r.identification = ~std::uint64_t{0};
  r.move_seq = 1ULL << 63;
  r.counters.packets_in = 1;
  r.counters.bytes_in = 2;
  r.counters.packets_out = 3;
  r.counters.bytes_out = 4;
  f.put(schema::kBindings, r);
  EXPECT_EQ(f.get(schema::kBindings, read_binding), r);
}

TEST(RecordCodec, ReplayAndVisitorRoundTrip) {
  Fixture f;
  ReplayRecord rp{ip("10.1.0.9"), 0x8000000000000000ULL};
  f.put(schema::kReplay, rp);
  EXPECT_EQ(f.get(schema::kReplay, read_replay), rp);

  VisitorRecord v;
  v.id = "v-1";
  v.home_address = ip("10.1.0.9");
  v.mac = MacAddress({0x52, 0x54, 0, 0, 2, 9});
  v.home_gateway = ip("10.1.0.1");
  v.home_gateway_mac = MacAddress({2, 0, 0, 0, 0, 1});
  v.home_agent = ip("198.51.100.1");
  v.spi = 256;
  v.algorithm = "hmac-md5";
  v.key = Bytes{1, 2, 3};
  v.lifetime_requested = 600;
  v.state = "registering";
  v.last_reply_code = 255;
  v.reason = "why";
  v.identification_sent = 5;
  v.expires_at_unix_ms = -1;
  v.created_at_unix_ms = 7;
  f.put(schema::kVisitors, v);
  EXPECT_EQ(f.get(schema::kVisitors, read_visitor), v);
}

TEST(RecordCodec, MarksAColumnThatDoesNotParse) {
  struct Case {
    const char* description;
    const char* sql;
    std::string expected_bad;
  };
  const Case cases[] = {
      {"allowed_fas holds a non-address",
       R"(INSERT INTO ha_vms VALUES ('a', '10.1.0.1', '02:00:00:00:00:01', '["x"]', 1, 'm', x'', NULL, '{}', '[]'))",
       R"(allowed_fas = '["x"]')"},
      {"allowed_fas holds a number",
       R"(INSERT INTO ha_vms VALUES ('a', '10.1.0.1', '02:00:00:00:00:01', '[1]', 1, 'm', x'', NULL, '{}', '[]'))",
       "allowed_fas = '[1]'"},
      {"home_addresses_v6 holds an IPv4 address",
       R"(INSERT INTO ha_vms VALUES ('a', '10.1.0.1', '02:00:00:00:00:01', '[]', 1, 'm', x'', NULL, '{}', '["10.1.0.9"]'))",
       R"(home_addresses_v6 = '["10.1.0.9"]')"},
      {"mac is not a MAC",
       R"(INSERT INTO ha_vms VALUES ('a', '10.1.0.1', 'zz', '[]', 1, 'm', x'', NULL, '{}', '[]'))",
       "mac = 'zz'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    Fixture f;
    ASSERT_TRUE(sqlite::exec(f.db.get(), c.sql, "insert"));
    std::string bad;
    f.get(schema::kVms, read_vm, &bad);
    EXPECT_EQ(bad, c.expected_bad);
  }
}

}  // namespace
}  // namespace vmroam::store::codec
