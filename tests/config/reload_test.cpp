// SIGHUP's pure half for both agents: what a reload takes at once, and which changed keys it
// names as needing a restart (the running value stays for those).
#include <gtest/gtest.h>

#include "foreign-agent/config.hpp"
#include "home-agent/config.hpp"

namespace vmroam {
namespace {

TEST(Reload, HomeAgentTakesPolicyAndNamesWhatNeedsARestart) {
  ha::HaConfig running;
  running.home_interface = "br-home";
  ha::HaConfig next = running;
  EXPECT_TRUE(ha::reload_config(running, next).needs_restart.empty());
  next.max_lifetime_s = 60;
  next.home_interface = "eth9";
  next.route_table = running.route_table + 1;
  next.api_socket = "/run/other.sock";
  next.address = Ipv4::from_octets(192, 0, 2, 9);
  auto r = ha::reload_config(running, next);
  EXPECT_EQ(r.needs_restart, (std::vector<std::string>{"address", "dataplane", "api", "home_interface"}));
  EXPECT_EQ(r.config.max_lifetime_s, 60u);
  EXPECT_EQ(r.config.home_interface, "br-home");
  EXPECT_EQ(r.config.route_table, running.route_table);
  EXPECT_EQ(r.config.address, running.address);
}

TEST(Reload, ForeignAgentTakesTimingAndNamesWhatNeedsARestart) {
  fa::FaConfig running;
  running.vm_interface = "br-vm";
  fa::FaConfig next = running;
  EXPECT_TRUE(fa::reload_config(running, next).needs_restart.empty());
  next.retransmit_initial_ms = 50;
  next.buffer_ms = 10;
  next.rule_priority = running.rule_priority + 1;
  next.gateway_mode = "garp";
  next.store_path = "/tmp/other.db";
  next.port = 4434;
  auto r = fa::reload_config(running, next);
  EXPECT_EQ(r.needs_restart, (std::vector<std::string>{"listen_address/port", "dataplane", "store.path",
                                                       "delivery.gateway_mode"}));
  EXPECT_EQ(r.config.retransmit_initial_ms, 50u);
  EXPECT_EQ(r.config.buffer_ms, 10u);
  EXPECT_EQ(r.config.rule_priority, running.rule_priority);
  EXPECT_EQ(r.config.gateway_mode, running.gateway_mode);
  EXPECT_EQ(r.config.port, running.port);
}

}  // namespace
}  // namespace vmroam
