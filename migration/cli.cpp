// vmroam-migrate's argv (cli.hpp).
#include "migration/cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "migration/certificate_name.hpp"

namespace vmroam::migration {

namespace {

constexpr const char* kUsage = R"(usage: vmroam-migrate --source QMP_SOCK --dest QMP_SOCK --uri tcp:HOST:PORT
                      --fa FA_API|none (--vm-json FILE | --vm ID)
                      (--tls-creds-dir-src DIR --tls-creds-dir-dst DIR | --tls-creds ID |
                       --insecure-migration) [options]

  --source PATH          source QEMU's QMP socket (-qmp unix:PATH,server=on)
  --dest PATH            destination QEMU's QMP socket
  --uri tcp:HOST:PORT    where the destination listens for the migration stream
  --fa ENDPOINT          destination foreign agent API: /path.sock or https://host:port
                         (http://host:port for an agent configured "insecure");
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
  --api-ca-file FILE     CA certificates (PEM) for https:// agent APIs (default: the
                         system's); each agent's certificate must name its host
  --api-cert-file FILE, --api-key-file FILE
                         our certificate and key (PEM) for agents that require client
                         certificates (mutual TLS)
  --tls-creds-dir-src DIR, --tls-creds-dir-dst DIR
                         TLS on the migration stream (the default; docs/security.md): the
                         driver loads x509 creds into each QEMU (object-add tls-creds-x509,
                         verify-peer on): DIR-src has ca-cert.pem, client-cert.pem,
                         client-key.pem; DIR-dst has ca-cert.pem, server-cert.pem,
                         server-key.pem (paths as the QEMU processes see them)
  --tls-creds ID         instead: a tls-creds-x509 object with this id exists on both QEMUs
                         (-object on their command lines; endpoint client at the source,
                         server at the destination)
  --tls-hostname NAME    the destination's name in its certificate (default: --uri's host)
  --tls-peer-dn DN       the destination accepts only a source certificate with this subject
                         (tls-authz, RFC 4514 form "CN=…,O=…"), on the migration stream and NBD;
                         default: the subject of DIR-src/client-cert.pem when the driver can
                         read it; "any": every certificate the CA signed
  --insecure-migration   no TLS: the VM's memory crosses the network in clear (said so in
                         the summary)
  --copy-storage all|DISK
                         move the disks too (repeatable; DISK is a device id, qdev path or the
                         source's node name; "all": every writable disk). The destination QEMU
                         has the same devices on empty images of the same size; it exports
                         them over NBD (TLS like the migration stream) on --uri's host, the
                         source mirrors into them, memory follows once every mirror is ready
                         (docs/migration.md "Moving the disks too")
  --nbd-port PORT        the destination's NBD port for --copy-storage (10809)
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
  --target-pause MS      with honest bandwidth: the guest pause to aim for (e.g. 30); QEMU's
                         downtime-limit becomes MS minus the path's RTT (docs/migration.md
                         "The downtime rule"; not the default: such tight limits broke
                         guests under TCG)
  --path-rtt MS          the path's round-trip time for that rule (default: measured on the
                         driver's migration socket; unknown with --tuning none)
  --downtime-limit MS    QEMU downtime-limit (300 if neither this nor --target-pause; with
                         early, set after the switch); any limit below 300 doubles after 5
                         passes or 10 s without convergence, up to 300
  --bandwidth honest|qemu
                         honest (default): the driver learns the link's rate (TCP_INFO of
                         its own migration socket while QEMU sends; --link-rate) and keeps
                         QEMU's max-bandwidth at 95% of it, so that QEMU's convergence test
                         uses the rate the link really carries (docs/migration.md); qemu:
                         QEMU's own rate limit and estimate (the behaviour before)
  --link-rate BPS        the path's rate in bytes/s, if known: honest starts from it and
                         never goes above it
  --max-bandwidth BPS    with --bandwidth qemu: QEMU max-bandwidth in bytes/s (QEMU's
                         default is 128 MiB/s)
  --capability NAME      enable another migration capability on both sides (repeatable)
  --incoming-defer       the destination runs with -incoming defer: send migrate-incoming
  --listen URI           address for migrate-incoming (default: --uri)
  --timeout S            give up (cancel) if pre-switchover is not reached in S seconds (600;
                         with --copy-storage the mirror phase has the same limit of its own)
  --retry-deadline S     keep re-activating a failed registration for S seconds (60)
  --quiet                no progress line
  --verbose              debug logging
  --help, --version
)";

