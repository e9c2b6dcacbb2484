// vmroam-fa: what makes the foreign agent's process its own; common/daemon/runner.hpp does
// the rest (argv, --check, signals, reload, exit status).
#include <iostream>

#include "foreign-agent/config.hpp"
#include "foreign-agent/daemon.hpp"

namespace {

constexpr const char* kDescription =
    "The vmroam foreign agent: registers visiting VMs with their home agents (proxy Mobile IPv4),\n"
    "delivers their traffic and reverse-tunnels their replies.";

}  // namespace

int main(int argc, char** argv) {
  using namespace vmroam;
  const daemon::Program<fa::FaConfig> program{.name = "vmroam-fa",
                                              .noun = "foreign_agent",
                                              .version = VMROAM_VERSION,
                                              .description = kDescription,
                                              .parse = fa::parse_config_text,
                                              .to_json = fa::to_json,
                                              .start = fa::start_daemon};
  return daemon::run(program, daemon::arguments(argc, argv), std::cout, std::cerr);
}
