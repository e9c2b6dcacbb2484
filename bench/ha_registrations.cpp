// Authenticated proxy registrations per second through the real home agent, with durable
// commit, at 1, 10 k and 100 k bindings (targets ≥ 50 000/s with the commit overlapped,
// p99 ≤ 5 ms, ≤ 512 B per binding).
//
// What is real: ha::HomeAgent (registrar, binding cache, replay state, metrics), its SQLite
// store in a temporary directory on disk (WAL, synchronous=FULL: every reply waits for its
// fsync'd commit), the daemon's UdpPort on 127.0.0.1 (drain per readiness event, then one
// flush() = one group commit), and RFC 5563 proxy Registration Requests built with
// common/wire and authenticated with FA-HA HMAC-SHA-256 (RFC 5944 §3.5.4). What is fake: the
// kernel (tunnel driver and netlink: bench/ha_fake_kernel.hpp), so "kernel":"fake" in the JSON.
//
// Per size N: N VMs go into the store in one commit and are restored by HomeAgent::start()
// (the restart path; no API call per VM), then one registration per VM creates the N
// bindings (the "create" round; the heap/RSS growth across it is the memory per binding),
// then for --seconds the load generator refreshes those bindings in turn. The generator is a
// second thread with its own UDP socket keeping --window requests outstanding, matching each
// reply to its request by the low 32 bits of the Identification (RFC 5944 §5.7: copied into
// the reply), latency = request sent → reply received. At the --latency-sizes: the same load
// with the commit not overlapped ("/serial" rows: each flush waits for its commit), rounds at
// windows 1 and 16, and open-loop rounds at each --rates (requests offered on a fixed
// schedule whatever the replies do; latency from when each was due), overlapped and serial.
// Every row carries the 1-minute load average at its end.
//
// Cluster rows ("cluster:<N>@…"): the same HomeAgent as the active HA of a cluster, every
// registration acknowledged only once its txn has committed in a real etcd cluster of
// --etcd-members members (bench/local_etcd.hpp: local processes, own ports and data dirs,
// --max-txn-ops and cluster.max_txn_ops --etcd-max-txn-ops), pipelined as in the daemon
// (home-agent/cluster/cluster_node.hpp: one txn in flight, the next batches merged). At each
// --cluster-sizes: the create round, a closed-window refresh round and open-loop rounds at
// each --rates. "txns" and "per_txn" say how the registrations went into txns. Skipped (with
// a line on stderr) when etcd is not installed or the build has no `cluster` feature.
//
//   ha_registrations [--sizes 1,10000,100000] [--seconds S] [--window W] [--dir D]
//                    [--latency-sizes 10000] [--latency-windows 1,16] [--rates 20000,50000]
//                    [--cluster-sizes 10000] [--etcd-members 3] [--etcd-max-txn-ops 1024]
//                    [--log-level info|debug|warn|error] [--quick]
//   → one JSON object on stdout (conventions: bench/README.md). D defaults to $TMPDIR or
//   /var/tmp (a real disk, not tmpfs). --quick: sizes 1,100, 0.3 s per size, cluster size
//   100. --cluster-sizes "" or --etcd-members 0: no cluster rows.
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/ha_fake_kernel.hpp"
#include "bench/measurement.hpp"
#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/core/clock.hpp"
#include "common/core/hex.hpp"
#include "common/core/log.hpp"
#include "common/daemon/udp_port.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/registration.hpp"
#include "home-agent/home_agent.hpp"

#ifdef VMROAM_HAVE_CLUSTER
#include "bench/local_etcd.hpp"
#include "common/cluster/grpc_etcd.hpp"
#include "home-agent/cluster/cluster_node.hpp"
#endif

namespace {

using namespace vmroam;
using Json = nlohmann::ordered_json;
using SteadyClock = std::chrono::steady_clock;
using bench::heap_in_use;
using bench::parse_sizes;
using bench::percentile;
using bench::ScratchDir;

constexpr const char* kFaHaKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr std::uint32_t kFaHaSpi = 1000;
const Ipv4 kHaAddress = Ipv4::from_octets(192, 0, 2, 1);
const Ipv4 kLoopback = Ipv4::from_octets(127, 0, 0, 1);  // the foreign agent: source and care-of
constexpr std::uint32_t kFirstHoa = 0x0a000001;          // 10.0.0.1, in the home prefix 10.0.0.0/8
constexpr std::uint16_t kLifetime = 300;

struct Options {
  std::vector<std::size_t> sizes = {1, 10000, 100000};
  double seconds = 3.0;
  std::size_t window = 256;
  // Extra refresh rounds with a smaller window at these sizes: the latency of a lightly
  // loaded HA (window 1: one request per commit, so latency ≈ one fsync).
  std::vector<std::size_t> latency_sizes = {10000};
  std::vector<std::size_t> latency_windows = {1, 16};
  // Open-loop rounds at these sizes: requests/s offered on a fixed schedule.
  std::vector<std::size_t> rates = {20000, 50000};
  // Cluster rows: bindings, etcd members, etcd's --max-txn-ops (and cluster.max_txn_ops).
  std::vector<std::size_t> cluster_sizes = {10000};
  int etcd_members = 3;
  int etcd_max_txn_ops = 1024;
  std::string dir;
  std::string log_level = "info";  // the daemon's default (home-agent/config.hpp)
  bool quick = false;
};

std::size_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// The 1-minute load average now: the machine is shared, every figure says how busy it was.
double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = 0;
  f >> l;
  return l;
}

