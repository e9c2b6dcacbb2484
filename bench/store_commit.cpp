// Durable group-commit throughput and latency of the store on this disk: for batches of 1,
// 16 and 256 binding upserts, commits per second and p50/p99/max latency of commit(), each
// commit fsync'd (WAL, synchronous=FULL). Upserts cycle over 10 000 home addresses, so the
// table stays a realistic size and most puts replace a row.
//
//   store_commit [--dir D] [--seconds S] [--max-commits N] [--sizes 1,16,256]
//   → one JSON object on stdout. D defaults to $TMPDIR or /var/tmp (a real disk, not tmpfs).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench/measurement.hpp"
#include "common/store/store.hpp"

int main(int argc, char** argv) {
  using namespace vmroam;
  using Clock = std::chrono::steady_clock;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/var/tmp";
  double seconds = 3.0;
  std::size_t max_commits = 1'000'000;
  std::vector<std::size_t> sizes = {1, 16, 256};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--dir")
      base = argv[i + 1];
    else if (a == "--seconds")
      seconds = std::strtod(argv[i + 1], nullptr);
    else if (a == "--max-commits")
      max_commits = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--sizes")
      sizes = bench::parse_sizes(argv[i + 1]);
  }
  const bench::ScratchDir dir(base, "vmroam-bench");
  if (dir.path().empty()) {
    std::fprintf(stderr, "cannot create a directory under %s\n", base.c_str());
    return 1;
  }
  auto store = store::Store::open(dir.path() + "/bench.db");
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }

  std::printf(
      "{\"benchmark\":\"store_commit\",\"dir\":\"%s\",\"durability\":\"wal+synchronous=full\",\"results\":[",
      base.c_str());
  std::uint64_t next = 0;
  bool first = true;
  int rc = 0;
  for (std::size_t size : sizes) {
    if (size == 0) continue;
    std::vector<double> lat_ms;
    auto start = Clock::now();
    auto deadline =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (lat_ms.size() < max_commits && Clock::now() < deadline) {
      store::Batch b;
      for (std::size_t i = 0; i < size; ++i, ++next) {
        store::BindingRecord r;
        r.home_address = Ipv4(0x0a000000u + static_cast<std::uint32_t>(next % 10000));
        r.care_of_address = Ipv4::from_octets(192, 0, 2, static_cast<std::uint8_t>(1 + next % 7));
        r.foreign_agent = r.care_of_address;
        r.lifetime_granted = 600;
        r.registered_at_unix_ms = 1'700'000'000'000 + static_cast<std::int64_t>(next);
        r.expires_at_unix_ms = r.registered_at_unix_ms + 600'000;
        r.identification = next;
        b.put_binding(std::move(r));
      }
      auto t0 = Clock::now();
      auto res = store->commit(b);
      auto t1 = Clock::now();
      if (!res) {
        std::fprintf(stderr, "%s\n", res.error().to_string().c_str());
        rc = 1;
        break;
      }
      lat_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    double cps = static_cast<double>(lat_ms.size()) / elapsed;
    std::printf(
        "%s{\"batch\":%zu,\"commits\":%zu,\"commits_per_s\":%.1f,\"upserts_per_s\":%.1f,"
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
        first ? "" : ",", size, lat_ms.size(), cps, cps * static_cast<double>(size),
        bench::percentile(lat_ms, 0.50), bench::percentile(lat_ms, 0.99), bench::percentile(lat_ms, 1.0));
    first = false;
  }
  std::printf("]}\n");
  store->close();
  return rc;
}
