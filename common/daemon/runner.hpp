// Runner: the one process skeleton under every vmroam agent (vmroam-ha, vmroam-fa).
//
//   argv ─▶ CommandLine ─▶ read + parse the config file ─▶ --check: print normalised, exit 0
//                                                       └▶ start the daemon ─▶ drop capabilities
//                                                            ─▶ serve ─▶ loop until stopped
//
// The agent supplies only what differs (a Program: name, usage, parser, printer, start); the
// runner owns what both share:
// * argv: -c/--config FILE, --check, --no-drop-caps, -h/--help, -V/--version;
// * signals as events on the daemon's one io_context (the handlers only queue, the loop
//   acts): SIGTERM/SIGINT stop gracefully, SIGHUP re-reads the config file and hands the
//   daemon the whole new config, or — when the file does not read or parse — nothing at all
//   (`reload_rejected`, the running config stays);
// * a fatal path: Context::on_fatal logs `fatal`, ends the loop at once and exits 2;
// * the exit status (docs/errors.md): 0 stopped cleanly, 1 bad usage, bad config or a
//   start-up step failed (`start_failed step=…`), 2 fatal error while running.
// Exceptions are for start-up only; one escaping the loop is treated as fatal (exit 2).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/json_reader.hpp"
#include "common/core/asio.hpp"
#include "common/core/result.hpp"

namespace vmroam::daemon {

inline constexpr int kExitStopped = 0;       // SIGTERM/SIGINT, graceful stop; --check, --help
inline constexpr int kExitStartFailure = 1;  // bad usage, unreadable or invalid config, start-up
inline constexpr int kExitFatal = 2;         // fatal error while running (on_fatal, exception)

// What the command line asks for. Pure data: parse_command_line() builds it.
struct CommandLine {
  enum class Action { run, check, help, version };
  Action action = Action::run;
  std::string config_path;
  bool keep_capabilities = false;  // --no-drop-caps, for debugging under a debugger
};

// `args` is argv without argv[0]. --help and --version win as soon as they are seen; an
// unknown argument (or -c without FILE) before them is an error. Errors: "usage", the context
// being what to tell the user ("unknown argument '-x'", "-c FILE is required").
[[nodiscard]] Result<CommandLine> parse_command_line(std::span<const std::string_view> args);

// Handed to Program::start: the loop and the way out of it.
struct Context {
  boost::asio::io_context& io;
  // Stop with "fatal": logs `fatal reason=…`, stops the loop at once (nothing more is
  // handled, the daemon's stop() then runs) and makes the process exit 2. Call it from a
  // handler on the loop when continuing would break a promise (e.g. acknowledging a
  // registration that the store can no longer make durable).
  std::function<void(const Error&)> on_fatal;
};

// A started daemon, as the runner drives it. Methods run on the loop.
template <typename Config>
class Service {
 public:
  virtual ~Service() = default;
  // Everything is open and capabilities are dropped: start answering (and log ready).
  virtual void serve() = 0;
  // SIGHUP with a config that parsed whole. Apply all of it or none; returns the keys that
  // only a restart can change (logged as `reloaded needs_restart=…`). An error is logged as
  // `reload_rejected` and must leave the running config as it was.
  [[nodiscard]] virtual Result<std::vector<std::string>> reload(const Config& next) = 0;
  // Graceful stop; `done` runs on the loop once everything is closed (the loop then ends).
  // Also called, with an empty `done`, after a fatal stop: it must not rely on the loop.
  virtual void stop(std::function<void()> done) = 0;
};

template <typename Config>
struct Program {
  std::string_view name;         // "vmroam-ha": error-message prefix
  std::string_view noun;         // "home_agent": log events <noun>_stopping, <noun>_stopped
  std::string_view version;      // printed by --version
  std::string_view description;  // what the agent does, for --help (usage_text())
  std::function<Result<Config>(std::string_view text)> parse;  // pure
  std::function<config::Json(const Config&)> to_json;          // normalised form, for --check
  // Opens everything in start-up order. Errors from fail_at() name the step that failed.
  std::function<Result<std::unique_ptr<Service<Config>>>(const Config&, const Context&)> start;
};

// A start-up step failed: the runner logs `start_failed step=<step> reason=<error>`.
// The returned Error's code is the step (a string literal) and its context the reason.
[[nodiscard]] inline Unexpected fail_at(std::string_view step, const Error& e) {
  return fail(step, e.to_string());
}

// ---- The non-template parts (runner.cpp) -------------------------------------------------

// The --help text: synopsis, `description`, options, signals and exit status.
[[nodiscard]] std::string usage_text(std::string_view name, std::string_view description);
// Help, version or a usage error: what to print and the exit code; nullopt to go on.
[[nodiscard]] std::optional<int> answer_without_config(std::string_view name, std::string_view version,
                                                       std::string_view description,
                                                       const Result<CommandLine>& command_line,
                                                       std::ostream& out, std::ostream& err);
// Sets the log threshold from the config's "log_level" (already validated by the parser).
void apply_log_level(std::string_view level);
// Drops to CAP_NET_ADMIN + CAP_NET_RAW unless --no-drop-caps (not being root is fine).
[[nodiscard]] Result<void> drop_capabilities(const CommandLine& command_line);
// Logs `start_failed step=… reason=…` and returns kExitStartFailure.
[[nodiscard]] int start_failed(const Error& e);
void log_reload(const Result<std::vector<std::string>>& outcome);

// The loop's supervisor: signals, graceful stop, fatal stop and the resulting exit code.
class Supervisor {
 public:
  // Installs the signal handlers at once, so a signal during start-up waits for the loop
  // instead of killing the process half-built.
  Supervisor(boost::asio::io_context& io, std::string_view noun);
  // See Context::on_fatal.
  void fatal(const Error& e);
  // Arms SIGTERM/SIGINT (→ `stop`, once) and SIGHUP (→ `reload`, each time), runs the loop
  // until it ends; after a fatal stop runs `stop` with an empty `done`. An exception out of
  // a handler is fatal. Logs <noun>_stopping and <noun>_stopped. Returns the exit code.
  int run(const std::function<void()>& reload, const std::function<void(std::function<void()>)>& stop);
  [[nodiscard]] bool failed() const { return exit_code_ == kExitFatal; }