double cpu_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// CPU seconds of the calling thread so far.
double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

Ipv4 hoa_of(std::size_t i) { return Ipv4(kFirstHoa + static_cast<std::uint32_t>(i)); }
MacAddress mac_of(std::size_t i) {
  const auto v = static_cast<std::uint32_t>(i);
  return MacAddress({0x52, 0x54, static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                     static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

auth::SecurityAssociation fa_key() { return {kFaHaSpi, auth::Algorithm::hmac_sha256, *from_hex(kFaHaKey)}; }

Result<ha::HaConfig> bench_config(const std::string& store_path) {
  auto c = ha::parse_config_text(R"({
    "address": "192.0.2.1", "home_prefix": "10.0.0.0/8", "home_interface": "br-home",
    "registration": { "max_lifetime_s": 600 },
    "foreign_agents": [ { "address": "127.0.0.1", "fa_ha": { "spi": 1000, "key": ")" +
                                 std::string(kFaHaKey) + R"(" } } ] })");
  if (c) c->store_path = store_path;
  return c;
}

// ---- Load generator: the foreign agent side, on its own thread and socket -----------------

struct Outcome {
  std::size_t sent = 0;
  std::size_t accepted = 0;
  std::size_t denied = 0;
  std::size_t lost = 0;
  double seconds = 0;
  std::vector<double> latency_ms;
  // CPU over the round: the whole process (the HA's loop and writer thread, gRPC's threads
  // in a cluster, and the generator) and the generator's thread alone. The HA's share,
  // process − generator, is what a registration costs the HA, whatever the machine's load.
  double process_cpu_s = 0;
  double generator_cpu_s = 0;
};

// Starts the CPU clocks of a round (on the generator's thread); stop() fills `o`.
class CpuClocks {
 public:
  CpuClocks() : process0_(cpu_seconds(RUSAGE_SELF)), thread0_(thread_cpu_seconds()) {}
  void stop(Outcome& o) const {
    o.process_cpu_s = cpu_seconds(RUSAGE_SELF) - process0_;
    o.generator_cpu_s = thread_cpu_seconds() - thread0_;
  }

 private:
  double process0_;
  double thread0_;
};

class LoadGenerator {
 public:
  LoadGenerator(std::uint16_t ha_port, std::size_t window) : window_(window), key_(fa_key()) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(kLoopback.value());
    sockaddr_in ha{};
    ha.sin_family = AF_INET;
    ha.sin_port = htons(ha_port);
    ha.sin_addr.s_addr = htonl(kLoopback.value());
    // A window's worth of replies must fit in the receive buffer (FORCE needs CAP_NET_ADMIN).
    int buf = 8 << 20;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
      (void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&ha), sizeof ha) != 0) {
      std::perror("load generator socket");
      std::exit(1);
    }
    slots_.resize(kSlots);
  }
  ~LoadGenerator() { ::close(fd_); }
  void set_window(std::size_t w) { window_ = w; }
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Open loop: offers `rate` requests/s on a fixed schedule for `seconds`, whatever the
  // replies do (request i is due at start + i/rate), then waits for the outstanding replies
  // (1 s without any = lost). Latency runs from when a request was due, not when it left, so a
  // generator that falls behind does not hide the HA's delay (no coordinated omission).
  Outcome run_open(std::size_t n, double rate, double seconds) {
    Outcome o;
    o.latency_ms.reserve(static_cast<std::size_t>(rate * seconds) + 16);
    const CpuClocks cpu;
    const auto start = SteadyClock::now();
    const auto period =
        std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(1.0 / rate));
    const auto deadline =
        start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
    auto due = start;
    bool sending = true;
    for (;;) {
      auto now = SteadyClock::now();
      if (sending && now >= deadline) sending = false;
      while (sending && due <= now && due < deadline) {
        send_one(hoa_of(next_vm_ % n), mac_of(next_vm_ % n), due, o);
        ++next_vm_;
        ++o.sent;
        due += period;
      }
      send_queued();
      if (!sending && outstanding_ == 0) break;
      // Sleep until the next request is due or a reply comes.
      const auto wait = sending ? std::max(due - SteadyClock::now(), SteadyClock::duration::zero())
                                : SteadyClock::duration(std::chrono::seconds(1));
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
      pollfd p{fd_, POLLIN, 0};
      if (::ppoll(&p, 1, &ts, nullptr) == 0 && !sending) {  // a second of silence: the rest is lost
        give_up(o);
        break;
      }
      receive(o);
    }
    o.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    cpu.stop(o);
    return o;
  }

  // Registers VMs 0..n-1 in turn (starting at *next_vm) until `max_requests` were sent or
  // `max_seconds` passed, then waits for the outstanding replies (1 s without any = lost).
  Outcome run(std::size_t n, std::size_t max_requests, double max_seconds) {
    Outcome o;
    o.latency_ms.reserve(std::min<std::size_t>(max_requests, 4'000'000));
    const CpuClocks cpu;
    const auto start = SteadyClock::now();
    const auto deadline =
        start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(max_seconds));
    bool sending = true;
    for (;;) {
      if (sending && (o.sent >= max_requests || SteadyClock::now() >= deadline)) sending = false;
      while (sending && outstanding_ < window_ && o.sent < max_requests) {
        send_one(hoa_of(next_vm_ % n), mac_of(next_vm_ % n), SteadyClock::now(), o);
        ++next_vm_;
        ++o.sent;
      }
      send_queued();
      if (!sending && outstanding_ == 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) == 0) {  // nothing for a second: what is outstanding is lost
        give_up(o);
        if (!sending) break;
        continue;
      }
      receive(o);
    }
    o.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    cpu.stop(o);
    return o;
  }

 private:
  struct Slot {
    std::uint32_t id = 0;
    bool used = false;
    SteadyClock::time_point sent;
  };
  static constexpr std::size_t kSlots = 1 << 16;

  // An RFC 5563 proxy registration as the FA sends it (cf. tests/unit/home-agent): PMIPv4
  // per-node method FA-HA, the VM's MAC as device ID, revocation support, FA-HA HMAC-SHA-256.
  // Identification: NTP seconds now (RFC 5944 §5.7 timestamp) and a counter as the low 32
  // bits, so it increases strictly per home address and names the request uniquely.
  void send_one(Ipv4 hoa, MacAddress mac, SteadyClock::time_point due, Outcome& o) {
    const std::uint32_t id = ++counter_;
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = kLifetime;
    r.home_address = hoa;
    r.home_agent = kHaAddress;
    r.care_of_address = kLoopback;
    r.identification =
        (std::uint64_t{auth::high32(auth::ntp_from_wall(std::chrono::system_clock::now()))} << 32) | id;
    r.append(wire::PmipPerNodeAuth{}.to_extension());
    r.append(*wire::PmipDeviceId::ethernet(mac).to_extension());
    r.append(wire::RevocationSupport{}.to_extension());
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, key_)) std::abort();
    const Bytes bytes = wire::encode(r);
    Slot& s = slots_[id % kSlots];
    if (s.used) {  // kSlots requests later and still unanswered: lost
      ++o.lost;
      --outstanding_;
    }
    s.id = id;
    s.used = true;
    s.sent = due;
    ++outstanding_;
    queued_.push_back(std::move(bytes));
    if (queued_.size() == kMmsg) send_queued();
  }

  // The requests built since the last call, in sendmmsg calls of up to kMmsg: the generator
  // shares the machine's two CPUs with the HA, so its system calls are batched as the HA's are.
  void send_queued() {
    std::array<mmsghdr, kMmsg> msgs{};
    std::array<iovec, kMmsg> iov{};
    for (std::size_t i = 0; i < queued_.size(); ++i) {
      iov[i] = {queued_[i].data(), queued_[i].size()};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (std::size_t at = 0; at < queued_.size();) {
      const int k = ::sendmmsg(fd_, msgs.data() + at, static_cast<unsigned>(queued_.size() - at), 0);
      if (k <= 0) {
        std::perror("sendmmsg");
        break;
      }
      at += static_cast<std::size_t>(k);
    }
    queued_.clear();
  }

  // Every reply waiting in the socket (recvmmsg, kMmsg at a time): matched to its request,
  // latency recorded.
  void receive(Outcome& o) {
    std::array<mmsghdr, kMmsg> msgs{};
    std::array<iovec, kMmsg> iov{};
    for (std::size_t i = 0; i < kMmsg; ++i) {
      iov[i] = {reply_buf_.data() + i * kReplySlot, kReplySlot};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
      const int k = ::recvmmsg(fd_, msgs.data(), kMmsg, MSG_DONTWAIT, nullptr);
      if (k <= 0) break;
      const auto now = SteadyClock::now();
      for (std::size_t i = 0; i < static_cast<std::size_t>(k); ++i)
        take_reply(ByteView(reply_buf_.data() + i * kReplySlot, msgs[i].msg_len), now, o);
    }
  }

  void take_reply(ByteView bytes, SteadyClock::time_point now, Outcome& o) {
    auto reply = wire::parse_registration_reply(bytes);
    if (!reply) return;
    const std::uint32_t id = auth::low32(reply->identification);
    Slot& s = slots_[id % kSlots];
    if (!s.used || s.id != id) return;  // late reply to a request already counted lost
    s.used = false;
    --outstanding_;
    o.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - s.sent).count());
    if (mip::code::is_accepted(reply->code))
      ++o.accepted;
    else
      ++o.denied;
  }

  // What is still outstanding will not be answered.
  void give_up(Outcome& o) {
    o.lost += outstanding_;
    outstanding_ = 0;
    for (auto& s : slots_) s.used = false;
  }

  int fd_ = -1;
  std::size_t window_;
  auth::SecurityAssociation key_;
  std::vector<Slot> slots_;
  std::size_t outstanding_ = 0;
  std::size_t next_vm_ = 0;
  static constexpr std::size_t kMmsg = 64;        // datagrams per sendmmsg/recvmmsg
  static constexpr std::size_t kReplySlot = 512;  // a reply is ~100 bytes
  std::vector<Bytes> queued_;                     // built, not sent yet (send_queued())
  std::vector<std::uint8_t> reply_buf_ = std::vector<std::uint8_t>(kMmsg * kReplySlot);
  static inline std::uint32_t counter_ = 0;  // across sizes: Identifications only go up
};

