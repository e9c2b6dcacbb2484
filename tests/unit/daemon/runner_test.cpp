// The runner with a fake agent: argv table, --check output, exit-code mapping, signals
// (stop, reload all-or-nothing) and the fatal path, with the log captured.
#include "common/daemon/runner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/core/log.hpp"

namespace vmroam::daemon {
namespace {

// ---- argv ---------------------------------------------------------------------------------

struct ArgvCase {
  const char* description;
  std::vector<std::string_view> args;
  CommandLine::Action action;
  const char* config_path;  // nullptr: a usage error is expected
  bool keep_capabilities;
  const char* error;  // the usage error's text
};

TEST(CommandLine, Table) {
  using A = CommandLine::Action;
  const ArgvCase cases[] = {
      {"run", {"-c", "f.json"}, A::run, "f.json", false, ""},
      {"long option", {"--config", "f.json"}, A::run, "f.json", false, ""},
      {"check", {"--check", "-c", "f.json"}, A::check, "f.json", false, ""},
      {"check after -c", {"-c", "f.json", "--check"}, A::check, "f.json", false, ""},
      {"no-drop-caps", {"-c", "f.json", "--no-drop-caps"}, A::run, "f.json", true, ""},
      {"last -c wins", {"-c", "a.json", "-c", "b.json"}, A::run, "b.json", false, ""},
      {"help alone", {"--help"}, A::help, "", false, ""},
      {"-h wins over a later bad argument", {"-h", "--bogus"}, A::help, "", false, ""},
      {"version", {"-V"}, A::version, "", false, ""},
      {"--version without -c", {"--check", "--version"}, A::version, "", false, ""},
      {"no arguments", {}, A::run, nullptr, false, "-c FILE is required"},
      {"check without -c", {"--check"}, A::run, nullptr, false, "-c FILE is required"},
      {"-c without FILE", {"-c"}, A::run, nullptr, false, "unknown argument '-c'"},
      {"unknown option",
       {"-c", "f.json", "--verbose"},
       A::run,
       nullptr,
       false,
       "unknown argument '--verbose'"},
      {"bad argument before help", {"-x", "--help"}, A::run, nullptr, false, "unknown argument '-x'"},
  };
  for (const auto& c : cases) {
    auto got = parse_command_line(c.args);
    if (!c.config_path) {
      ASSERT_FALSE(got) << c.description;
      EXPECT_EQ(got.error().code, "usage") << c.description;
      EXPECT_EQ(got.error().context, c.error) << c.description;
      continue;
    }
    ASSERT_TRUE(got) << c.description << ": " << got.error().to_string();
    EXPECT_EQ(got->action, c.action) << c.description;
    EXPECT_EQ(got->config_path, c.config_path) << c.description;
    EXPECT_EQ(got->keep_capabilities, c.keep_capabilities) << c.description;
  }
}

// ---- A fake agent -------------------------------------------------------------------------

struct FakeConfig {
  std::uint64_t value = 0;
  std::string log_level = "info";
};

Result<FakeConfig> parse_fake(std::string_view text) {
  auto doc = config::parse_json_text(text);
  if (!doc) return fail(doc.error());
  config::ObjectReader r(*doc, "");
  FakeConfig c;
  c.value = r.required_uint("value", 1, 100);
  c.log_level = r.optional_enum("log_level", "info", {"debug", "info", "warn", "error"});
  if (auto e = r.finish()) return fail(*e);
  return c;
}

// What the fake daemon saw, and what it does once serving.
struct Script {
  std::vector<std::uint64_t> reloaded;  // values handed to reload()
  std::vector<bool> stops;              // one entry per stop(): whether `done` was given
  bool reject_reload = false;
  std::function<void(const Context&)> on_serve;  // runs on the loop
};

class FakeService final : public Service<FakeConfig> {
 public:
  FakeService(Script& script, const Context& context) : script_(script), context_(context) {}
  void serve() override {
    boost::asio::post(context_.io, [this] { script_.on_serve(context_); });
  }
  Result<std::vector<std::string>> reload(const FakeConfig& next) override {
    if (script_.reject_reload) return fail("bad_field", "value: cannot change");
    script_.reloaded.push_back(next.value);
    return std::vector<std::string>{};
  }
  void stop(std::function<void()> done) override {
    script_.stops.push_back(static_cast<bool>(done));
    if (done) boost::asio::post(context_.io, std::move(done));
  }

