// What the benchmark programs share: their --sizes list, glibc's heap in use, percentiles of
// a latency series, and a scratch directory that goes away with everything in it.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace vmroam::bench {

// "1,16,256" → {1, 16, 256}.
inline std::vector<std::size_t> parse_sizes(std::string_view s) {
  std::vector<std::size_t> out;
  while (!s.empty()) {
    auto comma = s.find(',');
    out.push_back(std::strtoull(std::string(s.substr(0, comma)).c_str(), nullptr, 10));
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
  }
  return out;
}

// Heap bytes in use (mallinfo2): the allocator's overhead included, mmap'd chunks too.
inline std::size_t heap_in_use() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// The p-quantile (0..1) by nearest rank; 0 for no samples. Sorts `v`.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// A fresh directory `base`/`prefix`-XXXXXX (mkdtemp), removed with everything in it when this
// goes out of scope; path() is empty if it could not be made.
class ScratchDir {
 public:
  ScratchDir(const std::string& base, const std::string& prefix) : path_(base + "/" + prefix + "-XXXXXX") {
    if (!mkdtemp(path_.data())) path_.clear();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vmroam::bench