// ---- One size --------------------------------------------------------------------------

// The store's group commits so far and the seconds spent in them, from the HA's own metrics.
struct Commits {
  double count = 0;
  double seconds = 0;
  Commits operator-(const Commits& o) const { return {count - o.count, seconds - o.seconds}; }
};
Commits commits_so_far(ha::HomeAgent& agent) {
  const std::string text = agent.metrics().render();
  auto value = [&](const std::string& key) {
    auto pos = text.find(key + " ");
    return pos == std::string::npos ? 0.0 : std::strtod(text.c_str() + pos + key.size() + 1, nullptr);
  };
  return {value("vmroam_store_commit_seconds_count"), value("vmroam_store_commit_seconds_sum")};
}

Json row_of(const char* round, std::size_t bindings, std::size_t window, Outcome& o, Commits c) {
  const double commits = c.count;
  const auto answered = static_cast<double>(o.latency_ms.size());
  Json j;
  j["point"] = std::to_string(bindings) + "@w" + std::to_string(window);
  j["bindings"] = bindings;
  j["window"] = window;
  j["round"] = round;
  j["registrations"] = o.accepted;
  j["seconds"] = o.seconds;
  j["per_second"] = o.seconds > 0 ? static_cast<double>(o.accepted) / o.seconds : 0.0;
  j["p50_ms"] = percentile(o.latency_ms, 0.50);
  j["p99_ms"] = percentile(o.latency_ms, 0.99);
  j["max_ms"] = percentile(o.latency_ms, 1.0);
  j["commits"] = commits;
  j["mean_batch"] = commits > 0 ? answered / commits : 0.0;
  j["commit_ms_mean"] = commits > 0 ? c.seconds * 1000 / commits : 0.0;
  // Share of the wall time the HA's loop spent waiting for the store (fsync).
  j["commit_share"] = o.seconds > 0 ? c.seconds / o.seconds : 0.0;
  j["denied"] = o.denied;
  j["lost"] = o.lost;
  j["overlap"] = true;
  // What the HA's own CPU time bought: less sensitive to the machine's load than per_second.
  const double ha_cpu = o.process_cpu_s - o.generator_cpu_s;
  j["ha_cpu_s"] = ha_cpu;
  j["generator_cpu_s"] = o.generator_cpu_s;
  j["per_ha_cpu_second"] = ha_cpu > 0 ? static_cast<double>(o.accepted) / ha_cpu : 0.0;
  j["load"] = load_average();
  return j;
}

