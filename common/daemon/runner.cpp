#include "common/daemon/runner.hpp"

#include <csignal>

#include "common/core/log.hpp"
#include "common/daemon/capabilities.hpp"

namespace vmroam::daemon {

Result<CommandLine> parse_command_line(std::span<const std::string_view> args) {
  CommandLine c;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-h" || a == "--help") {
      c.action = CommandLine::Action::help;
      return c;
    }
    if (a == "-V" || a == "--version") {
      c.action = CommandLine::Action::version;
      return c;
    }
    if ((a == "-c" || a == "--config") && i + 1 < args.size()) {
      c.config_path = std::string(args[++i]);
    } else if (a == "--check") {
      c.action = CommandLine::Action::check;
    } else if (a == "--no-drop-caps") {
      c.keep_capabilities = true;
    } else {
      return fail("usage", "unknown argument '" + std::string(a) + "'");
    }
  }
  if (c.config_path.empty()) return fail("usage", "-c FILE is required");
  return c;
}

namespace {

constexpr std::string_view kOptions = R"(  -c, --config FILE   JSON configuration (see docs/configuration.md)
  --check             validate FILE, print the normalised configuration, and exit
  --no-drop-caps      keep all capabilities (debugging only)
  -h, --help          this text
  -V, --version       print the version

Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads FILE (all of it or none of it).
Exit status: 0 stopped cleanly, 1 bad usage/configuration or start-up failure, 2 fatal error.
)";

}  // namespace

std::string usage_text(std::string_view name, std::string_view description) {
  const std::string n(name);
  return "usage: " + n + " -c FILE [--check] [--no-drop-caps]\n       " + n + " --help | --version\n\n" +
         std::string(description) + "\n\n" + std::string(kOptions);
}

std::optional<int> answer_without_config(std::string_view name, std::string_view version,
                                         std::string_view description,
                                         const Result<CommandLine>& command_line, std::ostream& out,
                                         std::ostream& err) {
  if (!command_line) {
    err << name << ": " << command_line.error().context << " (try --help)\n";
    return kExitStartFailure;
  }
  switch (command_line->action) {
    case CommandLine::Action::help:
      out << usage_text(name, description);
      return kExitStopped;
    case CommandLine::Action::version:
      out << name << " " << version << "\n";
      return kExitStopped;
    case CommandLine::Action::run:
    case CommandLine::Action::check:
      break;
  }
  return std::nullopt;
}

void apply_log_level(std::string_view level) {
  LogLevel parsed;
  if (parse_log_level(level, parsed)) set_log_level(parsed);
}

Result<void> drop_capabilities(const CommandLine& command_line) {
  if (command_line.keep_capabilities) return ok();
  auto r = keep_only_network_capabilities();
  // Not root: there is nothing to drop, and nothing more to lose.
  if (!r && r.error().code != "not_privileged") return fail_at("capabilities", r.error());
  return ok();
}

int start_failed(const Error& e) {
  log_error("start_failed", {{"step", std::string(e.code)}, {"reason", e.context}});
  return kExitStartFailure;
}

void log_reload(const Result<std::vector<std::string>>& outcome) {
  if (!outcome) {
    log_error("reload_rejected", {{"reason", outcome.error().to_string()}});
    return;
  }
  std::string restart;
  for (const auto& key : *outcome) restart += (restart.empty() ? "" : ",") + key;
  log_info("reloaded", {{"needs_restart", restart.empty() ? "none" : restart}});
}

Supervisor::Supervisor(boost::asio::io_context& io, std::string_view noun)
    : io_(io), signals_(io, SIGTERM, SIGINT, SIGHUP), noun_(noun) {}

void Supervisor::fatal(const Error& e) {
  log_error("fatal", {{"reason", e.to_string()}});
  exit_code_ = kExitFatal;
  // At once, not after a graceful stop: whatever is queued must not be handled any more.
  io_.stop();
}

void Supervisor::log_stopping() const { log_info(noun_ + "_stopping"); }

int Supervisor::run(const std::function<void()>& reload,
                    const std::function<void(std::function<void()>)>& stop) {
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          reload();
          signals_.async_wait(on_signal);
          return;
        }
        stopping = true;
        log_stopping();
        stop([this] { io_.stop(); });
      };
  signals_.async_wait(on_signal);
  try {
    io_.run();
  } catch (const std::exception& e) {
    fatal(make_error("exception", e.what()));
  }
  if (!stopping) stop({});
  log_info(noun_ + "_stopped", {{"exit_code", std::to_string(exit_code_)}});
  return exit_code_;
}

std::vector<std::string_view> arguments(int argc, char** argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return args;
}

}  // namespace vmroam::daemon
