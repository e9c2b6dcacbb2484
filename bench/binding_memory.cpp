// Heap bytes per binding in the HA's BindingCache at several sizes (target ≤ 512 B at
// 100 k bindings). Measures glibc's in-use heap (mallinfo2: allocator overhead included)
// before and after filling a cache, all with finite lifetimes so the expiry index is full.
//
//   binding_memory [--sizes 1,10000,100000]   → one JSON object on stdout
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/measurement.hpp"
#include "common/binding/binding_cache.hpp"

int main(int argc, char** argv) {
  using namespace vmroam;
  using bench::heap_in_use;
  std::vector<std::size_t> sizes = {1, 10000, 100000};
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::string_view(argv[i]) == "--sizes") sizes = bench::parse_sizes(argv[i + 1]);

  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  std::printf("{\"benchmark\":\"binding_memory\",\"target_bytes_per_binding\":512,\"results\":[");
  bool first = true;
  for (std::size_t n : sizes) {
    if (n == 0) continue;
    std::size_t before = heap_in_use();
    auto cache = std::make_unique<binding::BindingCache>();
    for (std::size_t i = 0; i < n; ++i) {
      auto hoa = Ipv4(0x0a000000u + static_cast<std::uint32_t>(i) + 1);
      auto coa = Ipv4(0xc0000200u + static_cast<std::uint32_t>(i % 200) + 1);
      binding::Registration r{
          hoa, coa, coa, static_cast<std::uint16_t>(60 + i % 1000), 0x02, binding::Encapsulation::ipip, i};
      auto out = cache->upsert(r, t0 + std::chrono::milliseconds(i));
      if (!out) {
        std::fprintf(stderr, "upsert failed: %s\n", out.error().to_string().c_str());
        return 1;
      }
    }
    std::size_t after = heap_in_use();
    double per = static_cast<double>(after - before) / static_cast<double>(n);
    std::printf("%s{\"bindings\":%zu,\"heap_bytes\":%zu,\"bytes_per_binding\":%.1f,\"sizeof_binding\":%zu}",
                first ? "" : ",", n, after - before, per, sizeof(binding::Binding));
    first = false;
    if (cache->size() != n) return 1;
  }
  std::printf("]}\n");
  return 0;
}