struct SizeResult {
  Json create;
  std::vector<Json> refresh;  // at --window, then at each latency window
  Json memory;
};

Result<SizeResult> run_size(std::size_t n, const Options& opt) {
  const ScratchDir scratch(opt.dir, "vmroam-bench-ha");
  if (scratch.path().empty()) return fail("mkdtemp_failed", opt.dir);
  const std::string& dir = scratch.path();
  const std::string db = dir + "/ha.db";

  // The VMs, in one commit; start() restores them like after a restart.
  {
    VMROAM_TRY(store::Store s, store::Store::open(db));
    store::Batch vms;
    for (std::size_t i = 0; i < n; ++i)
      vms.put_vm(
          store::VmRecord{"vm" + std::to_string(i), hoa_of(i), mac_of(i), {}, 0, {}, {}, std::nullopt, "{}"});
    VMROAM_TRY_VOID(s.commit(vms));
  }

  VMROAM_TRY(ha::HaConfig config, bench_config(db));
  VMROAM_TRY(store::Store store, store::Store::open(db));
  boost::asio::io_context io;
  bench::LeanNetlink netlink(
      dataplane::LinkInfo{3, "br-home", *MacAddress::parse("02:00:00:00:01:01"), 1500, true, {}});
  bench::LeanTunnelDriver driver;
  SystemClock clock;
  VMROAM_TRY(auto udp, daemon::UdpPort::open(io, kLoopback, 0));
  daemon::UdpPort* port = udp.get();
  ha::HomeAgentIo seams;
  seams.netlink = &netlink;
  seams.driver = &driver;
  seams.send_udp = [port](Ipv4 dst, std::uint16_t p, ByteView payload) { (void)port->send(dst, p, payload); };
  seams.send_udp_segmented = [port](Ipv4 dst, std::uint16_t p, ByteView payload, std::size_t size) {
    return port->send_batch(dst, p, payload, size);
  };
  seams.send_home_frame = [](ByteView) {};  // gratuitous ARP: built by the HA, not sent
  seams.clock = &clock;
  std::uint32_t rnd = 1;
  seams.random32 = [&rnd] { return rnd = rnd * 1664525u + 1013904223u; };
  seams.on_fatal = [&io](const Error& e) {
    std::fprintf(stderr, "fatal: %s\n", e.to_string().c_str());
    io.stop();
  };
  auto agent = std::make_unique<ha::HomeAgent>(io, config, seams, std::move(store));
  VMROAM_TRY_VOID(agent->start());
  if (agent->vms().size() != n) return fail("vms_not_restored", std::to_string(agent->vms().size()));
  port->start([&agent](ByteView p, Ipv4 src, std::uint16_t sport) { agent->on_datagram(p, src, sport); },
              [&agent] { agent->flush(); });

  LoadGenerator gen(port->local_port(), opt.window);
  // The HA runs on this thread (as in the daemon); the generator on another; when it is
  // done it stops the loop.
  auto drive = [&](std::size_t max_requests, double max_seconds) {
    Outcome o;
    io.restart();
    std::thread t([&] {
      o = gen.run(n, max_requests, max_seconds);
      io.stop();
    });
    io.run();
    t.join();
    return o;
  };

  auto drive_open = [&](double rate, double seconds) {
    Outcome o;
    io.restart();
    std::thread t([&] {
      o = gen.run_open(n, rate, seconds);
      io.stop();
    });
    io.run();
    t.join();
    return o;
  };

  SizeResult out;
  malloc_trim(0);
  const std::size_t heap0 = heap_in_use(), rss0 = rss_bytes();
  Commits c0 = commits_so_far(*agent);
  Outcome created = drive(n, 600.0);
  Commits c1 = commits_so_far(*agent);
  const std::size_t heap1 = heap_in_use(), rss1 = rss_bytes();
  // Requests the HA's socket dropped (its receive buffer overflowed) are counted as lost;
  // memory is per binding actually created.
  const std::size_t made = agent->bindings().size();
  if (made == 0) return fail("no_binding_created", std::to_string(n) + " requests");
  out.create = row_of("create", n, opt.window, created, c1 - c0);

  // What of the growth is the binding cache, and what is the fake kernel (copies of each).
  std::size_t h = heap_in_use();
  auto cache_copy = std::make_unique<binding::BindingCache>(agent->bindings());
  const std::size_t cache_bytes = heap_in_use() - h;
  h = heap_in_use();
  auto netlink_copy = std::make_unique<bench::LeanNetlink>(netlink);
  auto driver_copy = std::make_unique<bench::LeanTunnelDriver>(driver);
  const std::size_t fake_bytes = heap_in_use() - h;
  cache_copy.reset();
  netlink_copy.reset();
  driver_copy.reset();
  const auto per = [made](double bytes) { return bytes / static_cast<double>(made); };
  const double heap_delta = static_cast<double>(heap1) - static_cast<double>(heap0);
  out.memory = Json{{"bindings", made},
                    {"rss_bytes_per_binding", per(static_cast<double>(rss1) - static_cast<double>(rss0))},
                    {"heap_bytes_per_binding", per(heap_delta - static_cast<double>(fake_bytes))},
                    {"cache_bytes_per_binding", per(static_cast<double>(cache_bytes))},
                    {"fake_kernel_bytes_per_binding", per(static_cast<double>(fake_bytes))}};

  Outcome refreshed = drive(static_cast<std::size_t>(-1), opt.seconds);
  Commits c2 = commits_so_far(*agent);
  out.refresh.push_back(row_of("refresh", n, opt.window, refreshed, c2 - c1));
  if (made >= 1000)  // below that, the fixed costs of the first registrations swamp it
    for (const char* k : {"rss_bytes_per_binding", "heap_bytes_per_binding", "cache_bytes_per_binding"})
      out.refresh.back()[k] = out.memory[k];
  if (std::find(opt.latency_sizes.begin(), opt.latency_sizes.end(), n) != opt.latency_sizes.end()) {
    // The same load with the commit not overlapped (each flush waits for its own commit, as
    // before the pipeline), right after: the ratio says what the overlap buys on this machine
    // at this moment.
    agent->set_overlap_commits(false);
    const Commits c_serial = commits_so_far(*agent);
    Outcome serial = drive(static_cast<std::size_t>(-1), opt.seconds);
    agent->set_overlap_commits(true);
    Json srow = row_of("refresh", n, opt.window, serial, commits_so_far(*agent) - c_serial);
    srow["point"] = srow["point"].get<std::string>() + "/serial";
    srow["overlap"] = false;
    const double overlapped = out.refresh.back()["per_second"].get<double>();
    const double serial_rate = srow["per_second"].get<double>();
    out.refresh.back()["overlap_gain"] = serial_rate > 0 ? overlapped / serial_rate : 0.0;
    out.refresh.push_back(std::move(srow));
    for (std::size_t w : opt.latency_windows) {
      gen.set_window(w);
      Commits before = commits_so_far(*agent);
      Outcome o = drive(static_cast<std::size_t>(-1), std::max(0.2, opt.seconds / 2));
      out.refresh.push_back(row_of("refresh", n, w, o, commits_so_far(*agent) - before));
    }
    // Open loop: the latency a user sees at a fixed offered rate.
    for (std::size_t rate : opt.rates)
      for (bool overlap : {true, false}) {
        agent->set_overlap_commits(overlap);
        Commits c = commits_so_far(*agent);
        Outcome o = drive_open(static_cast<double>(rate), opt.seconds);
        Json row = row_of("refresh", n, 0, o, commits_so_far(*agent) - c);
        row["point"] = std::to_string(n) + "@r" + std::to_string(rate) + (overlap ? "" : "/serial");
        row["window"] = nullptr;
        row["offered_per_second"] = rate;
        row["overlap"] = overlap;
        out.refresh.push_back(std::move(row));
      }
    agent->set_overlap_commits(true);
    gen.set_window(opt.window);
  }

  port->close();
  agent->stop();
  return out;
}

