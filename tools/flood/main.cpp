// vmroam-flood: a storm of forged and garbage registrations at a home agent, from several
// source addresses, bounded in time, while a well-behaved foreign agent registers and renews
// real VMs through it; prints one JSON object with what was sent and how the real
// registrations fared (docs/security.md "Floods", tests/netns/home-agent/flood.sh,
// bench/scripts/ha_flood.sh).
//
//   vmroam-flood --ha ADDR --sources A[,B…] --rate PER_S --seconds S --spi N --key HEX
//                --hoa ADDR --mac MAC --unknown-hoa ADDR [--kinds K[,K…]] [--port 434]
//                [--threads N]
//                [--legit-from ADDR --legit-spi N --legit-key HEX --legit-hoa ADDR
//                 --legit-vms N --legit-rate PER_S]
//
// The flood: the kinds of tools/flood/mix.hpp in turn, `--rate` datagrams/s in all (0: none), from
// --threads sender threads (default: one per CPU, at most one per source). Sender t owns the
// sources t, t + N, … (a socket each, bound to that address) and its own packets, and sends
// its share of the rate with sendmmsg on its own 1 ms tick: the senders share nothing, so
// the offered rate grows with the CPUs instead of stopping at what one thread's system calls
// can push (one thread made ≈ 46 000/s here). --key/--spi are what the HA holds for the
// sources (so that forged requests reach its authentication and replay checks); --hoa/--mac
// a real VM. The real FA below runs on the main thread.
// The real ones: VM i (0 ≤ i < --legit-vms) has home address --legit-hoa + i and MAC
// 52:54:00:fe:HH:LL (i in two bytes); each is registered in turn, `--legit-rate` requests/s,
// proxy registrations (RFC 5563) signed with the legit FA's key. Like a real FA it sends a
// request again (fresh Identification) when no reply came within 1 s, 3 attempts in all; a
// registration is lost when the last goes unanswered. Latency: due → the reply that settled
// it (retransmissions included); success rate: registrations accepted / started.
// Exit 0 once it has run (what happened is in the JSON); 2 on a usage error; 1 if a socket
// could not be made.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/auth/authenticator.hpp"
#include "common/auth/replay.hpp"
#include "common/core/hex.hpp"
#include "common/wire/extension.hpp"
#include "common/wire/registration.hpp"
#include "tools/flood/mix.hpp"

namespace {

using namespace vmroam;
using Json = nlohmann::ordered_json;
using Steady = std::chrono::steady_clock;

struct Options {
  Ipv4 ha;
  std::uint16_t port = 434;
  std::vector<Ipv4> sources;
  double rate = 50000;
  double seconds = 5;
  flood::Target target;
  std::vector<flood::Kind> kinds{std::begin(flood::kKinds), std::end(flood::kKinds)};
  std::optional<Ipv4> legit_from;
  auth::SecurityAssociation legit_key;
  Ipv4 legit_hoa;
  std::size_t legit_vms = 0;
  double legit_rate = 100;
  std::size_t threads = 0;  // 0: one per CPU, at most one per source
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "vmroam-flood: %s\n(see the head of tools/flood/main.cpp for the options)\n",
               why.c_str());
  std::exit(2);
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return out;
}

Ipv4 address(std::string_view s) {
  auto a = Ipv4::parse(s);
  if (!a) usage("not an IPv4 address: " + std::string(s));
  return *a;
}

