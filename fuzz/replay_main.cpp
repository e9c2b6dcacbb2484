// Replays fuzz corpora through a libFuzzer entry point under any compiler.
//
// Every fuzz target in fuzz/ defines LLVMFuzzerTestOneInput; linked with this main instead of
// libFuzzer it becomes an ordinary test: it feeds every file found in the directories (or
// files) named on the command line to the target once, in sorted order, and prints how many
// it replayed. A crash, an abort or a sanitizer report fails the test by itself (Envoy's
// "corpora run as ordinary tests" habit). An empty replay is a failure too: a test must
// assert something, and a missing corpus is a packaging mistake, not a pass.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Optional, as in libFuzzer: a target may define it to set itself up once.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

// Files under `path` (recursively) or `path` itself, sorted so runs are reproducible.
std::vector<std::filesystem::path> inputs_under(const std::filesystem::path& path, std::error_code& ec) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_regular_file(path, ec)) {
    files.push_back(path);
    return files;
  }
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// stdio rather than istreambuf_iterator: g++ 12 -O2 reports a false null dereference in
// <streambuf> for the latter.
bool read_file(const std::filesystem::path& p, std::vector<std::uint8_t>& out) {
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (f == nullptr) return false;
  out.clear();
  std::uint8_t buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  std::size_t replayed = 0;
  std::vector<std::uint8_t> data;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    auto files = inputs_under(argv[i], ec);
    if (ec) {
      std::fprintf(stderr, "error: cannot read corpus %s: %s\n", argv[i], ec.message().c_str());
      return 2;
    }
    for (const auto& f : files) {
      if (!read_file(f, data)) {
        std::fprintf(stderr, "error: cannot read %s\n", f.c_str());
        return 2;
      }
      // Copy into an exact-size heap buffer so AddressSanitizer sees any over-read.
      std::vector<std::uint8_t> exact(data.begin(), data.end());
      LLVMFuzzerTestOneInput(exact.empty() ? nullptr : exact.data(), exact.size());
      ++replayed;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  if (replayed == 0) {
    std::fprintf(stderr, "error: no inputs found in the corpus paths given\n");
    return 1;
  }
  return 0;
}