 private:
  void log_stopping() const;
  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  std::string noun_;
  int exit_code_ = kExitStopped;
};

// ---- The runner ---------------------------------------------------------------------------

// SIGHUP: the whole new config from `path`, or nothing (the running config stays).
template <typename Config>
void reload_from_file(const Program<Config>& program, const std::string& path, Service<Config>& service) {
  auto text = config::read_text_file(path);
  auto next = text ? program.parse(*text) : Result<Config>(fail(text.error()));
  if (!next) return log_reload(fail(next.error()));
  log_reload(service.reload(*next));
}

template <typename Config>
int run_service(const Program<Config>& program, const Config& config, const CommandLine& command_line) {
  apply_log_level(config.log_level);
  boost::asio::io_context io;
  Supervisor supervisor(io, program.noun);
  std::unique_ptr<Service<Config>> service;
  try {
    auto started = program.start(config, Context{io, [&supervisor](const Error& e) { supervisor.fatal(e); }});
    if (!started) return start_failed(started.error());
    service = std::move(*started);
  } catch (const std::exception& e) {
    return start_failed(make_error("start", e.what()));
  }
  if (auto r = drop_capabilities(command_line); !r) return start_failed(r.error());
  if (!supervisor.failed()) service->serve();
  return supervisor.run([&] { reload_from_file(program, command_line.config_path, *service); },
                        [&](std::function<void()> done) { service->stop(std::move(done)); });
}

// The whole process: main() is `return run(program, args, std::cout, std::cerr)`.
template <typename Config>
int run(const Program<Config>& program, std::span<const std::string_view> args, std::ostream& out,
        std::ostream& err) {
  const auto command_line = parse_command_line(args);
  if (auto code =
          answer_without_config(program.name, program.version, program.description, command_line, out, err))
    return *code;
  auto text = config::read_text_file(command_line->config_path);
  if (!text) {
    err << program.name << ": " << text.error().to_string() << "\n";
    return kExitStartFailure;
  }
  auto config = program.parse(*text);
  if (!config) {
    err << program.name << ": " << command_line->config_path << ": " << config.error().to_string() << "\n";
    return kExitStartFailure;
  }
  if (command_line->action == CommandLine::Action::check) {
    out << program.to_json(*config).dump(2) << "\n";
    return kExitStopped;
  }
  return run_service(program, *config, *command_line);
}

// argv as views, for run().
[[nodiscard]] std::vector<std::string_view> arguments(int argc, char** argv);

}  // namespace vmroam::daemon
