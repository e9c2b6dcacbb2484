// vmroam-migrate: live-migrates a QEMU VM and couples its switchover to the foreign agent's
// proxy registration (docs/migration.md). Thin: parse argv (cli.hpp), connect the agents and
// both QEMUs, run the Switchover, print the summary (report.hpp), map the outcome to an exit
// code.
//
// Exit codes: 0 completed; 1 failed or cancelled before the switch (the VM runs at the
// source, the binding is untouched); 2 the VM moved but its registration is not active
// (unreachable at its home address: act!); 3 a QEMU died and took the guest with it (it runs
// nowhere: act!); 64 usage; 69 cannot reach QEMU.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "migration/cli.hpp"
#include "migration/http_foreign_agent.hpp"
#include "migration/http_home_agent.hpp"
#include "migration/report.hpp"
#include "migration/switchover.hpp"

namespace {

using namespace vmroam;
using namespace vmroam::migration;

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;

struct Agents {
  std::unique_ptr<ForeignAgentControl> fa, previous_fa;
  std::unique_ptr<HomeAgentControl> ha;
};

// An agent endpoint from an option's value; nullopt (explained) if it does not parse.
std::optional<api::Endpoint> endpoint(const char* option, const std::string& value) {
  auto ep = api::Endpoint::parse(value);
  if (ep) return *ep;
  std::fprintf(stderr, "vmroam-migrate: %s: %s\n", option, ep.error().to_string().c_str());
  return std::nullopt;
}

std::optional<Agents> make_agents(boost::asio::io_context& io, const CliArgs& a) {
  Agents g;
  const api::TlsClientFiles tls{a.api_ca_file, a.api_cert_file, a.api_key_file};
  if (a.fa != "none") {
    auto ep = endpoint("--fa", a.fa);
    if (!ep) return std::nullopt;
    g.fa = std::make_unique<HttpForeignAgent>(io, *ep, a.fa_token, tls);
  } else {
    std::fprintf(stderr,
                 "vmroam-migrate: --fa none: no foreign agent, plain QEMU migration (FA steps skipped)\n");
  }
  if (!a.depart_fa.empty()) {
    auto ep = endpoint("--depart-fa", a.depart_fa);
    if (!ep) return std::nullopt;
    g.previous_fa = std::make_unique<HttpForeignAgent>(io, *ep, a.fa_token, tls);
  }
  if (!a.ha.empty()) {
    auto ep = endpoint("--ha", a.ha);
    if (!ep) return std::nullopt;
    g.ha = std::make_unique<HttpHomeAgent>(io, *ep, a.ha_token, tls);
  }
  return g;
}

struct Qemus {
  std::unique_ptr<qmp::QmpClient> src, dst;
};

// Connects to both monitors and waits for both greetings (capabilities negotiated).
std::optional<Qemus> connect_qemus(boost::asio::io_context& io, const CliArgs& a) {
  auto st = qmp::connect_unix(io, a.source);
  auto dt = qmp::connect_unix(io, a.dest);
  if (!st || !dt) {
    std::fprintf(stderr, "vmroam-migrate: %s\n", (!st ? st.error() : dt.error()).to_string().c_str());
    return std::nullopt;
  }
  Qemus q{std::make_unique<qmp::QmpClient>(std::move(*st), "source"),
          std::make_unique<qmp::QmpClient>(std::move(*dt), "destination")};
  int ready = 0;
  std::optional<Error> connect_error;
  auto on_ready = [&](Result<qmp::Greeting> g) {
    if (!g) connect_error = g.error();
    ++ready;
  };
  q.src->start(on_ready);
  q.dst->start(on_ready);
  while (ready < 2 && io.run_one()) {
  }
  if (connect_error || ready < 2) {
    std::fprintf(stderr, "vmroam-migrate: QMP: %s\n",
                 connect_error ? connect_error->to_string().c_str() : "no greeting");
    return std::nullopt;
  }
  return q;
}

void print_progress(const std::string& line, bool tty) {
  if (tty) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

// One line: the disks while they copy, then memory (with the disks' dirty bytes).
void show_progress(Switchover& sw, StorageMirror* storage, bool tty) {
  sw.set_progress_handler([tty, storage](const Progress& p) {
    print_progress(render_progress(p) + (storage ? storage->status_suffix() : std::string()), tty);
  });
  if (storage) storage->set_progress_handler([tty](const std::string& line) { print_progress(line, tty); });
}

// --copy-storage: NBD on the address the destination takes the migration stream on.
std::unique_ptr<StorageMirror> make_storage(boost::asio::io_context& io, const CliArgs& a, Qemus& q,
                                            const Clock& clock) {
  if (!a.storage.enabled) return nullptr;
  auto s = std::make_unique<StorageMirror>(io, *q.src, *q.dst, a.storage, clock);
  s->set_transport(a.opt.tls.value_or(MigrationTls{.enabled = false}),
                   uri_host(a.listen.empty() ? a.uri : a.listen));
  return s;
}

// Runs the move to its end; SIGINT/SIGTERM cancel it (before the switch).
Summary run_move(boost::asio::io_context& io, const CliArgs& a, Qemus& q, Agents& g) {
  SystemClock clock;
  Switchover sw(io, *q.src, *q.dst, g.fa.get(), a.opt, clock);
  sw.set_previous_fa(g.previous_fa.get());
  if (g.ha) sw.set_home_agent(g.ha.get(), a.opt.visitor_id);
  auto storage = make_storage(io, a, q, clock);
  sw.set_storage(storage.get());
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (!a.quiet) show_progress(sw, storage.get(), tty);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (!ec) sw.cancel(sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
  });
  std::optional<Summary> summary;
  sw.start([&](const Summary& s) {
    summary = s;
    signals.cancel();
    io.stop();
  });
  io.run();
  if (tty && !a.quiet) std::fputs("\n", stderr);
  if (!summary) std::abort();  // the loop only stops on completion
  return *summary;
}

}  // namespace

int main(int argc, char** argv) {
  CliArgs a;
  if (auto rc = parse_cli(argc, argv, a)) return *rc;
  if (a.verbose) set_log_level(LogLevel::debug);
  boost::asio::io_context io;
  auto agents = make_agents(io, a);
  if (!agents) return kExitUsage;
  auto qemus = connect_qemus(io, a);
  if (!qemus) return kExitUnavailable;
  const Summary s = run_move(io, a, *qemus, *agents);
  std::fputs(render_summary(s, agents->ha != nullptr).c_str(), stderr);
  if (!a.json_out.empty()) write_summary_json(s, a.json_out);
  const int rc = exit_code(s);
  if (s.outcome == "registration_failed")
    std::fprintf(
        stderr,
        "vmroam-migrate: THE VM MOVED BUT ITS REGISTRATION IS NOT ACTIVE: it is unreachable at its home "
        "address\n");
  return rc;
}