// ---- Cluster rows: the active HA of a cluster on a real etcd ------------------------------

#ifdef VMROAM_HAVE_CLUSTER
const Ipv4Prefix kBenchHome = *Ipv4Prefix::parse("10.0.0.0/8");

// The N VMs straight into etcd (as the active HA's API would have put them), in txns of at
// most `max_ops`, so that the HA restores them from its start-up read.
Result<void> put_vms(cluster::Etcd& etcd, const ha::ClusterKeys& keys, std::size_t n, std::size_t max_ops) {
  store::Batch vms;
  for (std::size_t i = 0; i < n; ++i)
    vms.put_vm(
        store::VmRecord{"vm" + std::to_string(i), hoa_of(i), mac_of(i), {}, 0, {}, {}, std::nullopt, "{}"});
  const auto all = ha::to_mutations(keys, vms);
  for (std::size_t at = 0; at < all.size(); at += max_ops) {
    cluster::Txn txn;
    txn.mutations.assign(all.begin() + static_cast<std::ptrdiff_t>(at),
                         all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + max_ops)));
    VMROAM_TRY(cluster::TxnResult r, etcd.txn_now(txn));
    (void)r;
  }
  return ok();
}

// Runs the loop until the node is active (it is alone: its first campaign wins).
Result<void> wait_active(boost::asio::io_context& io, const ha::ClusterNode& node) {
  const auto until = SteadyClock::now() + std::chrono::seconds(15);
  while (!node.active() && SteadyClock::now() < until) io.run_one_for(std::chrono::milliseconds(50));
  if (!node.active()) return fail("cluster_not_active", "the bench's HA was not elected within 15 s");
  return ok();
}

