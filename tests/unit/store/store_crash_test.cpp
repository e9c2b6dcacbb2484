// Crash durability: a child process commits batches in a loop and reports each batch number
// on a pipe only after commit() returned; the parent SIGKILLs it at a random moment, reopens
// the database and checks that every reported batch is there, whole, and nothing else is
// half-there. Twenty kill points on the same database file, so each run also recovers from
// the previous crash (including crashes during open and schema creation).
//
// Batch n (n ≥ 1) = put bindings 4n..4n+3, delete the four bindings of batch n-kWindow,
// put replay counter = n. So after a crash with last durable batch m, the bindings present
// are exactly those of batches max(1, m-kWindow+1)..m.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "common/store/store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace vmroam::store {
namespace {

constexpr std::uint64_t kWindow = 50;
const Ipv4 kCounterKey = Ipv4::from_octets(127, 0, 0, 1);

Ipv4 hoa_of(std::uint64_t batch, std::uint32_t k) {
  return Ipv4(0x0a000000u + static_cast<std::uint32_t>(batch) * 4 + k);
}

BindingRecord binding_of(std::uint64_t batch, std::uint32_t k) {
  BindingRecord r;
  r.home_address = hoa_of(batch, k);
  r.care_of_address = Ipv4::from_octets(192, 0, 2, 1);
  r.foreign_agent = r.care_of_address;
  r.lifetime_granted = 600;
  r.identification = batch;
  r.registered_at_unix_ms = static_cast<std::int64_t>(batch);
  return r;
}

// The child: never returns.
[[noreturn]] void commit_forever(const std::string& path, int report_fd) {
  auto s = Store::open(path);
  if (!s) _exit(2);
  auto replay = s->load_replay();
  if (!replay) _exit(3);
  std::uint64_t n = 0;
  for (const auto& r : *replay)
    if (r.home_address == kCounterKey) n = r.last_identification;
  for (;;) {
    ++n;
    Batch b;
    for (std::uint32_t k = 0; k < 4; ++k) b.put_binding(binding_of(n, k));
    if (n > kWindow)
      for (std::uint32_t k = 0; k < 4; ++k) b.delete_binding(hoa_of(n - kWindow, k));
    b.put_replay({kCounterKey, n});
    if (!s->commit(b)) _exit(4);
    // Reported only now: commit() has returned, so the batch must survive SIGKILL.
    if (write(report_fd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(5);
  }
}

TEST(StoreCrash, EveryReportedBatchSurvivesSigkill) {
  test::TempDir dir;
  const std::string path = dir.file("crash.db");
  unsigned seed = 20240601;
  if (const char* env = std::getenv("VMROAM_CRASH_SEED"))
    seed = static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_us(0, 250'000);
  std::uint64_t last_reported_ever = 0;

  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      commit_forever(path, fds[1]);
    }
    close(fds[1]);
    // The kill point: a random moment after fork (sometimes during open/migration). Not a
    // wait for a condition: the randomness of this moment is what the test is about.
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);

    // Everything the child wrote before dying is in the pipe; read to EOF.
    std::uint64_t last_reported = 0;
    std::uint64_t n = 0;
    ssize_t got;
    while ((got = read(fds[0], &n, sizeof n)) == static_cast<ssize_t>(sizeof n)) last_reported = n;
    ASSERT_EQ(got, 0);
    close(fds[0]);
    if (last_reported) last_reported_ever = last_reported;

    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().to_string();  // includes quick_check
    auto snap = s->load();
    ASSERT_TRUE(snap) << snap.error().to_string();
    std::uint64_t m = 0;
    for (const auto& r : snap->replay)
      if (r.home_address == kCounterKey) m = r.last_identification;
    // Durable: every batch reported committed (in this or an earlier round) is present.
    ASSERT_GE(m, last_reported_ever);
    // Atomic and ordered: exactly the bindings of batches (m - kWindow, m], each whole.
    std::set<Ipv4> want;
    for (std::uint64_t b = m > kWindow ? m - kWindow + 1 : 1; b <= m && m > 0; ++b)
      for (std::uint32_t k = 0; k < 4; ++k) want.insert(hoa_of(b, k));
    std::set<Ipv4> have;
    for (const auto& r : snap->bindings) {
      have.insert(r.home_address);
      EXPECT_EQ(r.identification, (r.home_address.value() - 0x0a000000u) / 4);
    }
    ASSERT_EQ(have, want) << "last durable batch " << m;
    last_reported_ever = m;  // the next child continues from m
  }
  // The rounds must have actually committed something, or the test proves nothing.
  EXPECT_GT(last_reported_ever, 20u);
  std::printf("batches durable after 20 kills: %llu\n", static_cast<unsigned long long>(last_reported_ever));
}

}  // namespace
}  // namespace vmroam::store