bool parse_u64(const char* s, std::uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  auto v = std::strtoull(s, &end, 10);
  if (errno || !end || *end || s[0] == '-' || s[0] == 0) return false;
  out = v;
  return true;
}

int usage_error(const std::string& what) {
  std::fprintf(stderr, "vmroam-migrate: %s\n", what.c_str());
  return 64;
}

// (args, option name, value) → nullopt, or the exit code after a usage error.
using Setter = std::function<std::optional<int>(CliArgs&, const std::string&, const char*)>;

Setter text(std::string CliArgs::*field) {
  return [field](CliArgs& a, const std::string&, const char* v) -> std::optional<int> {
    a.*field = v;
    return std::nullopt;
  };
}

Setter number(std::function<void(CliArgs&, std::uint64_t)> set) {
  return [set](CliArgs& a, const std::string& name, const char* v) -> std::optional<int> {
    std::uint64_t n = 0;
    if (!parse_u64(v, n)) return usage_error(name + ": not a non-negative integer: " + v);
    set(a, n);
    return std::nullopt;
  };
}

std::optional<int> set_handover(CliArgs& a, const std::string&, const char* v) {
  if (std::strcmp(v, "early") == 0) {
    a.opt.handover = Handover::early;
  } else if (std::strcmp(v, "switchover") == 0) {
    a.opt.handover = Handover::switchover;
  } else {
    return usage_error(std::string("--handover: expected early or switchover, got ") + v);
  }
  return std::nullopt;
}

std::optional<int> set_bandwidth(CliArgs& a, const std::string&, const char* v) {
  if (std::strcmp(v, "honest") == 0) {
    a.opt.bandwidth.mode = BandwidthMode::honest;
  } else if (std::strcmp(v, "qemu") == 0) {
    a.opt.bandwidth.mode = BandwidthMode::qemu;
  } else {
    return usage_error(std::string("--bandwidth: expected honest or qemu, got ") + v);
  }
  return std::nullopt;
}

std::optional<int> set_tuning(CliArgs& a, const std::string&, const char* v) {
  if (std::strcmp(v, "socket") == 0) {
    a.opt.tuning = Tuning::socket;
  } else if (std::strcmp(v, "none") == 0) {
    a.opt.tuning = Tuning::none;
  } else {
    return usage_error(std::string("--tuning: expected socket or none, got ") + v);
  }
  return std::nullopt;
}

// Options that take a value, by name.
const std::map<std::string, Setter>& value_options() {
  static const std::map<std::string, Setter> m = {
      {"--source", text(&CliArgs::source)},
      {"--dest", text(&CliArgs::dest)},
      {"--uri", text(&CliArgs::uri)},
      {"--fa", text(&CliArgs::fa)},
      {"--fa-token", text(&CliArgs::fa_token)},
      {"--vm-json", text(&CliArgs::vm_json)},
      {"--vm", text(&CliArgs::vm_id)},
      {"--json", text(&CliArgs::json_out)},
      {"--listen", text(&CliArgs::listen)},
      {"--depart-fa", text(&CliArgs::depart_fa)},
      {"--ha", text(&CliArgs::ha)},
      {"--ha-token", text(&CliArgs::ha_token)},
      {"--api-ca-file", text(&CliArgs::api_ca_file)},
      {"--api-cert-file", text(&CliArgs::api_cert_file)},
      {"--api-key-file", text(&CliArgs::api_key_file)},
      {"--tls-creds-dir-src", text(&CliArgs::tls_dir_src)},
      {"--tls-creds-dir-dst", text(&CliArgs::tls_dir_dst)},
      {"--tls-creds", text(&CliArgs::tls_creds)},
      {"--tls-hostname", text(&CliArgs::tls_hostname)},
      {"--tls-peer-dn", text(&CliArgs::tls_peer_dn)},
      {"--copy-storage",
       [](CliArgs& a, const std::string&, const char* v) -> std::optional<int> {
         a.storage.enabled = true;
         if (std::strcmp(v, "all") != 0) a.storage.wanted.emplace_back(v);
         return std::nullopt;
       }},
      {"--nbd-port", number([](CliArgs& a, std::uint64_t n) { a.storage.nbd_port = std::to_string(n); })},
      {"--capability",
       [](CliArgs& a, const std::string&, const char* v) -> std::optional<int> {
         a.opt.extra_capabilities.emplace_back(v);
         return std::nullopt;
       }},
      {"--handover", set_handover},
      {"--tuning", set_tuning},
      {"--bandwidth", set_bandwidth},
      {"--link-rate", number([](CliArgs& a, std::uint64_t n) { a.opt.bandwidth.link_rate = n; })},
      {"--downtime-limit", number([](CliArgs& a, std::uint64_t n) { a.opt.downtime_limit_ms = n; })},
      {"--target-pause", number([](CliArgs& a, std::uint64_t n) {
         a.opt.target_pause_ms = n;
         a.target_pause_given = true;
       })},
      {"--path-rtt", number([](CliArgs& a, std::uint64_t n) { a.opt.path_rtt_ms = n; })},
      {"--max-bandwidth", number([](CliArgs& a, std::uint64_t n) { a.opt.max_bandwidth = n; })},
      {"--timeout",
       number([](CliArgs& a, std::uint64_t n) { a.opt.migration_timeout = std::chrono::seconds(n); })},
      {"--retry-deadline",
       number([](CliArgs& a, std::uint64_t n) { a.opt.retry_deadline = std::chrono::seconds(n); })},
  };
  return m;
}