Json cluster_row(const std::string& point, std::size_t n, Outcome& o, Commits c, std::size_t txns,
                 const Options& opt) {
  Json row = row_of("refresh", n, opt.window, o, c);
  row["point"] = point;
  row["store"] = "etcd";
  row["etcd_members"] = opt.etcd_members;
  row["overlap"] = true;  // ClusterNode's pipeline: one txn in flight, the next batches queued
  row["txns"] = txns;
  row["per_txn"] = txns ? static_cast<double>(o.latency_ms.size()) / static_cast<double>(txns) : 0.0;
  return row;
}

struct ClusterBench {
  boost::asio::io_context io;
  SystemClock clock;
  bench::LeanNetlink netlink{
      dataplane::LinkInfo{3, "br-home", *MacAddress::parse("02:00:00:00:01:01"), 1500, true, {}}};
  bench::LeanTunnelDriver driver;
  std::unique_ptr<cluster::GrpcEtcd> etcd;
  std::unique_ptr<ha::ClusterNode> node;
  std::unique_ptr<daemon::UdpPort> port;
  std::unique_ptr<ha::HomeAgent> agent;
  std::uint32_t rnd = 1;
};

// The HA as the daemon builds it in a cluster (home-agent/cluster/membership.cpp), on the
// bench's fake kernel: node opened (lease, subtree read), agent started from it, elected.
Result<void> open_cluster_ha(ClusterBench& b, const std::vector<std::string>& endpoints,
                             const std::string& db, const Options& opt, std::size_t n) {
  ha::ClusterConfig cc;
  cc.etcd = endpoints;
  cc.prefix = "/vmroam-bench";
  cc.node = "bench";
  cc.service_address = *Ipv4Prefix::parse("192.0.2.1/24");
  cc.request_timeout_ms = 5000;
  cc.max_txn_ops = static_cast<std::uint32_t>(opt.etcd_max_txn_ops);
  b.etcd =
      std::make_unique<cluster::GrpcEtcd>(b.io, endpoints, std::chrono::milliseconds(cc.request_timeout_ms));
  VMROAM_TRY_VOID(put_vms(*b.etcd, ha::ClusterKeys(cc.prefix, kBenchHome), n, cc.max_txn_ops));
  b.node = std::make_unique<ha::ClusterNode>(b.io, *b.etcd, cc, kBenchHome, b.clock);
  VMROAM_TRY_VOID(b.node->open());
  VMROAM_TRY(ha::HaConfig config, bench_config(db));
  VMROAM_TRY(store::Store store, store::Store::open(db));
  VMROAM_TRY(b.port, daemon::UdpPort::open(b.io, kLoopback, 0));
  ha::HomeAgentIo seams;
  seams.netlink = &b.netlink;
  seams.driver = &b.driver;
  seams.send_udp = [p = b.port.get()](Ipv4 dst, std::uint16_t pt, ByteView payload) {
    (void)p->send(dst, pt, payload);
  };
  seams.send_udp_segmented = [p = b.port.get()](Ipv4 dst, std::uint16_t pt, ByteView payload,
                                                std::size_t size) {
    return p->send_batch(dst, pt, payload, size);
  };
  seams.send_home_frame = [](ByteView) {};
  seams.clock = &b.clock;
  seams.random32 = [&b] { return b.rnd = b.rnd * 1664525u + 1013904223u; };
  seams.cluster = b.node.get();
  b.agent = std::make_unique<ha::HomeAgent>(b.io, config, seams, std::move(store));
  VMROAM_TRY_VOID(b.agent->start());
  ha::ClusterHooks hooks;
  hooks.on_change = [&b](const ha::ClusterKeys::Parsed& k, const cluster::KeyValue* kv) {
    b.agent->mirror(k, kv ? &kv->value : nullptr);
  };
  hooks.on_elected = [&b] { return b.agent->take_over(); };
  hooks.on_deposed = [&b](const Error& e) {
    std::fprintf(stderr, "cluster: deposed: %s\n", e.to_string().c_str());
    b.io.stop();
  };
  b.node->start(std::move(hooks));
  VMROAM_TRY_VOID(wait_active(b.io, *b.node));
  if (b.agent->vms().size() != n) return fail("vms_not_restored", std::to_string(b.agent->vms().size()));
  return ok();
}

