// netns test of the real kernel objects. Runs in a private network namespace of its own
// (unshare(CLONE_NEWNET) at start: nothing to name, nothing left behind when it exits):
//
//   [ this process's netns ]
//     vmrt0 ──veth── vmrt1        (routes, proxy entries and rules hang off vmrt0)
//
// Checks: objects carry our tags and are visible to `ip -j … proto 186`; RAII removes them;
// list_owned() finds what a "crashed" child (_exit without destructors) left behind; the
// kernel driver reports the missing ipip module with the documented message.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/dataplane/driver_factory.hpp"
#include "common/dataplane/kernel_driver.hpp"
#include "common/dataplane/netlink.hpp"

namespace vmroam::dataplane {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  ::pclose(p);
  return out;
}

Ipv4 ip(const char* s) { return *Ipv4::parse(s); }

class NetlinkNetns : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = LibnlNetlink::create();
    ASSERT_TRUE(n) << n.error().to_string();
    nl_ = std::move(*n);
    auto l = nl_->link("vmrt0");
    ASSERT_TRUE(l) << l.error().to_string();
    ifindex_ = l->ifindex;
  }
  std::unique_ptr<LibnlNetlink> nl_;
  int ifindex_ = 0;
};

TEST_F(NetlinkNetns, RoutesAreTaggedVisibleAndRemovedByRaii) {
  {
    auto r = OwnedRoute::create(*nl_, Route{Ipv4Prefix{ip("10.1.0.10"), 32}, ifindex_, kMainTable});
    ASSERT_TRUE(r) << r.error().to_string();
    auto t = OwnedRoute::create(*nl_, Route{Ipv4Prefix{Ipv4(), 0}, ifindex_, kDefaultPolicyTable});
    ASSERT_TRUE(t) << t.error().to_string();
    std::string shown = run("ip -j route show proto 186 table all");
    EXPECT_NE(shown.find("\"dst\":\"10.1.0.10\""), std::string::npos) << shown;
    EXPECT_NE(shown.find("\"table\":\"186\""), std::string::npos) << shown;
    EXPECT_NE(shown.find("\"dev\":\"vmrt0\""), std::string::npos) << shown;
    // A second identical route is adopted, not duplicated.
    auto again = OwnedRoute::create(*nl_, r->get());
    ASSERT_TRUE(again);
    (void)again->release();
  }
  EXPECT_EQ(run("ip -j route show proto 186 table all"), "[]\n");
}

TEST_F(NetlinkNetns, ProxyNeighbourAndRule) {
  {
    auto p = OwnedProxyNeighbour::create(*nl_, ProxyNeighbour{ip("10.1.0.10"), ifindex_});
    ASSERT_TRUE(p) << p.error().to_string();
    auto r = OwnedRule::create(*nl_, PolicyRule{Ipv4Prefix{ip("10.1.0.10"), 32}, "vmrt1", 186, 1860});
    ASSERT_TRUE(r) << r.error().to_string();
    std::string proxies = run("ip -j neigh show proxy dev vmrt0");
    EXPECT_NE(proxies.find("10.1.0.10"), std::string::npos) << proxies;
    std::string rules = run("ip -j rule show priority 1860");
    EXPECT_NE(rules.find("\"src\":\"10.1.0.10\""), std::string::npos) << rules;
    EXPECT_NE(rules.find("\"iif\":\"vmrt1\""), std::string::npos) << rules;
    EXPECT_NE(rules.find("\"table\":\"186\""), std::string::npos) << rules;
  }
  EXPECT_EQ(run("ip -j neigh show proxy dev vmrt0").find("10.1.0.10"), std::string::npos);
  EXPECT_EQ(run("ip -j rule show priority 1860"), "[]\n");
}

// IPv6 proxy entries (the home agent's proxy NDP for dual-stack VMs): tagged, visible to
// `ip -6 neigh show proxy`, removed by RAII, and found by list_owned() after a "crash".
TEST_F(NetlinkNetns, ProxyNeighbour6IsTaggedListedAndRemoved) {
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel";
  const Ipv6 a = *Ipv6::parse("2001:db8:1::10");
  {
    auto p = OwnedProxyNeighbour6::create(*nl_, ProxyNeighbour6{a, ifindex_});
    ASSERT_TRUE(p) << p.error().to_string();
    std::string proxies = run("ip -6 -j neigh show proxy dev vmrt0");
    EXPECT_NE(proxies.find("2001:db8:1::10"), std::string::npos) << proxies;
    auto owned = nl_->list_owned({});
    ASSERT_TRUE(owned) << owned.error().to_string();
    EXPECT_EQ(owned->proxies6, (std::vector<ProxyNeighbour6>{{a, ifindex_}})) << "found by its tag alone";
    EXPECT_TRUE(owned->proxies.empty()) << "the IPv4 list holds no IPv6 entry";
  }
  EXPECT_EQ(run("ip -6 -j neigh show proxy dev vmrt0").find("2001:db8:1::10"), std::string::npos);
}