std::optional<int> load_visitor(CliArgs& a) {
  if (a.vm_json.empty() == a.vm_id.empty())
    return usage_error("exactly one of --vm-json and --vm is required with an FA or --depart-fa");
  if (a.vm_json.empty()) {
    a.opt.visitor_id = a.vm_id;
    a.opt.visitor = Json{{"id", a.vm_id}};
    return std::nullopt;
  }
  std::ifstream in(a.vm_json);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = Json::parse(ss.str(), nullptr, false);
  if (!in || j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string())
    return usage_error("--vm-json " + a.vm_json + ": not a JSON object with a string \"id\"");
  a.opt.visitor = j;
  a.opt.visitor_id = j["id"].get<std::string>();
  return std::nullopt;
}

// Which source certificate the destination accepts: the one named, or the subject of the
// client certificate the driver loads into the source (when it can read it).
std::optional<int> peer_name(const CliArgs& a, MigrationTls& tls) {
  if (a.tls_peer_dn == "any") return std::nullopt;
  if (!a.tls_peer_dn.empty()) {
    tls.peer_dn = a.tls_peer_dn;
    return std::nullopt;
  }
  if (a.tls_dir_src.empty()) return std::nullopt;
  auto dn = certificate_subject(a.tls_dir_src + "/client-cert.pem");
  if (dn && !dn->empty()) tls.peer_dn = *dn;
  return std::nullopt;
}

// The downtime rule's options (docs/migration.md "The downtime rule").
std::optional<int> validate_downtime(const CliArgs& a) {
  if (a.target_pause_given && a.opt.downtime_limit_ms)
    return usage_error("--target-pause and --downtime-limit both set QEMU's downtime-limit: give one");
  if (a.target_pause_given && a.opt.bandwidth.mode == BandwidthMode::qemu)
    return usage_error(
        "--target-pause needs --bandwidth honest (with QEMU's own estimate the limit is not link time)");
  if (a.target_pause_given && a.opt.target_pause_ms == 0u)
    return usage_error("--target-pause: 0 ms is no pause");
  return std::nullopt;
}

