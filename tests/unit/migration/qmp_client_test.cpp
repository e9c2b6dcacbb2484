// QmpClient against a scripted QEMU peer over a socketpair: greeting and negotiation, ids,
// events interleaved with pending commands, error replies, fd passing, a peer that hangs up.
#include "migration/qmp_client.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/unit/migration/fake_qemu.hpp"

namespace vmroam::qmp {
namespace {

using testing::FakeQemu;
using testing::run_until;

struct Fixture {
  boost::asio::io_context io;
  FakeQemu qemu{io, "source"};
  std::unique_ptr<QmpClient> client;
  std::optional<Result<Greeting>> greeting;
  std::vector<Event> events;

  explicit Fixture(bool greet = true) {
    client = std::make_unique<QmpClient>(qemu.client_transport(greet), "source");
    client->set_event_handler([this](const Event& e) { events.push_back(e); });
  }
  bool start() {
    client->start([this](Result<Greeting> g) { greeting = std::move(g); });
    return run_until(io, [&] { return greeting.has_value(); });
  }
};

TEST(QmpClient, GreetingThenNegotiation) {
  Fixture f;
  ASSERT_TRUE(f.start());
  ASSERT_TRUE(*f.greeting) << f.greeting->error().to_string();
  EXPECT_EQ((*f.greeting)->major, 7);
  EXPECT_TRUE(f.client->ready());
  ASSERT_EQ(f.qemu.names(), std::vector<std::string>{"qmp_capabilities"});
  EXPECT_TRUE(f.qemu.received[0].id.is_number());
}

TEST(QmpClient, NegotiationRefused) {
  Fixture f;
  f.qemu.on_command = [&](const FakeQemu::Received& r) {
    f.qemu.error(r.id, "CommandNotFound", "Capabilities negotiation is already complete, command ignored");
  };
  ASSERT_TRUE(f.start());
  ASSERT_FALSE(*f.greeting);
  EXPECT_EQ(f.greeting->error().code, "qmp_error");
  EXPECT_NE(f.greeting->error().context.find("CommandNotFound"), std::string::npos);
  EXPECT_FALSE(f.client->ready());
}

TEST(QmpClient, FirstMessageNotAGreeting) {
  Fixture f(/*greet=*/false);
  f.qemu.send_line(R"({"return": {}})");
  ASSERT_TRUE(f.start());
  ASSERT_FALSE(*f.greeting);
  EXPECT_EQ(f.greeting->error().code, "bad_greeting");
}

TEST(QmpClient, RepliesMatchedByIdEvenOutOfOrder) {
  Fixture f;
  ASSERT_TRUE(f.start());
  std::vector<const FakeQemu::Received*> held;
  f.qemu.on_command = [&](const FakeQemu::Received& r) { held.push_back(&r); };
  std::optional<Result<Json>> a, b;
  f.client->execute("query-status", Json(), [&](Result<Json> r) { a = std::move(r); });
  f.client->execute("query-migrate", Json(), [&](Result<Json> r) { b = std::move(r); });
  ASSERT_TRUE(run_until(f.io, [&] { return f.qemu.received.size() == 3; }));
  ASSERT_NE(f.qemu.received[1].id, f.qemu.received[2].id);
  // Answer the second first: each handler must still get its own reply.
  f.qemu.reply(f.qemu.received[2].id, Json{{"status", "active"}});
  f.qemu.reply(f.qemu.received[1].id, Json{{"status", "running"}});
  ASSERT_TRUE(run_until(f.io, [&] { return a && b; }));
  ASSERT_TRUE(*a && *b);
  EXPECT_EQ((**a)["status"], "running");
  EXPECT_EQ((**b)["status"], "active");
  EXPECT_EQ(f.client->pending(), 0u);
}

TEST(QmpClient, EventsWhilePendingAreDeliveredAtOnceAndInOrder) {
  Fixture f;
  ASSERT_TRUE(f.start());
  std::optional<Result<Json>> reply;
  std::size_t events_seen_at_reply = 0;
  f.qemu.on_command = [&](const FakeQemu::Received& r) {
    // QEMU 7.2 sends the migration events before it answers migrate-continue.
    f.qemu.event("MIGRATION", Json{{"status", "device"}});
    f.qemu.event("MIGRATION_PASS", Json{{"pass", 3}});
    f.qemu.event("MIGRATION", Json{{"status", "completed"}});
    f.qemu.reply(r.id, Json::object());
  };
  f.client->execute("migrate-continue", Json{{"state", "pre-switchover"}}, [&](Result<Json> r) {
    events_seen_at_reply = f.events.size();
    reply = std::move(r);
  });
  ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value(); }));
  EXPECT_TRUE(*reply);
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(events_seen_at_reply, 3u);  // dispatched as they arrived, before the reply
  EXPECT_EQ(f.events[0].status(), "device");
  EXPECT_EQ(f.events[1].pass(), 3);
  EXPECT_EQ(f.events[2].status(), "completed");
  EXPECT_EQ(f.qemu.received.back().args["state"], "pre-switchover");
}

