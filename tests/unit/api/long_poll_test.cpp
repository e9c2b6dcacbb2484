// LongPoll: requests waiting on a key are answered by complete(), by their timeout, or
// forgotten when the transport cancels them; a one-shot reply is answered once.
#include "common/api/long_poll.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "common/core/asio.hpp"

namespace vmroam::api {
namespace {

using namespace std::chrono_literals;

struct Got {
  std::optional<Response> response;
  void attach(const Deferred& d) {
    d.attach([this](Response r) { response = std::move(r); });
  }
};

Response ok_json(const char* what) { return Response::make_json(200, Json{{"what", what}}); }

template <typename F>
void run_until(boost::asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(20ms);
  }
}

TEST(LongPoll, CompleteAnswersEveryRequestOnThatKeyOnly) {
  boost::asio::io_context io;
  LongPoll polls(io);
  Got a1, a2, b;
  a1.attach(polls.wait("a", 10s, [] { return ok_json("timeout"); }));
  a2.attach(polls.wait("a", 10s, [] { return ok_json("timeout"); }));
  b.attach(polls.wait("b", 10s, [] { return ok_json("timeout"); }));
  EXPECT_EQ(polls.waiting("a"), 2u);
  EXPECT_EQ(polls.complete("a", [] { return ok_json("done"); }), 2u);
  ASSERT_TRUE(a1.response && a2.response);
  EXPECT_EQ(a1.response->json["what"], "done");
  EXPECT_EQ(a2.response->json["what"], "done");
  EXPECT_FALSE(b.response);
  EXPECT_EQ(polls.waiting("a"), 0u);
  EXPECT_EQ(polls.complete("a", [] { return ok_json("again"); }), 0u) << "answered once";
  EXPECT_EQ(polls.complete_all([] { return error_response(503, "unavailable", {}, "stopping"); }), 1u);
  ASSERT_TRUE(b.response);
  EXPECT_EQ(b.response->status, 503);
}

TEST(LongPoll, TimeoutAnswersWithOnTimeout) {
  boost::asio::io_context io;
  LongPoll polls(io);
  Got g;
  g.attach(polls.wait("a", 30ms, [] { return ok_json("timeout"); }));
  run_until(io, [&] { return g.response.has_value(); });
  ASSERT_TRUE(g.response);
  EXPECT_EQ(g.response->json["what"], "timeout");
  EXPECT_EQ(polls.waiting("a"), 0u);
}

TEST(LongPoll, ACancelledRequestIsForgotten) {
  boost::asio::io_context io;
  LongPoll polls(io);
  bool timed_out = false;
  Deferred d = polls.wait("a", 30ms, [&] {
    timed_out = true;
    return ok_json("timeout");
  });
  d.cancel();  // the client went away
  EXPECT_EQ(polls.waiting("a"), 0u);
  EXPECT_EQ(polls.complete("a", [] { return ok_json("done"); }), 0u);
  io.run_for(100ms);
  EXPECT_FALSE(timed_out);
}

TEST(LongPoll, DestroyedWithRequestsWaitingDoesNotAnswerThem) {
  boost::asio::io_context io;
  Got g;
  {
    LongPoll polls(io);
    g.attach(polls.wait("a", 10ms, [] { return ok_json("timeout"); }));
  }
  io.run_for(50ms);
  EXPECT_FALSE(g.response);
}

TEST(LongPoll, OnceIsAnsweredOnce) {
  auto [deferred, answer] = LongPoll::once();
  Got g;
  g.attach(deferred);
  answer(ok_json("first"));
  answer(ok_json("second"));
  ASSERT_TRUE(g.response);
  EXPECT_EQ(g.response->json["what"], "first");
}

}  // namespace
}  // namespace vmroam::api