// IPv6 routes and rules (the data plane of dual-stack VMs, docs/dataplane.md "IPv6 (dual-stack
// VMs)"): tagged, visible to `ip -6`, listed by list_owned(), removed by RAII.
TEST_F(NetlinkNetns, Ipv6RoutesAndRulesAreTaggedListedAndRemoved) {
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) GTEST_SKIP() << "no IPv6 in this kernel";
  ASSERT_EQ(run("sysctl -q -w net.ipv6.conf.vmrt0.disable_ipv6=0 && echo ok"), "ok\n");
  const Ipv6 a = *Ipv6::parse("2001:db8:1::10");
  {
    auto r = OwnedRoute6::create(*nl_, Route6{Ipv6Prefix{a, 128}, ifindex_, kMainTable});
    ASSERT_TRUE(r) << r.error().to_string();
    auto d = OwnedRoute6::create(*nl_, Route6{Ipv6Prefix{Ipv6(), 0}, ifindex_, kDefaultPolicyTable});
    ASSERT_TRUE(d) << d.error().to_string();
    auto rule = OwnedRule6::create(*nl_, PolicyRule6{Ipv6Prefix{a, 128}, "vmrt1", 186, 1861});
    ASSERT_TRUE(rule) << rule.error().to_string();
    std::string shown = run("ip -6 -j route show proto 186 table all");
    EXPECT_NE(shown.find("\"dst\":\"2001:db8:1::10\""), std::string::npos) << shown;
    EXPECT_NE(shown.find("\"table\":\"186\""), std::string::npos) << shown;
    std::string rules = run("ip -6 -j rule show priority 1861");
    EXPECT_NE(rules.find("\"src\":\"2001:db8:1::10\""), std::string::npos) << rules;
    EXPECT_NE(rules.find("\"iif\":\"vmrt1\""), std::string::npos) << rules;
    auto owned = nl_->list_owned({});
    ASSERT_TRUE(owned) << owned.error().to_string();
    EXPECT_NE(std::find(owned->routes6.begin(), owned->routes6.end(), r->get()), owned->routes6.end());
    EXPECT_NE(std::find(owned->routes6.begin(), owned->routes6.end(), d->get()), owned->routes6.end());
    EXPECT_EQ(owned->rules6, (std::vector<PolicyRule6>{rule->get()}));
    EXPECT_TRUE(owned->routes.empty()) << "the IPv4 lists hold no IPv6 object";
    EXPECT_TRUE(owned->rules.empty());
  }
  EXPECT_EQ(run("ip -6 -j route show proto 186 table all"), "[]\n");
  EXPECT_EQ(run("ip -6 -j rule show priority 1861"), "[]\n");
}

TEST_F(NetlinkNetns, ListOwnedFindsWhatACrashedPredecessorLeft) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto nl = LibnlNetlink::create();
    if (!nl) ::_exit(2);
    auto r = OwnedRoute::create(**nl, Route{Ipv4Prefix{ip("10.1.0.20"), 32}, ifindex_, kMainTable});
    auto p = OwnedProxyNeighbour::create(**nl, ProxyNeighbour{ip("10.1.0.20"), ifindex_});
    auto u = OwnedRule::create(**nl, PolicyRule{Ipv4Prefix{ip("10.1.0.20"), 32}, "", 186, 1861});
    ::_exit(r && p && u ? 0 : 3);  // a crash: no destructors run
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  auto owned = nl_->list_owned({});
  ASSERT_TRUE(owned) << owned.error().to_string();
  ASSERT_EQ(owned->routes.size(), 1u);
  EXPECT_EQ(owned->routes[0], (Route{Ipv4Prefix{ip("10.1.0.20"), 32}, ifindex_, kMainTable}));
  ASSERT_EQ(owned->proxies.size(), 1u);  // found by its NDA_PROTOCOL tag alone
  EXPECT_EQ(owned->proxies[0], (ProxyNeighbour{ip("10.1.0.20"), ifindex_}));
  ASSERT_EQ(owned->rules.size(), 1u);
  EXPECT_EQ(owned->rules[0], (PolicyRule{Ipv4Prefix{ip("10.1.0.20"), 32}, "", 186, 1861}));
  bool found_link = false;
  for (const auto& l : owned->links) found_link |= l.name == "vmrt0";
  EXPECT_TRUE(found_link);

  // Reconcile: adopt and drop them all.
  for (auto& r : owned->routes) EXPECT_TRUE(OwnedRoute::adopt(*nl_, r).reset());
  for (auto& p : owned->proxies) EXPECT_TRUE(OwnedProxyNeighbour::adopt(*nl_, p).reset());
  for (auto& u : owned->rules) EXPECT_TRUE(OwnedRule::adopt(*nl_, u).reset());
  auto after = nl_->list_owned({});
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->routes.empty());
  EXPECT_TRUE(after->proxies.empty());
  EXPECT_TRUE(after->rules.empty());
}