auth::SecurityAssociation key_of(std::string_view spi, std::string_view hex) {
  auto k = from_hex(hex);
  if (!k || k->empty()) usage("--key: hex bytes expected");
  return {static_cast<std::uint32_t>(std::strtoul(std::string(spi).c_str(), nullptr, 10)),
          auth::Algorithm::hmac_sha256, *k};
}

Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> v;
  for (int i = 1; i < argc; i += 2) {
    std::string_view a = argv[i];
    if (a.rfind("--", 0) != 0 || i + 1 >= argc) usage("bad argument " + std::string(a));
    v[std::string(a.substr(2))] = argv[i + 1];
  }
  auto need = [&](const char* k) -> std::string {
    auto it = v.find(k);
    if (it == v.end()) usage(std::string("--") + k + " is required");
    return it->second;
  };
  o.ha = address(need("ha"));
  if (v.contains("port")) o.port = static_cast<std::uint16_t>(std::stoul(v["port"]));
  for (const auto& s : split(need("sources"))) o.sources.push_back(address(s));
  o.rate = std::strtod(need("rate").c_str(), nullptr);
  o.seconds = std::strtod(need("seconds").c_str(), nullptr);
  if (o.rate < 0 || o.rate > 2e6 || o.seconds <= 0 || o.seconds > 600)
    usage("--rate 0..2e6, --seconds 0..600");
  o.target = {o.ha,
              o.sources.front(),
              address(need("hoa")),
              {},
              address(need("unknown-hoa")),
              key_of(need("spi"), need("key"))};
  auto mac = MacAddress::parse(need("mac"));
  if (!mac) usage("--mac: not a MAC address");
  o.target.mac = *mac;
  if (v.contains("kinds")) {
    o.kinds.clear();
    for (const auto& k : split(v["kinds"])) {
      auto kind = flood::parse_kind(k);
      if (!kind) usage("--kinds: " + kind.error().to_string());
      o.kinds.push_back(*kind);
    }
  }
  if (v.contains("threads")) {
    o.threads = std::strtoul(v["threads"].c_str(), nullptr, 10);
    if (o.threads == 0 || o.threads > 64) usage("--threads 1..64");
  }
  if (v.contains("legit-from")) {
    o.legit_from = address(v["legit-from"]);
    o.legit_key = key_of(need("legit-spi"), need("legit-key"));
    o.legit_hoa = address(need("legit-hoa"));
    o.legit_vms = std::strtoul(need("legit-vms").c_str(), nullptr, 10);
    if (v.contains("legit-rate")) o.legit_rate = std::strtod(v["legit-rate"].c_str(), nullptr);
    if (o.legit_vms == 0 || o.legit_vms > 65536 || o.legit_rate <= 0)
      usage("--legit-vms 1..65536, --legit-rate > 0");
  }
  return o;
}

// A UDP socket bound to `from` (any port) and connected to the HA.
int connected_socket(Ipv4 from, Ipv4 to, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(from.value());
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_port = htons(port);
  peer.sin_addr.s_addr = htonl(to.value());
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    std::perror(("socket from " + from.to_string()).c_str());
    std::exit(1);
  }
  return fd;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// ---- The flood ------------------------------------------------------------------------

// One sender thread's part of the flood: its sockets, its packets, its counts. Only its own
// thread touches it between start and join.
class Flood {
 public:
  Flood(const Options& o, const std::vector<Ipv4>& sources, std::uint32_t seed) {
    for (Ipv4 s : sources) fds_.push_back(connected_socket(s, o.ha, o.port));
    for (auto k : o.kinds)
      pools_.push_back({k, flood::make_packets(k, o.target, 256, std::chrono::system_clock::now(), seed++)});
    sent_by_kind_.assign(pools_.size(), 0);
  }
  ~Flood() {
    for (int fd : fds_) ::close(fd);
  }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  // Sends `rate` datagrams/s from `start` until `end` on a 1 ms tick.
  void run(double rate, Steady::time_point start, Steady::time_point end) {
    // Behind by more than 50 ms (a busy machine): that part is skipped, not sent in a burst.
    const auto cap = static_cast<std::size_t>(rate * 0.05) + 1;
    for (auto now = Steady::now(); now < end; now = Steady::now()) {
      const auto due = static_cast<std::size_t>(std::chrono::duration<double>(now - start).count() * rate);
      if (due > sent_) send(std::min(due - sent_, cap));
      const timespec tick{0, 1'000'000};
      (void)::nanosleep(&tick, nullptr);
    }
  }
  // Adds this sender's counts to `out` (the fields of report_flood).
  void add_to(Json& out) const {
    out["sent"] = out.value("sent", std::size_t{0}) + sent_;
    out["send_errors"] = out.value("send_errors", std::size_t{0}) + errors_;
    out["sources"] = out.value("sources", std::size_t{0}) + fds_.size();
    for (std::size_t i = 0; i < pools_.size(); ++i) {
      auto& n = out["by_kind"][std::string(flood::to_string(pools_[i].kind))];
      n = n.is_null() ? sent_by_kind_[i] : n.get<std::size_t>() + sent_by_kind_[i];
    }
  }

