// RefusalLog: the log budget for refusals anyone can cause (common/api/refusal_log.hpp).
#include "common/api/refusal_log.hpp"

#include <gtest/gtest.h>

namespace vmroam::api {
namespace {

using namespace std::chrono_literals;
using Clock = RefusalLog::Clock;

TEST(RefusalLog, BurstThenSuppressedThenCountedOnTheNextLine) {
  RefusalLog budget(3, 10s);
  const Clock::time_point t0{};
  struct Step {
    const char* description;
    std::chrono::milliseconds at;
    std::optional<std::string> expect;
  };
  const Step steps[] = {
      {"first line", 0ms, "0"},
      {"second", 1ms, "0"},
      {"third fills the burst", 2ms, "0"},
      {"fourth is suppressed", 3ms, std::nullopt},
      {"fifth is suppressed", 9999ms, std::nullopt},
      {"new window: logged with the count", 10000ms, "2"},
      {"count restarts", 10001ms, "0"},
  };
  for (const auto& s : steps) EXPECT_EQ(budget.admit(t0 + s.at), s.expect) << s.description;
  EXPECT_EQ(budget.suppressed_total(), 2u);
}

TEST(RefusalLog, AFloodWritesAtMostBurstLinesPerWindow) {
  RefusalLog budget;  // 10 per 10 s
  const Clock::time_point t0{};
  int lines = 0;
  // 50 000 refusals a second for a minute.
  for (int i = 0; i < 3'000'000; ++i)
    if (budget.admit(t0 + std::chrono::microseconds(i * 20))) ++lines;
  EXPECT_EQ(lines, 60);
  EXPECT_EQ(budget.suppressed_total(), 3'000'000u - 60u);
}

}  // namespace
}  // namespace vmroam::api
