// vmroam-ha: what makes the home agent's process its own; common/daemon/runner.hpp does the
// rest (argv, --check, signals, reload, exit status).
#include <iostream>

#include "home-agent/config.hpp"
#include "home-agent/daemon.hpp"

namespace {

constexpr const char* kDescription =
    "The vmroam home agent: keeps VMs reachable at their home addresses while they are away.";

}  // namespace

int main(int argc, char** argv) {
  using namespace vmroam;
  const daemon::Program<ha::HaConfig> program{.name = "vmroam-ha",
                                              .noun = "home_agent",
                                              .version = VMROAM_VERSION,
                                              .description = kDescription,
                                              .parse = ha::parse_config_text,
                                              .to_json = ha::to_json,
                                              .start = ha::start_daemon};
  return daemon::run(program, daemon::arguments(argc, argv), std::cout, std::cerr);
}