// One size on a fresh etcd cluster: create, closed-window refresh, open loop at each rate.
Result<std::vector<Json>> run_cluster(std::size_t n, const Options& opt) {
  const ScratchDir scratch(opt.dir, "vmroam-bench-cluster");
  if (scratch.path().empty()) return fail("mkdtemp_failed", opt.dir);
  const std::string& dir = scratch.path();
  const double ha_cpu0 = cpu_seconds(RUSAGE_SELF), etcd_cpu0 = cpu_seconds(RUSAGE_CHILDREN);
  const auto wall0 = SteadyClock::now();
  VMROAM_TRY(auto etcd, bench::LocalEtcd::start(dir, opt.etcd_members, opt.etcd_max_txn_ops));
  ClusterBench b;
  VMROAM_TRY_VOID(open_cluster_ha(b, etcd->endpoints(), dir + "/ha.db", opt, n));
  b.port->start([&b](ByteView p, Ipv4 src, std::uint16_t sport) { b.agent->on_datagram(p, src, sport); },
                [&b] { b.agent->flush(); });
  LoadGenerator gen(b.port->local_port(), opt.window);
  auto drive = [&](auto run) {
    Outcome o;
    b.io.restart();
    std::thread t([&] {
      o = run();
      b.io.stop();
    });
    b.io.run();
    t.join();
    return o;
  };
  const std::string tag = "cluster:" + std::to_string(n);
  std::vector<Json> rows;
  auto measure = [&](const std::string& point, auto run) {
    const Commits c = commits_so_far(*b.agent);
    const std::size_t t = b.node->txns_sent();
    Outcome o = drive(run);
    rows.push_back(cluster_row(point, n, o, commits_so_far(*b.agent) - c, b.node->txns_sent() - t, opt));
    return o;
  };
  Outcome created = measure(tag + "@create", [&] { return gen.run(n, n, 600.0); });
  rows.back()["round"] = "create";
  if (b.agent->bindings().size() == 0 || !b.node->active())
    return fail("cluster_no_binding",
                std::to_string(created.accepted) + " of " + std::to_string(n) + " accepted");
  measure(tag + "@w" + std::to_string(opt.window),
          [&] { return gen.run(n, static_cast<std::size_t>(-1), opt.seconds); });
  for (std::size_t rate : opt.rates) {
    measure(tag + "@r" + std::to_string(rate),
            [&] { return gen.run_open(n, static_cast<double>(rate), opt.seconds); });
    rows.back()["window"] = nullptr;
    rows.back()["offered_per_second"] = rate;
  }
  b.port->close();
  b.agent->stop();
  b.node->stop();
  etcd.reset();  // members killed and reaped: their CPU time is in RUSAGE_CHILDREN now
  // Where the CPU went over the whole size (start-up included): the HA process (loop, gRPC
  // threads, the load generator) and the etcd members together.
  const Json cpu{{"wall_s", std::chrono::duration<double>(SteadyClock::now() - wall0).count()},
                 {"ha_process_cpu_s", cpu_seconds(RUSAGE_SELF) - ha_cpu0},
                 {"etcd_members_cpu_s", cpu_seconds(RUSAGE_CHILDREN) - etcd_cpu0}};
  for (auto& r : rows) r["cpu"] = cpu;
  return rows;
}
#endif

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