TEST_F(NetlinkNetns, LinkLookupGivesIfindexMacMtuAddresses) {
  ASSERT_EQ(std::system("ip addr add 10.9.9.1/24 dev vmrt0"), 0);
  auto l = nl_->link(ifindex_);
  ASSERT_TRUE(l) << l.error().to_string();
  EXPECT_EQ(l->name, "vmrt0");
  EXPECT_FALSE(l->mac.is_zero());
  EXPECT_EQ(l->mtu, 1500u);
  ASSERT_EQ(l->addresses.size(), 1u);
  EXPECT_EQ(l->addresses[0].to_string(), "10.9.9.1/24");
  ASSERT_TRUE(nl_->set_link(ifindex_, true, 1400));
  EXPECT_EQ(nl_->link("vmrt0")->mtu, 1400u);
  EXPECT_FALSE(nl_->link("vmrnosuch"));
}

TEST_F(NetlinkNetns, KernelDriverReportsTheMissingIpipModule) {
  if (KernelDriver::ipip_available()) GTEST_SKIP() << "ipip module present: nothing to report";
  boost::asio::io_context io;
  DriverConfig c;
  c.name = "kernel";
  auto d = make_tunnel_driver(c, io, *nl_);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "ipip_unavailable");
  EXPECT_EQ(d.error().context, "kernel module ipip not available (use dataplane driver \"userspace\")");
  // The libnl path reaches the same conclusion from the kernel's answer.
  auto link = nl_->add_ipip_link("vmripip0", ip("10.9.9.1"), ip("10.9.9.2"), 64);
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, "ipip_unavailable");
  c.name = "bpf";
  auto u = make_tunnel_driver(c, io, *nl_);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code, "unknown_driver");
}

// "auto" takes the eBPF driver where it loads; where it cannot (here: no bpffs can be had at
// the configured place) it takes the userspace driver and says why exactly once.
TEST_F(NetlinkNetns, AutoFallsBackToUserspaceAndSaysWhyOnce) {
  boost::asio::io_context io;
  DriverConfig c;
  c.name = "auto";
  c.local = ip("10.9.9.1");
  c.tun_name = "vmrauto0";
  c.bpffs = "/proc/vmroam-no-bpffs";
  c.udp_send = [](Ipv4, std::uint16_t, ByteView) { return true; };
  std::vector<Error> why;
  c.on_fallback = [&](const Error& e) { why.push_back(e); };
  auto d = make_tunnel_driver(c, io, *nl_);
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ((*d)->name(), "userspace");
  ASSERT_EQ(why.size(), 1u);
#ifdef VMROAM_HAVE_BPF
  EXPECT_EQ(why[0].code, "bpffs") << why[0].to_string();
#else
  EXPECT_EQ(why[0].code, "ebpf_unavailable") << why[0].to_string();
#endif
  // Asked for by name, the eBPF driver fails instead.
  c.name = "ebpf";
  EXPECT_FALSE(make_tunnel_driver(c, io, *nl_));
  EXPECT_EQ(why.size(), 1u);
}

}  // namespace
}  // namespace vmroam::dataplane

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "SKIP: needs root (CAP_NET_ADMIN) for network namespaces\n");
    return 77;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    std::perror("SKIP: unshare(CLONE_NEWNET) (network namespaces)");
    return 77;
  }
  if (std::system("ip link set lo up && ip link add vmrt0 type veth peer name vmrt1 && "
                  "ip link set vmrt0 up && ip link set vmrt1 up") != 0) {
    std::fprintf(stderr, "SKIP: veth\n");
    return 77;
  }
  return RUN_ALL_TESTS();
}