 private:
  // Sends `n` datagrams now, round robin over kinds and sources (one sendmmsg each).
  void send(std::size_t n) {
    constexpr std::size_t kBatch = 64;
    while (n > 0) {
      const std::size_t m = std::min(n, kBatch);
      std::array<mmsghdr, kBatch> msgs{};
      std::array<iovec, kBatch> iov{};
      std::array<std::size_t, kBatch> kind_of{};
      for (std::size_t i = 0; i < m; ++i) {
        const std::size_t k = next_++ % pools_.size();
        const Bytes& b = pools_[k].packets[(next_ / pools_.size()) % pools_[k].packets.size()];
        iov[i] = {const_cast<std::uint8_t*>(b.data()), b.size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        kind_of[i] = k;
      }
      const int fd = fds_[source_++ % fds_.size()];
      const int done = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(m), 0);
      const std::size_t ok = done > 0 ? static_cast<std::size_t>(done) : 0;
      for (std::size_t i = 0; i < ok; ++i) ++sent_by_kind_[kind_of[i]];
      sent_ += ok;
      errors_ += m - ok;
      n -= m;
    }
  }

  struct Pool {
    flood::Kind kind;
    std::vector<Bytes> packets;
  };
  std::vector<int> fds_;
  std::vector<Pool> pools_;
  std::vector<std::size_t> sent_by_kind_;
  std::size_t next_ = 0, source_ = 0, sent_ = 0, errors_ = 0;
};

// The senders: --threads of them (default one per CPU), at most one per source; sender t
// gets the sources t, t + N, …
std::vector<std::unique_ptr<Flood>> make_senders(const Options& o) {
  const std::size_t cpus = std::max(1U, std::thread::hardware_concurrency());
  const std::size_t n = std::min(o.sources.size(), o.threads ? o.threads : cpus);
  std::vector<std::unique_ptr<Flood>> out;
  for (std::size_t t = 0; t < n; ++t) {
    std::vector<Ipv4> mine;
    for (std::size_t i = t; i < o.sources.size(); i += n) mine.push_back(o.sources[i]);
    out.push_back(std::make_unique<Flood>(o, mine, static_cast<std::uint32_t>(1 + 100 * t)));
  }
  return out;
}

Json report_flood(const std::vector<std::unique_ptr<Flood>>& senders, double seconds) {
  Json out{{"sent", 0}, {"per_second", 0.0}, {"sources", 0}, {"threads", senders.size()}, {"send_errors", 0}};
  for (const auto& f : senders) f->add_to(out);
  out["per_second"] = seconds > 0 ? out["sent"].get<double>() / seconds : 0.0;
  return out;
}

// ---- The real foreign agent -----------------------------------------------------------