Json machine() {
  utsname u{};
  ::uname(&u);
  return Json{{"nproc", std::thread::hardware_concurrency()}, {"cpu", cpu_model()}, {"kernel", u.release}};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  const char* tmp = std::getenv("TMPDIR");
  opt.dir = tmp && *tmp ? tmp : "/var/tmp";
  bool sizes_given = false, seconds_given = false, lat_given = false, rates_given = false,
       cluster_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick")
      opt.quick = true;
    else if (a == "--sizes" && has_value)
      opt.sizes = parse_sizes(argv[++i]), sizes_given = true;
    else if (a == "--seconds" && has_value)
      opt.seconds = std::strtod(argv[++i], nullptr), seconds_given = true;
    else if (a == "--window" && has_value)
      opt.window = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--latency-sizes" && has_value)
      opt.latency_sizes = parse_sizes(argv[++i]), lat_given = true;
    else if (a == "--latency-windows" && has_value)
      opt.latency_windows = parse_sizes(argv[++i]);
    else if (a == "--rates" && has_value)
      opt.rates = parse_sizes(argv[++i]), rates_given = true;
    else if (a == "--cluster-sizes" && has_value)
      opt.cluster_sizes = parse_sizes(argv[++i]), cluster_given = true;
    else if (a == "--etcd-members" && has_value)
      opt.etcd_members = std::atoi(argv[++i]);
    else if (a == "--etcd-max-txn-ops" && has_value)
      opt.etcd_max_txn_ops = std::atoi(argv[++i]);
    else if (a == "--dir" && has_value)
      opt.dir = argv[++i];
    else if (a == "--log-level" && has_value)
      opt.log_level = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--sizes 1,10000,100000] [--seconds S] [--window W] [--dir D] "
                   "[--latency-sizes 10000] [--latency-windows 1,16] [--rates 20000,50000] "
                   "[--cluster-sizes 10000] [--etcd-members 3] [--etcd-max-txn-ops 1024] [--log-level L]\n",
                   argv[0]);
      return 2;
    }
  }
  if (opt.quick) {
    if (!sizes_given) opt.sizes = {1, 100};
    if (!seconds_given) opt.seconds = 0.3;
    if (!lat_given && !opt.sizes.empty()) opt.latency_sizes = {opt.sizes.back()};
    if (!rates_given) opt.rates = {2000};
    if (!cluster_given) opt.cluster_sizes = {100};
  }
  if (opt.etcd_members < 0 || opt.etcd_members > 7 || opt.etcd_max_txn_ops < 4) {
    std::fprintf(stderr, "--etcd-members: 0..7; --etcd-max-txn-ops: at least 4\n");
    return 2;
  }
  LogLevel level;
  if (!parse_log_level(opt.log_level, level)) {
    std::fprintf(stderr, "--log-level: unknown level %s\n", opt.log_level.c_str());
    return 2;
  }
  set_log_level(level);
  if (std::any_of(opt.rates.begin(), opt.rates.end(), [](auto r) { return r == 0 || r > 1'000'000; })) {
    std::fprintf(stderr, "--rates: 1..1000000 requests/s\n");
    return 2;
  }
  if (opt.window == 0 || opt.window > 16384 ||
      std::any_of(opt.latency_windows.begin(), opt.latency_windows.end(),
                  [](auto w) { return w == 0 || w > 16384; })) {
    std::fprintf(stderr, "--window: 1..16384\n");
    return 2;
  }

  Json results = Json::array();
  Json create = Json::array();
  Json memory;
  for (std::size_t n : opt.sizes) {
    if (n == 0) continue;
    auto r = run_size(n, opt);
    if (!r) {
      std::fprintf(stderr, "size %zu: %s\n", n, r.error().to_string().c_str());
      return 1;
    }
    for (auto& row : r->refresh) results.push_back(row);
    create.push_back(r->create);
    memory = r->memory;  // the largest size is the one that means something
  }
  Json cluster_setup = "not run (--etcd-members 0 or no --cluster-sizes)";
  if (opt.etcd_members > 0 && !opt.cluster_sizes.empty()) {
#ifdef VMROAM_HAVE_CLUSTER
    cluster_setup = Json{{"etcd_members", opt.etcd_members},
                         {"etcd", "local processes on 127.0.0.1, own ports and data dirs under " + opt.dir},
                         {"max_txn_ops", opt.etcd_max_txn_ops},
                         {"lease_ttl_s", 2}};
    for (std::size_t n : opt.cluster_sizes) {
      if (n == 0) continue;
      auto r = run_cluster(n, opt);
      if (!r && r.error().code == "etcd_missing") {
        std::fprintf(stderr, "cluster rows skipped: %s\n", r.error().to_string().c_str());
        cluster_setup = "skipped: " + r.error().to_string();
        break;
      }
      if (!r) {
        std::fprintf(stderr, "cluster size %zu: %s\n", n, r.error().to_string().c_str());
        return 1;
      }
      for (auto& row : *r) results.push_back(row);
    }
#else
    std::fprintf(stderr, "cluster rows skipped: built without the `cluster` feature\n");
    cluster_setup = "skipped: built without the cluster feature";
#endif
  }

  Json out;
  out["benchmark"] = "ha_registrations";
  out["date"] = utc_now();
  out["machine"] = machine();
  out["kernel"] = "fake";
  out["setup"] =
      Json{{"home_agent", "ha::HomeAgent, real registrar/binding cache/replay/metrics"},
           {"store", "SQLite WAL synchronous=FULL on disk under " + opt.dir},
           {"transport", "UDP 127.0.0.1, daemon::UdpPort (drain per event, one commit per flush)"},
           {"commit", "overlapped: store::CommitPipeline (writer thread); rows /serial wait for each commit"},
           {"requests", "RFC 5563 proxy registration, FA-HA HMAC-SHA-256, refreshing existing bindings"},
           {"kernel_seams", "bench/ha_fake_kernel.hpp (no tunnels, routes or proxy ARP are made)"},
           {"cluster", cluster_setup},
           {"window", opt.window},
           {"log_level", opt.log_level},
           {"quick", opt.quick}};
  // Cluster rows: ≥ 10 000/s durable in etcd.
  out["targets"] =
      Json{{"per_second", 50000}, {"cluster_per_second", 10000}, {"p99_ms", 5}, {"bytes_per_binding", 512}};
  // "<bindings>@w<window>" (closed loop) or "<bindings>@r<rate>" (open loop); cluster rows
  // "cluster:<bindings>@…".
  out["key"] = "point";
  out["summary"] = Json::array({"per_second", "p50_ms", "p99_ms", "mean_batch", "commit_ms_mean", "per_txn",
                                "overlap_gain", "heap_bytes_per_binding", "rss_bytes_per_binding", "load"});
  out["plot"] = Json{{"y", Json::array({"per_second", "p99_ms"})}};
  out["results"] = results;
  out["create"] = create;
  out["memory"] = memory;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
