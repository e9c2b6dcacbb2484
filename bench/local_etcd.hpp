// LocalEtcd: a throwaway etcd cluster for benchmarks — N members as separate local processes
// on 127.0.0.1 (client and peer ports picked free), each with its own data directory under
// `dir`, started with --initial-cluster-state new and killed (SIGKILL, reaped) by the
// destructor. Each member fsyncs its own WAL as in production; on one machine they share its
// disk and cores, which a real cluster would not.
//
// Bench-only: the daemon never starts etcd. Needs `etcd` and `etcdctl` on PATH (Debian
// etcd-server, etcd-client).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/core/result.hpp"

namespace vmroam::bench {

class LocalEtcd {
 public:
  // Errors: etcd_missing (not on PATH), etcd_not_started (no quorum within 30 s; the
  // members' logs are in dir/eN.log).
  static Result<std::unique_ptr<LocalEtcd>> start(const std::string& dir, int members, int max_txn_ops) {
    if (!on_path("etcd") || !on_path("etcdctl"))
      return fail("etcd_missing", "etcd or etcdctl is not on PATH (Debian: etcd-server, etcd-client)");
    std::unique_ptr<LocalEtcd> c(new LocalEtcd());
    std::vector<int> ports = free_ports(2 * members);
    if (ports.size() != static_cast<std::size_t>(2 * members))
      return fail("etcd_not_started", "no free ports");
    std::string initial;
    for (int i = 0; i < members; ++i)
      initial += (i ? "," : "") + name(i) + "=http://127.0.0.1:" + std::to_string(ports[2 * i + 1]);
    for (int i = 0; i < members; ++i) {
      const std::string client = "http://127.0.0.1:" + std::to_string(ports[2 * i]);
      const std::string peer = "http://127.0.0.1:" + std::to_string(ports[2 * i + 1]);
      c->pids_.push_back(spawn(dir + "/" + name(i) + ".log", {"etcd",
                                                              "--name",
                                                              name(i),
                                                              "--data-dir",
                                                              dir + "/" + name(i) + ".etcd",
                                                              "--listen-client-urls",
                                                              client,
                                                              "--advertise-client-urls",
                                                              client,
                                                              "--listen-peer-urls",
                                                              peer,
                                                              "--initial-advertise-peer-urls",
                                                              peer,
                                                              "--initial-cluster",
                                                              initial,
                                                              "--initial-cluster-token",
                                                              "vmroam-bench-" + std::to_string(::getpid()),
                                                              "--initial-cluster-state",
                                                              "new",
                                                              "--max-txn-ops",
                                                              std::to_string(max_txn_ops),
                                                              "--logger",
                                                              "zap",
                                                              "--log-level",
                                                              "warn"}));
      c->endpoints_.push_back("127.0.0.1:" + std::to_string(ports[2 * i]));
    }
    if (auto why = c->wait_for_quorum(std::chrono::seconds(30), dir); !why.empty())
      return fail("etcd_not_started",
                  "no quorum within 30 s (" + why + "); e1.log ends: " + tail(dir + "/e1.log"));
    return c;
  }
  ~LocalEtcd() {
    for (pid_t p : pids_)
      if (p > 0) ::kill(p, SIGKILL);
    for (pid_t p : pids_)
      if (p > 0) ::waitpid(p, nullptr, 0);
  }
  LocalEtcd(const LocalEtcd&) = delete;
  LocalEtcd& operator=(const LocalEtcd&) = delete;

  [[nodiscard]] const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  LocalEtcd() = default;
  static std::string name(int i) { return "e" + std::to_string(i + 1); }

  static bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string rest = path ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string d = rest.substr(0, colon);
      if (!d.empty() && ::access((d + "/" + program).c_str(), X_OK) == 0) return true;
      rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    return false;
  }

  // `n` distinct ports the kernel says are free now (held open together, then released).
  static std::vector<int> free_ports(int n) {
    std::vector<int> fds, ports;
    for (int i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (fd >= 0) ::close(fd);
        break;
      }
      fds.push_back(fd);
      ports.push_back(ntohs(a.sin_port));
    }
    for (int fd : fds) ::close(fd);
    return ports;
  }

  // fork + exec; the child only makes async-signal-safe calls (gRPC may have threads by now).
  static pid_t spawn(const std::string& log, const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const pid_t pid = ::fork();
    if (pid != 0) {
      if (fd >= 0) ::close(fd);
      return pid;
    }
    // The child: its own process group (a ^C to the bench does not race our SIGKILL), output
    // to its log, then etcd.
    ::setpgid(0, 0);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }

  // Polls `etcdctl endpoint health --cluster` (what docs/operations.md has operators do
  // before the HAs start) until every member answers, or `limit` passes. Returns "" once
  // healthy, else what was wrong. (A gRPC channel made before the members listened kept
  // failing its handshakes here on a loaded machine; the HA's channel is made afterwards.)
  std::string wait_for_quorum(std::chrono::seconds limit, const std::string& dir) {
    std::string list;
    for (const auto& e : endpoints_) list += (list.empty() ? "" : ",") + e;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      const pid_t p =
          spawn(dir + "/health.log", {"etcdctl", "--endpoints", list, "--dial-timeout", "1s",
                                      "--command-timeout", "2s", "endpoint", "health", "--cluster"});
      int status = 0;
      if (p > 0 && ::waitpid(p, &status, 0) == p && WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "etcdctl endpoint health: " + tail(dir + "/health.log");
  }

  // The last ~800 bytes of a log, for an error message.
  static std::string tail(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
      char buf[4096];
      std::size_t n = 0;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
      std::fclose(f);
    }
    return out.size() > 800 ? out.substr(out.size() - 800) : out;
  }

  std::vector<pid_t> pids_;
  std::vector<std::string> endpoints_;
};

}  // namespace vmroam::bench