TEST(QmpClient, ErrorReplies) {
  Fixture f;
  ASSERT_TRUE(f.start());
  struct Case {
    const char* description;
    bool with_id;
    const char* cls;
  };
  const Case cases[] = {{"error with id", true, "GenericError"},
                        {"parse error without id", false, "GenericError"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    f.qemu.on_command = [&](const FakeQemu::Received& r) {
      f.qemu.error(c.with_id ? r.id : Json(), c.cls, "Migration not in expected state: none");
    };
    std::optional<Result<Json>> reply;
    f.client->execute("migrate-continue", Json{{"state", "pre-switchover"}},
                      [&](Result<Json> r) { reply = std::move(r); });
    ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value(); }));
    ASSERT_FALSE(*reply);
    EXPECT_EQ(reply->error().code, "qmp_error");
    EXPECT_EQ(reply->error().context, "GenericError: Migration not in expected state: none");
  }
}

TEST(QmpClient, PartialAndCoalescedWrites) {
  Fixture f;
  ASSERT_TRUE(f.start());
  std::optional<Result<Json>> reply;
  f.qemu.on_command = [&](const FakeQemu::Received& r) {
    std::string ev =
        Json{{"timestamp", {{"seconds", 1}, {"microseconds", 0}}}, {"event", "STOP"}}.dump() + "\r\n";
    std::string rep = Json{{"return", {{"status", "active"}}}, {"id", r.id}}.dump();
    // One write holding an event and the first half of the reply, then the rest.
    f.qemu.send_raw(ev + rep.substr(0, 10));
    f.qemu.send_raw(rep.substr(10) + "\r\n");
  };
  f.client->execute("query-migrate", Json(), [&](Result<Json> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value(); }));
  ASSERT_TRUE(*reply);
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].name, "STOP");
}

TEST(QmpClient, PassesFdWithGetfd) {
  Fixture f;
  ASSERT_TRUE(f.start());
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::optional<Result<Json>> reply;
  f.client->execute(
      "getfd", Json{{"fdname", "vmroam-mig"}}, [&](Result<Json> r) { reply = std::move(r); }, fds[0]);
  ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value(); }));
  const auto* got = f.qemu.find("getfd");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->args["fdname"], "vmroam-mig");
  ASSERT_GE(got->fd, 0);
  // The received fd is the same socket: same inode.
  struct stat a {
  }, b{};
  ASSERT_EQ(::fstat(fds[0], &a), 0);
  ASSERT_EQ(::fstat(got->fd, &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(QmpClient, PeerHangsUpWithCommandsPending) {
  Fixture f;
  ASSERT_TRUE(f.start());
  std::optional<Error> closed;
  f.client->set_closed_handler([&](const Error& e) { closed = e; });
  f.qemu.on_command = [&](const FakeQemu::Received&) { f.qemu.close(); };
  std::optional<Result<Json>> reply;
  f.client->execute("query-migrate", Json(), [&](Result<Json> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value() && closed.has_value(); }));
  ASSERT_FALSE(*reply);
  EXPECT_EQ(reply->error().code, "qmp_closed");
  // After close, new commands fail (asynchronously) instead of hanging.
  std::optional<Result<Json>> late;
  f.client->execute("query-migrate", Json(), [&](Result<Json> r) { late = std::move(r); });
  EXPECT_FALSE(late.has_value());
  ASSERT_TRUE(run_until(f.io, [&] { return late.has_value(); }));
  EXPECT_EQ(late->error().code, "qmp_closed");
}

TEST(QmpClient, BadLinesAreSkippedNotFatal) {
  Fixture f;
  ASSERT_TRUE(f.start());
  f.qemu.on_command = [&](const FakeQemu::Received& r) {
    f.qemu.send_line("{not json");
    f.qemu.send_line(R"({"weird": true})");
    f.qemu.reply(r.id, Json::object());
  };
  std::optional<Result<Json>> reply;
  f.client->execute("stop", Json(), [&](Result<Json> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until(f.io, [&] { return reply.has_value(); }));
  EXPECT_TRUE(*reply);
}

}  // namespace
}  // namespace vmroam::qmp
