// CommitPipeline: commits on the writer thread, completions on the loop in queue order, a failed
// commit reported as failed, settle() for synchronous callers, destruction waits for the disk.
// Both agents commit through it; `./dev test --tsan` runs this test under ThreadSanitizer.
#include "common/store/commit_pipeline.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "tests/fakes/temp_dir.hpp"

namespace vmroam::store {
namespace {

using test::TempDir;

Store open_ok(const std::string& path) {
  auto s = Store::open(path);
  if (!s) ADD_FAILURE() << s.error().to_string();
  return std::move(*s);
}

Batch replay(std::uint32_t n, std::uint64_t identification) {
  Batch b;
  b.put_replay({Ipv4::from_octets(10, 1, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)),
                identification});
  return b;
}

// Makes every later insert into ha_replay fail, from another connection (what a full disk or a
// read-only file would do to the next commit, without needing either).
void refuse_replay_inserts(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER refuse BEFORE INSERT ON ha_replay "
                         "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

TEST(CommitPipeline, CompletionsRunOnTheLoopInQueueOrderAndEachCommitIsDurable) {
  TempDir dir;
  Store store = open_ok(dir.file("s.db"));
  boost::asio::io_context loop;
  std::vector<int> order;
  {
    CommitPipeline pipeline(loop, store);
    for (int i = 0; i < 50; ++i)
      pipeline.commit_async(replay(static_cast<std::uint32_t>(i), 7), [&order, i](const Result<void>& r) {
        EXPECT_TRUE(r) << r.error().to_string();
        order.push_back(i);
      });
    EXPECT_EQ(pipeline.in_flight(), 50u);
    EXPECT_TRUE(order.empty()) << "no completion runs before the loop does";
    loop.run();  // returns once every completion ran: a commit in flight is work for the loop
    EXPECT_TRUE(pipeline.idle());
  }
  std::vector<int> expected(50);
  for (int i = 0; i < 50; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(order, expected);
  EXPECT_EQ(store.load_replay()->size(), 50u);
}

TEST(CommitPipeline, AFailedCommitIsReportedAsFailedAndAppliesNothing) {
  TempDir dir;
  Store store = open_ok(dir.file("s.db"));
  boost::asio::io_context loop;
  CommitPipeline pipeline(loop, store);
  std::optional<Result<void>> first, second, third;
  pipeline.commit_async(replay(1, 1), [&](const Result<void>& r) { first = r; });
  pipeline.settle();
  refuse_replay_inserts(dir.file("s.db"));
  pipeline.commit_async(replay(2, 1), [&](const Result<void>& r) { second = r; });
  Batch deletion;
  deletion.delete_replay(Ipv4::from_octets(10, 1, 0, 1));
  pipeline.commit_async(std::move(deletion), [&](const Result<void>& r) { third = r; });
  loop.run();
  ASSERT_TRUE(first && second && third);
  EXPECT_TRUE(*first);
  ASSERT_FALSE(*second);
  EXPECT_NE(second->error().to_string().find("refused by the test"), std::string::npos)
      << second->error().to_string();
  EXPECT_TRUE(*third) << "a failure does not stop the commits queued after it";
  pipeline.settle();
  EXPECT_TRUE(store.load_replay()->empty());
}

TEST(CommitPipeline, SettleRunsEveryCompletionNowIncludingCommitsTheyQueue) {
  TempDir dir;
  Store store = open_ok(dir.file("s.db"));
  boost::asio::io_context loop;
  CommitPipeline pipeline(loop, store);
  std::vector<std::string> seen;
  pipeline.commit_async(replay(1, 1), [&](const Result<void>&) {
    seen.push_back("first");
    pipeline.commit_async(replay(2, 1), [&](const Result<void>&) { seen.push_back("queued by the first"); });
  });
  pipeline.commit_async(replay(3, 1), [&](const Result<void>&) { seen.push_back("second"); });
  pipeline.settle();
  EXPECT_EQ(seen, (std::vector<std::string>{"first", "second", "queued by the first"}));
  EXPECT_TRUE(pipeline.idle());
  // The Store is the caller's now; the loop's deliveries of what settle() ran are no-ops.
  EXPECT_TRUE(store.commit(replay(4, 1)));
  EXPECT_EQ(store.load_replay()->size(), 4u);
  loop.run();
  EXPECT_EQ(seen.size(), 3u);
}

TEST(CommitPipeline, DestructionWaitsForTheDiskAndDropsCompletionsNotYetRun) {
  TempDir dir;
  bool ran = false;
  {
    Store store = open_ok(dir.file("s.db"));
    boost::asio::io_context loop;
    {
      CommitPipeline pipeline(loop, store);
      for (std::uint32_t i = 0; i < 20; ++i)
        pipeline.commit_async(replay(i, 1), [&](const Result<void>&) { ran = true; });
    }
    loop.run();  // the posted deliveries find the pipeline gone
  }
  EXPECT_FALSE(ran);
  Store reopened = open_ok(dir.file("s.db"));
  EXPECT_EQ(reopened.load_replay()->size(), 20u) << "queued means written, even when nobody waits";
}

// The loop keeps queueing while the writer commits (what both agents do under load): every
// completion arrives once, in order, and the store ends with every write. This is the test
// ThreadSanitizer watches for the hand-offs in both directions.
TEST(CommitPipeline, TheLoopQueuesWhileTheWriterCommits) {
  TempDir dir;
  Store store = open_ok(dir.file("s.db"));
  boost::asio::io_context loop;
  CommitPipeline pipeline(loop, store);
  constexpr std::uint32_t kCommits = 200;
  std::uint32_t next = 0, completed = 0;
  std::function<void()> queue_one = [&] {
    const std::uint32_t n = next++;
    pipeline.commit_async(replay(n % 64, n), [&, n](const Result<void>& r) {
      EXPECT_TRUE(r);
      EXPECT_EQ(completed, n);
      ++completed;
    });
    if (next < kCommits) boost::asio::post(loop, queue_one);
  };
  boost::asio::post(loop, queue_one);
  loop.run();
  EXPECT_EQ(completed, kCommits);
  pipeline.settle();
  const auto rows = store.load_replay();
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 64u);
  for (const auto& r : *rows) EXPECT_GE(r.last_identification, kCommits - 64);
}

}  // namespace
}  // namespace vmroam::store
