// common/core/log: logfmt lines (level=… event=… key=value), quoting and escaping of values
// that need it, level names, the level filter and the replaceable sink.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/core/log.hpp"

namespace vmroam {
namespace {

std::vector<std::string>& captured() {
  static std::vector<std::string> lines;
  return lines;
}
void capture(std::string_view line) { captured().emplace_back(line); }

// Restores the process-wide level and sink after each test.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = log_level();
    captured().clear();
    set_log_sink(capture);
  }
  void TearDown() override {
    set_log_sink(nullptr);
    set_log_level(saved_);
  }
  LogLevel saved_ = LogLevel::info;
};

TEST(LogFormat, QuotesValuesThatNeedIt) {
  EXPECT_EQ(format_log_line(LogLevel::warn, "bad_packet", {{"reason", "too short"}, {"len", "3"}}),
            "level=warn event=bad_packet reason=\"too short\" len=3");
}

TEST(LogFormat, EscapesQuotesBackslashesAndNewlines) {
  EXPECT_EQ(format_log_line(LogLevel::error, "x", {{"v", "a\"b"}}), "level=error event=x v=\"a\\\"b\"");
  EXPECT_EQ(format_log_line(LogLevel::error, "x", {{"v", "a\\b"}}), "level=error event=x v=\"a\\\\b\"");
  EXPECT_EQ(format_log_line(LogLevel::error, "x", {{"v", "a\nb"}}), "level=error event=x v=\"a\\nb\"");
  EXPECT_EQ(format_log_line(LogLevel::error, "x", {{"v", "k=v"}}), "level=error event=x v=\"k=v\"");
  EXPECT_EQ(format_log_line(LogLevel::error, "x", {{"v", "a\tb"}}), "level=error event=x v=\"a\tb\"");
}

TEST(LogFormat, EmptyValueIsQuotedSoTheLineStaysParseable) {
  EXPECT_EQ(format_log_line(LogLevel::info, "x", {{"v", ""}}), "level=info event=x v=\"\"");
}

TEST(LogFormat, NoFields) {
  EXPECT_EQ(format_log_line(LogLevel::debug, "started", {}), "level=debug event=started");
}

TEST(LogLevelName, ParsesTheFourNamesOnly) {
  LogLevel l = LogLevel::info;
  EXPECT_TRUE(parse_log_level("debug", l));
  EXPECT_EQ(l, LogLevel::debug);
  EXPECT_TRUE(parse_log_level("error", l));
  EXPECT_EQ(l, LogLevel::error);
  for (auto bad : {"", "DEBUG", "warning", "info ", "trace"}) {
    l = LogLevel::warn;
    EXPECT_FALSE(parse_log_level(bad, l)) << bad;
    EXPECT_EQ(l, LogLevel::warn) << "unchanged on bad input: " << bad;
  }
}

TEST_F(LogTest, FiltersBelowTheLevel) {
  set_log_level(LogLevel::warn);
  log_debug("d");
  log_info("i");
  log_warn("w", {{"k", "v"}});
  log_error("e");
  ASSERT_EQ(captured().size(), 2u);
  EXPECT_EQ(captured()[0], "level=warn event=w k=v");
  EXPECT_EQ(captured()[1], "level=error event=e");
}

TEST_F(LogTest, DebugLevelPassesEverything) {
  set_log_level(LogLevel::debug);
  log_debug("d");
  log_info("i");
  EXPECT_EQ(captured().size(), 2u);
  EXPECT_EQ(log_level(), LogLevel::debug);
}

}  // namespace
}  // namespace vmroam