 private:
  Script& script_;
  Context context_;
};

std::string g_log;
void capture(std::string_view line) {
  g_log += line;
  g_log += "\n";
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_log.clear();
    set_log_sink(&capture);
    path_ = std::filesystem::temp_directory_path() / ("runner_test_" + std::to_string(::getpid()) + ".json");
    write(R"({"value": 7})");
  }
  void TearDown() override {
    set_log_sink(nullptr);
    set_log_level(LogLevel::info);
    std::filesystem::remove(path_);
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }

  Program<FakeConfig> program() {
    return Program<FakeConfig>{
        .name = "vmroam-fake",
        .noun = "fake_agent",
        .version = "1.2.3",
        .description = "A fake agent.",
        .parse = parse_fake,
        .to_json =
            [](const FakeConfig& c) {
              return config::Json{{"value", c.value}, {"log_level", c.log_level}};
            },
        .start = [this](const FakeConfig& c,
                        const Context& ctx) -> Result<std::unique_ptr<Service<FakeConfig>>> {
          started_with_ = c.value;
          if (start_error_) return fail_at("netlink", *start_error_);
          if (throw_at_start_) throw std::runtime_error("boom");
          return std::unique_ptr<Service<FakeConfig>>(std::make_unique<FakeService>(script_, ctx));
        }};
  }

  int run_with(std::vector<std::string_view> args) {
    return run(program(), std::span<const std::string_view>(args), out_, err_);
  }
  int run_daemon() {
    const std::string path = path_.string();
    return run_with({"-c", path, "--no-drop-caps"});
  }