class Legit {
 public:
  explicit Legit(const Options& o) : o_(o), fd_(connected_socket(*o.legit_from, o.ha, o.port)) {}
  ~Legit() { ::close(fd_); }
  Legit(const Legit&) = delete;
  Legit& operator=(const Legit&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

  // Starts the next VM's registration, due at `due`.
  void start(Steady::time_point due) {
    ++registrations_;
    send(Attempt{next_vm_++ % o_.legit_vms, due, Steady::now(), 1});
  }
  // As a real FA does (RFC 5944 §3.6.3), a request unanswered after kRetransmit is sent again
  // with a fresh Identification, up to kAttempts in all.
  void retransmit(Steady::time_point now) {
    std::vector<std::uint32_t> late;
    for (const auto& [id, a] : outstanding_)
      if (now - a.sent > kRetransmit) late.push_back(id);
    for (auto id : late) {
      Attempt a = outstanding_.at(id);
      outstanding_.erase(id);
      if (a.number >= kAttempts) {
        ++given_up_;
        continue;
      }
      ++a.number;
      ++retransmissions_;
      a.sent = now;
      send(a);
    }
  }
  void receive() {
    std::array<std::uint8_t, 2048> buf{};
    for (;;) {
      const ssize_t len = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (len < 0) return;
      const auto now = Steady::now();
      auto reply = wire::parse_registration_reply(ByteView(buf.data(), static_cast<std::size_t>(len)));
      if (!reply) continue;
      auto it = outstanding_.find(auth::low32(reply->identification));
      if (it == outstanding_.end()) continue;
      latency_ms_.push_back(std::chrono::duration<double, std::milli>(now - it->second.due).count());
      outstanding_.erase(it);
      if (mip::code::is_accepted(reply->code))
        ++accepted_;
      else
        ++denied_by_code_[reply->code];
    }
  }
  [[nodiscard]] bool waiting() const { return !outstanding_.empty(); }
  [[nodiscard]] Json report() {
    Json denied = Json::object();
    std::size_t d = 0;
    for (auto [code, n] : denied_by_code_) denied[std::to_string(code)] = n, d += n;
    return Json{{"vms", o_.legit_vms},
                {"registrations", registrations_},
                {"accepted", accepted_},
                {"denied", d},
                {"denied_by_code", denied},
                {"retransmissions", retransmissions_},
                {"lost", given_up_ + outstanding_.size()},
                {"success_rate",
                 registrations_ ? static_cast<double>(accepted_) / static_cast<double>(registrations_) : 0.0},
                {"p50_ms", percentile(latency_ms_, 0.5)},
                {"p99_ms", percentile(latency_ms_, 0.99)},
                {"max_ms", percentile(latency_ms_, 1.0)}};
  }

 private:
  static constexpr auto kRetransmit = std::chrono::seconds(1);
  static constexpr int kAttempts = 3;
  struct Attempt {
    std::size_t vm;
    Steady::time_point due;   // when the registration was due (latency runs from here)
    Steady::time_point sent;  // this attempt
    int number;
  };
  void send(const Attempt& a) {
    const std::uint32_t id = ++counter_;
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = 300;
    r.home_address = Ipv4(o_.legit_hoa.value() + static_cast<std::uint32_t>(a.vm));
    r.home_agent = o_.ha;
    r.care_of_address = *o_.legit_from;
    r.identification =
        (std::uint64_t{auth::high32(auth::ntp_from_wall(std::chrono::system_clock::now()))} << 32) | id;
    r.append(wire::PmipPerNodeAuth{}.to_extension());
    r.append(*wire::PmipDeviceId::ethernet(
                  MacAddress({0x52, 0x54, 0x00, 0xfe, static_cast<std::uint8_t>(a.vm >> 8),
                              static_cast<std::uint8_t>(a.vm)}))
                  .to_extension());
    r.append(wire::RevocationSupport{}.to_extension());
    if (!auth::append_auth(r, mip::ext::fa_ha_auth, o_.legit_key)) std::abort();
    const Bytes b = wire::encode(r);
    outstanding_[id] = a;
    (void)::send(fd_, b.data(), b.size(), 0);
  }

  const Options& o_;
  int fd_;
  std::size_t next_vm_ = 0, registrations_ = 0, accepted_ = 0, retransmissions_ = 0, given_up_ = 0;
  std::uint32_t counter_ = 0;
  std::unordered_map<std::uint32_t, Attempt> outstanding_;
  std::map<int, std::size_t> denied_by_code_;
  std::vector<double> latency_ms_;
};

// The real FA's part of the run, on the main thread: its registrations on their own schedule
// until `end`, then up to 4 s more for every retransmission to be answered or given up.
void run_legit(Legit& legit, const Options& o, Steady::time_point start, Steady::time_point end) {
  const auto period =
      std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / o.legit_rate));
  auto due = start;
  for (auto now = Steady::now(); now < end; now = Steady::now()) {
    while (due <= now) {
      legit.start(due);
      due += period;
    }
    legit.receive();
    legit.retransmit(now);
    pollfd p{legit.fd(), POLLIN, 0};
    const timespec tick{0, 1'000'000};
    (void)::ppoll(&p, 1, &tick, nullptr);
  }
  const auto give_up = Steady::now() + std::chrono::seconds(4);
  while (legit.waiting() && Steady::now() < give_up) {
    pollfd p{legit.fd(), POLLIN, 0};
    (void)::poll(&p, 1, 100);
    legit.receive();
    legit.retransmit(Steady::now());
  }
}

// The senders flood for o.seconds, each on its own thread, while the real FA registers.
Json run(const Options& o) {
  auto senders = make_senders(o);
  std::optional<Legit> legit;
  if (o.legit_from) legit.emplace(o);
  const auto start = Steady::now();
  const auto end =
      start + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  const double share = o.rate / static_cast<double>(senders.size());
  for (auto& f : senders) threads.emplace_back([&f, share, start, end] { f->run(share, start, end); });
  if (legit)
    run_legit(*legit, o, start, end);
  else
    std::this_thread::sleep_until(end);
  for (auto& t : threads) t.join();
  // The flood's time: the senders stop at their first tick past `end` (the real FA may have
  // waited on for its replies since).
  const double seconds = std::chrono::duration<double>(end - start).count();
  Json out{{"seconds", seconds}, {"flood", report_flood(senders, seconds)}};
  if (legit) out["legit"] = legit->report();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::printf("%s\n", run(o).dump().c_str());
  return 0;
}
