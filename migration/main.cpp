// vmroam-migrate: live-migrates a QEMU VM and couples its switchover to the foreign agent's
// proxy registration (docs/migration.md). Thin: parse argv, connect, run the Switchover,
// print the summary, map the outcome to an exit code.
//
// Exit codes: 0 completed; 1 failed or cancelled before the switch (the VM runs at the
// source, the binding is untouched); 2 the VM moved but its registration is not active
// (unreachable at its home address: act!); 64 usage; 69 cannot reach QEMU.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/core/asio.hpp"
#include "common/core/clock.hpp"
#include "common/core/log.hpp"
#include "migration/http_foreign_agent.hpp"
#include "migration/http_home_agent.hpp"
#include "migration/switchover.hpp"

namespace {

using namespace vmroam;
using namespace vmroam::migration;

constexpr const char* kUsage = R"(usage: vmroam-migrate --source QMP_SOCK --dest QMP_SOCK --uri tcp:HOST:PORT
                      --fa FA_API|none (--vm-json FILE | --vm ID) [options]

  --source PATH          source QEMU's QMP socket (-qmp unix:PATH,server=on)
  --dest PATH            destination QEMU's QMP socket
  --uri tcp:HOST:PORT    where the destination listens for the migration stream
  --fa ENDPOINT          destination foreign agent API: /path.sock or http://host:port;
                         "none" skips every FA step (plain QEMU migration, for tests)
  --fa-token TOKEN       bearer token for a TCP FA API
  --vm-json FILE         the visitor to prepare (POST /v1/visitors body; must have "id")
  --vm ID                visitor id only (the FA already knows the VM)
  --depart-fa ENDPOINT   the FA the VM leaves (coming home, usually with --fa none): it is
                         told to depart (deregister) at the switchover
  --ha ENDPOINT          the VM's home agent API (/path.sock or http://host:port): it
                         records what it sends the VM from the start, holds the VM's packets
                         from the source's STOP until the new binding, and re-sends what
                         reached the paused source (0 lost; docs/migration.md). The VM's id
                         at the HA is the visitor id
  --ha-token TOKEN       bearer token for a TCP HA API
  --json OUT             write the summary as JSON to OUT
  --tuning socket|none   socket (default): the driver opens the TCP connection with
                         TCP_NOTSENT_LOWAT and a small SO_SNDBUF and passes it with getfd,
                         so QEMU's bandwidth estimate is honest; none: QEMU connects itself
  --handover switchover|early
                         switchover (default): activate at pre-switchover (packets reaching
                         the home link before the HA's switch are lost with the paused source);
                         early (experimental, see docs/migration.md): hold QEMU short of
                         convergence, activate when the last pass is small, release once the
                         HA switched
  --downtime-limit MS    QEMU downtime-limit (300 if unset; with early, set after the switch);
                         below 300 it goes back to 300 after 10 passes without convergence
  --max-bandwidth BPS    QEMU max-bandwidth in bytes/s (QEMU's default is 128 MiB/s)
  --capability NAME      enable another migration capability on both sides (repeatable)
  --incoming-defer       the destination runs with -incoming defer: send migrate-incoming
  --listen URI           address for migrate-incoming (default: --uri)
  --timeout S            give up (cancel) if pre-switchover is not reached in S seconds (600)
  --retry-deadline S     keep re-activating a failed registration for S seconds (60)
  --quiet                no progress line
  --verbose              debug logging
  --help, --version
)";

struct Args {
  std::string source, dest, uri, fa, fa_token, vm_json, vm_id, json_out, listen, depart_fa, ha, ha_token;
  SwitchoverOptions opt;
  bool quiet = false;
};

bool parse_u64(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  auto v = std::strtoull(s, &end, 10);
  if (errno || !end || *end || s[0] == '-' || s[0] == 0) return false;
  out = v;
  return true;
}

// Returns 0 to run, or an exit code.
int parse(int argc, char** argv, Args& a) {
  a.opt.tuning = Tuning::socket;
  a.opt.handover = Handover::switchover;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto need = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vmroam-migrate: %s needs %s\n", k.c_str(), what);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    std::uint64_t n = 0;
    if (k == "--help") {
      std::fputs(kUsage, stdout);
      return -1;
    } else if (k == "--version") {
      std::printf("vmroam-migrate %s\n", VMROAM_VERSION);
      return -1;
    } else if (k == "--quiet") {
      a.quiet = true;
    } else if (k == "--verbose") {
      set_log_level(LogLevel::debug);
    } else if (k == "--incoming-defer") {
      a.opt.incoming_defer = true;
    } else if (k == "--source" || k == "--dest" || k == "--uri" || k == "--fa" || k == "--fa-token" ||
               k == "--vm-json" || k == "--vm" || k == "--json" || k == "--listen" || k == "--capability" ||
               k == "--tuning" || k == "--depart-fa" || k == "--handover" || k == "--ha" ||
               k == "--ha-token") {
      if (!(v = need("a value"))) return 64;
      if (k == "--source") a.source = v;
      if (k == "--dest") a.dest = v;
      if (k == "--uri") a.uri = v;
      if (k == "--fa") a.fa = v;
      if (k == "--fa-token") a.fa_token = v;
      if (k == "--vm-json") a.vm_json = v;
      if (k == "--vm") a.vm_id = v;
      if (k == "--json") a.json_out = v;
      if (k == "--listen") a.listen = v;
      if (k == "--depart-fa") a.depart_fa = v;
      if (k == "--ha") a.ha = v;
      if (k == "--ha-token") a.ha_token = v;
      if (k == "--capability") a.opt.extra_capabilities.emplace_back(v);
      if (k == "--handover") {
        if (std::strcmp(v, "early") == 0) {
          a.opt.handover = Handover::early;
        } else if (std::strcmp(v, "switchover") == 0) {
          a.opt.handover = Handover::switchover;
        } else {
          std::fprintf(stderr, "vmroam-migrate: --handover: expected early or switchover, got %s\n", v);
          return 64;
        }
      }
      if (k == "--tuning") {
        if (std::strcmp(v, "socket") == 0) {
          a.opt.tuning = Tuning::socket;
        } else if (std::strcmp(v, "none") == 0) {
          a.opt.tuning = Tuning::none;
        } else {
          std::fprintf(stderr, "vmroam-migrate: --tuning: expected socket or none, got %s\n", v);
          return 64;
        }
      }
    } else if (k == "--downtime-limit" || k == "--max-bandwidth" || k == "--timeout" ||
               k == "--retry-deadline") {
      if (!(v = need("a number"))) return 64;
      if (!parse_u64(v, n)) {
        std::fprintf(stderr, "vmroam-migrate: %s: not a non-negative integer: %s\n", k.c_str(), v);
        return 64;
      }
      if (k == "--downtime-limit") a.opt.downtime_limit_ms = n;
      if (k == "--max-bandwidth") a.opt.max_bandwidth = n;
      if (k == "--timeout") a.opt.migration_timeout = std::chrono::seconds(n);
      if (k == "--retry-deadline") a.opt.retry_deadline = std::chrono::seconds(n);
    } else {
      std::fprintf(stderr, "vmroam-migrate: unknown option %s (see --help)\n", k.c_str());
      return 64;
    }
  }
  const char* missing = a.source.empty() ? "--source"
                        : a.dest.empty() ? "--dest"
                        : a.uri.empty()  ? "--uri"
                        : a.fa.empty()   ? "--fa"
                                         : nullptr;
  if (missing) {
    std::fprintf(stderr, "vmroam-migrate: %s is required (see --help)\n", missing);
    return 64;
  }
  if (!a.uri.starts_with("tcp:") && a.opt.tuning == Tuning::socket) {
    std::fprintf(stderr, "vmroam-migrate: --tuning socket needs a tcp: uri (use --tuning none)\n");
    return 64;
  }
  if (!a.ha.empty() && a.fa == "none" && a.depart_fa.empty()) {
    std::fprintf(stderr,
                 "vmroam-migrate: --ha needs --fa or --depart-fa (with neither, no binding changes)\n");
    return 64;
  }
  a.opt.uri = a.uri;
  a.opt.listen_uri = a.listen;
  if (a.fa != "none" || !a.depart_fa.empty()) {
    if (a.vm_json.empty() == a.vm_id.empty()) {
      std::fprintf(
          stderr,
          "vmroam-migrate: exactly one of --vm-json and --vm is required with an FA or --depart-fa\n");
      return 64;
    }
    if (!a.vm_json.empty()) {
      std::ifstream in(a.vm_json);
      std::stringstream ss;
      ss << in.rdbuf();
      auto j = Json::parse(ss.str(), nullptr, false);
      if (!in || j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string()) {
        std::fprintf(stderr, "vmroam-migrate: --vm-json %s: not a JSON object with a string \"id\"\n",
                     a.vm_json.c_str());
        return 64;
      }
      a.opt.visitor = j;
      a.opt.visitor_id = j["id"].get<std::string>();
    } else {
      a.opt.visitor_id = a.vm_id;
      a.opt.visitor = Json{{"id", a.vm_id}};
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (int rc = parse(argc, argv, a); rc != 0) return rc < 0 ? 0 : rc;

  boost::asio::io_context io;
  std::unique_ptr<ForeignAgentControl> fa;
  if (a.fa != "none") {
    auto ep = api::Endpoint::parse(a.fa);
    if (!ep) {
      std::fprintf(stderr, "vmroam-migrate: --fa: %s\n", ep.error().to_string().c_str());
      return 64;
    }
    fa = std::make_unique<HttpForeignAgent>(io, *ep, a.fa_token);
  } else {
    std::fprintf(stderr,
                 "vmroam-migrate: --fa none: no foreign agent, plain QEMU migration (FA steps skipped)\n");
  }

  std::unique_ptr<ForeignAgentControl> previous_fa;
  if (!a.depart_fa.empty()) {
    auto ep = api::Endpoint::parse(a.depart_fa);
    if (!ep) {
      std::fprintf(stderr, "vmroam-migrate: --depart-fa: %s\n", ep.error().to_string().c_str());
      return 64;
    }
    previous_fa = std::make_unique<HttpForeignAgent>(io, *ep, a.fa_token);
  }

  std::unique_ptr<HomeAgentControl> ha;
  if (!a.ha.empty()) {
    auto ep = api::Endpoint::parse(a.ha);
    if (!ep) {
      std::fprintf(stderr, "vmroam-migrate: --ha: %s\n", ep.error().to_string().c_str());
      return 64;
    }
    ha = std::make_unique<HttpHomeAgent>(io, *ep, a.ha_token);
  }

  auto st = qmp::connect_unix(io, a.source);
  auto dt = qmp::connect_unix(io, a.dest);
  if (!st || !dt) {
    std::fprintf(stderr, "vmroam-migrate: %s\n", (!st ? st.error() : dt.error()).to_string().c_str());
    return 69;
  }
  qmp::QmpClient src(std::move(*st), "source");
  qmp::QmpClient dst(std::move(*dt), "destination");
  int ready = 0;
  std::optional<Error> connect_error;
  auto on_ready = [&](Result<qmp::Greeting> g) {
    if (!g) connect_error = g.error();
    ++ready;
  };
  src.start(on_ready);
  dst.start(on_ready);
  while (ready < 2 && io.run_one()) {
  }
  if (connect_error || ready < 2) {
    std::fprintf(stderr, "vmroam-migrate: QMP: %s\n",
                 connect_error ? connect_error->to_string().c_str() : "no greeting");
    return 69;
  }

  SystemClock clock;
  Switchover sw(io, src, dst, fa.get(), a.opt, clock);
  sw.set_previous_fa(previous_fa.get());
  if (ha) sw.set_home_agent(ha.get(), a.opt.visitor_id);
  bool tty = ::isatty(STDERR_FILENO) != 0;
  if (!a.quiet) {
    sw.set_progress_handler([tty](const Progress& p) {
      auto line = render_progress(p);
      if (tty) {
        std::fprintf(stderr, "\r%s\033[K", line.c_str());
      } else {
        std::fprintf(stderr, "%s\n", line.c_str());
      }
    });
  }
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
  if (!summary) return 1;  // can't happen: the loop only stops on completion

  const auto& s = *summary;
  auto opt_ms = [](const std::optional<double>& v) {
    if (!v) return std::string("n/a");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f ms", *v);
    return std::string(buf);
  };
  std::fprintf(stderr,
               "vmroam-migrate: %s%s%s\n"
               "  accelerator %s, tuning %s, handover %s, fa %s\n"
               "  total %.0f ms (QEMU %lld ms), %llu bytes, %lld passes\n"
               "  real pause (STOP→RESUME) %s, QEMU downtime %s, continue after pre-switchover %s\n"
               "  registration %s (attempts %d, handover %s), previous FA depart %s\n",
               s.outcome.c_str(), s.error.empty() ? "" : ": ", s.error.c_str(), s.accelerator.c_str(),
               s.tuning.c_str(), s.handover_mode.c_str(), s.fa.c_str(), s.total_time_ms,
               static_cast<long long>(s.qemu_total_time_ms),
               static_cast<unsigned long long>(s.bytes_transferred), static_cast<long long>(s.passes),
               opt_ms(s.real_pause_ms).c_str(),
               s.qemu_downtime_ms ? (std::to_string(*s.qemu_downtime_ms) + " ms").c_str() : "n/a",
               opt_ms(s.continue_after_pre_switchover_ms).c_str(), s.registration.c_str(),
               s.activate_attempts, opt_ms(s.handover_ms).c_str(), s.depart.c_str());
  if (ha)
    std::fprintf(stderr, "  home agent %s: hold %s, recovered %s packets\n", s.ha.c_str(), s.ha_hold.c_str(),
                 s.recovered_packets ? std::to_string(*s.recovered_packets).c_str() : "n/a");
  if (!a.json_out.empty()) {
    std::ofstream out(a.json_out);
    out << s.to_json().dump(2) << "\n";
    if (!out) std::fprintf(stderr, "vmroam-migrate: cannot write %s\n", a.json_out.c_str());
  }
  if (s.ok()) return 0;
  if (s.outcome == "registration_failed") {
    std::fprintf(stderr,
                 "vmroam-migrate: THE VM MOVED BUT ITS REGISTRATION IS NOT ACTIVE: it is unreachable at its "
                 "home address\n");
    return 2;
  }
  return s.switched ? 2 : 1;
}