  std::filesystem::path path_;
  std::ostringstream out_, err_;
  Script script_;
  std::optional<std::uint64_t> started_with_;
  std::optional<Error> start_error_;
  bool throw_at_start_ = false;
};

// ---- Answers without a daemon -------------------------------------------------------------

TEST_F(RunnerTest, HelpPrintsUsageAndExitsZero) {
  EXPECT_EQ(run_with({"--help"}), kExitStopped);
  EXPECT_EQ(out_.str(), usage_text("vmroam-fake", "A fake agent."));
  EXPECT_EQ(out_.str().rfind("usage: vmroam-fake -c FILE [--check] [--no-drop-caps]\n"
                             "       vmroam-fake --help | --version\n\nA fake agent.\n\n  -c, --config FILE",
                             0),
            0u)
      << out_.str();
  EXPECT_NE(
      out_.str().find("\nExit status: 0 stopped cleanly, 1 bad usage/configuration or start-up failure, 2 "
                      "fatal error.\n"),
      std::string::npos);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(RunnerTest, VersionNamesTheProgram) {
  EXPECT_EQ(run_with({"--version"}), kExitStopped);
  EXPECT_EQ(out_.str(), "vmroam-fake 1.2.3\n");
}

TEST_F(RunnerTest, UsageErrorExitsOneWithAHint) {
  EXPECT_EQ(run_with({"--frobnicate"}), kExitStartFailure);
  EXPECT_EQ(err_.str(), "vmroam-fake: unknown argument '--frobnicate' (try --help)\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(RunnerTest, CheckPrintsTheNormalisedConfig) {
  const std::string path = path_.string();
  EXPECT_EQ(run_with({"--check", "-c", path}), kExitStopped);
  EXPECT_EQ(out_.str(), "{\n  \"log_level\": \"info\",\n  \"value\": 7\n}\n");
  EXPECT_FALSE(started_with_) << "--check must not start the daemon";
}

TEST_F(RunnerTest, CheckOfABadConfigNamesFileAndField) {
  write(R"({"value": 700})");
  const std::string path = path_.string();
  EXPECT_EQ(run_with({"--check", "-c", path}), kExitStartFailure);
  EXPECT_EQ(err_.str().rfind("vmroam-fake: " + path + ": bad_field: value:", 0), 0u) << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(RunnerTest, UnreadableConfigExitsOne) {
  EXPECT_EQ(run_with({"-c", "/nonexistent/vmroam.json"}), kExitStartFailure);
  EXPECT_NE(err_.str().find("/nonexistent/vmroam.json"), std::string::npos) << err_.str();
  EXPECT_FALSE(started_with_);
}

// ---- Start-up -----------------------------------------------------------------------------

TEST_F(RunnerTest, StartFailureExitsOneAndNamesTheStep) {
  start_error_ = make_error("netlink_failed", "no socket");
  EXPECT_EQ(run_daemon(), kExitStartFailure);
  EXPECT_EQ(started_with_, 7u);
  EXPECT_NE(g_log.find("event=start_failed step=netlink reason=\"netlink_failed: no socket\""),
            std::string::npos)
      << g_log;
}

TEST_F(RunnerTest, ExceptionAtStartExitsOne) {
  throw_at_start_ = true;
  EXPECT_EQ(run_daemon(), kExitStartFailure);
  EXPECT_NE(g_log.find("event=start_failed step=start reason=boom"), std::string::npos) << g_log;
}

TEST_F(RunnerTest, LogLevelComesFromTheConfig) {
  write(R"({"value": 7, "log_level": "warn"})");
  script_.on_serve = [](const Context&) { std::raise(SIGTERM); };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_EQ(log_level(), LogLevel::warn);
}

// ---- Signals ------------------------------------------------------------------------------

TEST_F(RunnerTest, SigtermStopsGracefullyAndExitsZero) {
  script_.on_serve = [](const Context&) { std::raise(SIGTERM); };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_EQ(script_.stops, std::vector<bool>{true});
  EXPECT_NE(g_log.find("event=fake_agent_stopping"), std::string::npos) << g_log;
  EXPECT_NE(g_log.find("event=fake_agent_stopped exit_code=0"), std::string::npos) << g_log;
}

TEST_F(RunnerTest, SigintStopsLikeSigterm) {
  script_.on_serve = [](const Context&) { std::raise(SIGINT); };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_EQ(script_.stops, std::vector<bool>{true});
}

TEST_F(RunnerTest, ReloadHandsOverTheWholeNewConfig) {
  script_.on_serve = [this](const Context&) {
    write(R"({"value": 9})");
    std::raise(SIGHUP);
    std::raise(SIGTERM);  // queued behind SIGHUP
  };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_EQ(script_.reloaded, std::vector<std::uint64_t>{9});
  EXPECT_NE(g_log.find("event=reloaded needs_restart=none"), std::string::npos) << g_log;
}

TEST_F(RunnerTest, BadReloadKeepsTheRunningConfig) {
  script_.on_serve = [this](const Context&) {
    write(R"({"value": 9, "typo": 1})");
    std::raise(SIGHUP);
    std::raise(SIGTERM);
  };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_TRUE(script_.reloaded.empty()) << "a config that does not parse whole must change nothing";
  EXPECT_NE(g_log.find("event=reload_rejected reason=\"unknown_field: typo: unknown key"), std::string::npos)
      << g_log;
}

TEST_F(RunnerTest, UnreadableReloadKeepsTheRunningConfig) {
  script_.on_serve = [this](const Context&) {
    std::filesystem::remove(path_);
    std::raise(SIGHUP);
    std::raise(SIGTERM);
  };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_TRUE(script_.reloaded.empty());
  EXPECT_NE(g_log.find("event=reload_rejected"), std::string::npos) << g_log;
}

TEST_F(RunnerTest, ReloadTheDaemonRefusesIsLogged) {
  script_.reject_reload = true;
  script_.on_serve = [](const Context&) {
    std::raise(SIGHUP);
    std::raise(SIGTERM);
  };
  EXPECT_EQ(run_daemon(), kExitStopped);
  EXPECT_NE(g_log.find("event=reload_rejected reason=\"bad_field: value: cannot change\""), std::string::npos)
      << g_log;
}

// ---- Fatal --------------------------------------------------------------------------------

TEST_F(RunnerTest, FatalExitsTwoAndStopsWithoutTheLoop) {
  bool ran_after_fatal = false;
  script_.on_serve = [&ran_after_fatal](const Context& ctx) {
    boost::asio::post(ctx.io, [&ran_after_fatal] { ran_after_fatal = true; });
    ctx.on_fatal(make_error("store_poisoned", "commit failed"));
  };
  EXPECT_EQ(run_daemon(), kExitFatal);
  EXPECT_FALSE(ran_after_fatal) << "nothing queued may run after a fatal error";
  EXPECT_EQ(script_.stops, std::vector<bool>{false});
  EXPECT_NE(g_log.find("event=fatal reason=\"store_poisoned: commit failed\""), std::string::npos) << g_log;
  EXPECT_NE(g_log.find("event=fake_agent_stopped exit_code=2"), std::string::npos) << g_log;
}

TEST_F(RunnerTest, ExceptionInTheLoopIsFatal) {
  script_.on_serve = [](const Context&) { throw std::runtime_error("handler bug"); };
  EXPECT_EQ(run_daemon(), kExitFatal);
  EXPECT_EQ(script_.stops, std::vector<bool>{false});
  EXPECT_NE(g_log.find("event=fatal reason=\"exception: handler bug\""), std::string::npos) << g_log;
}

TEST(DropCapabilities, NoDropCapsKeepsThem) {
  CommandLine c;
  c.keep_capabilities = true;
  EXPECT_TRUE(drop_capabilities(c));
}

}  // namespace
}  // namespace vmroam::daemon
