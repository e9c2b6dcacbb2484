// vmroam-wanem: a user-space WAN delay line between two interfaces (see docs/testing.md).
// Thin main: parse argv, open the delay line, run it, print the final counters as JSON.
#include <iostream>
#include <string_view>
#include <vector>

#include "tools/wanem/delay_line.hpp"
#include "tools/wanem/options.hpp"

int main(int argc, char** argv) {
  using namespace vmroam::wanem;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  auto options = parse_options(args);
  if (!options) {
    std::cerr << "vmroam-wanem: " << options.error().context << " (" << options.error().code
              << "); see --help\n";
    return 2;
  }
  if (options->action == Options::Action::help) {
    std::cout << usage();
    return 0;
  }
  if (options->action == Options::Action::version) {
    std::cout << "vmroam-wanem " << VMROAM_VERSION << '\n';
    return 0;
  }
  auto line = DelayLine::open(*options);
  if (!line) {
    std::cerr << "vmroam-wanem: " << line.error().to_string() << '\n';
    return 1;
  }
  auto ran = (*line)->run();
  // Final counters, also into --json-stats.
  std::cout << (*line)->stats().dump(2) << '\n' << std::flush;
  (*line)->write_stats(false);
  if (!ran) {
    std::cerr << "vmroam-wanem: " << ran.error().to_string() << '\n';
    return 1;
  }
  return 0;
}