// The migration stream is encrypted unless the user says otherwise, in so many words.
std::optional<int> validate_tls(CliArgs& a) {
  const bool dirs = !a.tls_dir_src.empty() || !a.tls_dir_dst.empty();
  const bool id = !a.tls_creds.empty();
  if (a.insecure_migration) {
    if (dirs || id || !a.tls_hostname.empty() || !a.tls_peer_dn.empty())
      return usage_error(
          "--insecure-migration contradicts --tls-creds-dir-*/--tls-creds/--tls-hostname/--tls-peer-dn");
    a.opt.tls = MigrationTls{.enabled = false};
    return std::nullopt;
  }
  if (!dirs && !id)
    return usage_error(
        "the migration stream is TLS-encrypted by default: give --tls-creds-dir-src DIR and "
        "--tls-creds-dir-dst DIR (or --tls-creds ID), or --insecure-migration to send the VM's memory in "
        "clear "
        "(docs/security.md)");
  if (dirs && id) return usage_error("--tls-creds and --tls-creds-dir-* are alternatives: give one");
  if (dirs && (a.tls_dir_src.empty() || a.tls_dir_dst.empty()))
    return usage_error(
        "--tls-creds-dir-src and --tls-creds-dir-dst go together (the source's client creds, "
        "the destination's server creds)");
  MigrationTls tls{.enabled = true,
                   .creds_dir_src = a.tls_dir_src,
                   .creds_dir_dst = a.tls_dir_dst,
                   .creds_id = a.tls_creds,
                   .hostname = a.tls_hostname.empty() ? uri_host(a.uri) : a.tls_hostname};
  if (tls.hostname.empty())
    return usage_error(
        "--tls-hostname is required when --uri has no host (the destination's certificate name)");
  if (auto rc = peer_name(a, tls)) return rc;
  a.opt.tls = tls;
  return std::nullopt;
}

std::optional<int> validate(CliArgs& a) {
  const char* missing = a.source.empty() ? "--source"
                        : a.dest.empty() ? "--dest"
                        : a.uri.empty()  ? "--uri"
                        : a.fa.empty()   ? "--fa"
                                         : nullptr;
  if (missing) return usage_error(std::string(missing) + " is required (see --help)");
  if (!a.uri.starts_with("tcp:") && a.opt.tuning == Tuning::socket)
    return usage_error("--tuning socket needs a tcp: uri (use --tuning none)");
  if (!a.ha.empty() && a.fa == "none" && a.depart_fa.empty())
    return usage_error("--ha needs --fa or --depart-fa (with neither, no binding changes)");
  if (a.api_cert_file.empty() != a.api_key_file.empty())
    return usage_error("--api-cert-file and --api-key-file go together");
  if (a.opt.max_bandwidth && a.opt.bandwidth.mode == BandwidthMode::honest)
    return usage_error(
        "--max-bandwidth fixes QEMU's rate: give it with --bandwidth qemu (honest sets max-bandwidth from "
        "the link's rate; --link-rate tells it the rate)");
  if (a.opt.bandwidth.link_rate && *a.opt.bandwidth.link_rate == 0)
    return usage_error("--link-rate: 0 bytes/s is no rate");
  if (auto rc = validate_downtime(a)) return rc;
  a.opt.uri = a.uri;
  a.opt.listen_uri = a.listen;
  if (auto rc = validate_tls(a)) return rc;
  if (a.storage.enabled && uri_host(a.listen.empty() ? a.uri : a.listen).empty())
    return usage_error("--copy-storage needs a tcp:HOST:PORT --uri (or --listen): NBD listens on that host");
  if (a.storage.enabled && a.opt.max_bandwidth) a.storage.budget = *a.opt.max_bandwidth;
  a.storage.ready_timeout = a.opt.migration_timeout;  // --timeout covers the mirror phase too
  if (a.fa != "none" || !a.depart_fa.empty()) return load_visitor(a);
  return std::nullopt;
}

}  // namespace

const char* cli_usage() { return kUsage; }

std::optional<int> parse_cli(int argc, const char* const* argv, CliArgs& a) {
  a.opt.tuning = Tuning::socket;
  a.opt.handover = Handover::switchover;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (k == "--version") {
      std::printf("vmroam-migrate %s\n", VMROAM_VERSION);
      return 0;
    }
    if (k == "--quiet") {
      a.quiet = true;
    } else if (k == "--verbose") {
      a.verbose = true;
    } else if (k == "--insecure-migration") {
      a.insecure_migration = true;
    } else if (k == "--incoming-defer") {
      a.opt.incoming_defer = true;
    } else if (auto it = value_options().find(k); it != value_options().end()) {
      if (i + 1 >= argc) return usage_error(k + " needs a value");
      if (auto rc = it->second(a, k, argv[++i])) return rc;
    } else {
      return usage_error("unknown option " + k + " (see --help)");
    }
  }
  return validate(a);
}

}  // namespace vmroam::migration
