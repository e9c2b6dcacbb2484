// EbpfObject (common/dataplane/ebpf_loader.hpp): maps pinned by name and reused by the next
// load with their contents (a restart), unpinning, atomic replacement of an attached program
// by a successor's, detaching on a clean stop, and the errors for bad places. Runs in the
// private namespaces of ebpf_test_env.hpp; root only, skipped (saying why) otherwise.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <string>

#include "common/dataplane/ebpf_loader.hpp"
#include "common/dataplane/ebpf_maps.hpp"
#include "tests/unit/dataplane/ebpf_test_env.hpp"

namespace vmroam::dataplane {
namespace {

EbpfLoaderConfig in(const std::string& name) {
  return {test::EbpfTestEnv::bpffs(), test::EbpfTestEnv::bpffs() + "/" + name};
}

// The id of the program at handle 1, priority 1 of the hook, or 0 when there is none.
std::uint32_t attached_id(int ifindex, bpf_tc_attach_point side) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = side;
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = 1;
  opts.priority = 1;
  return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
}

std::uint32_t program_id(const EbpfObject& o, EbpfProgram p) {
  bpf_prog_info info{};
  __u32 len = sizeof info;
  return bpf_obj_get_info_by_fd(o.program_fd(p), &info, &len) == 0 ? info.id : 0;
}

class EbpfLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VMROAM_REQUIRE_EBPF_ENV();
    auto probe = EbpfObject::load(in("probe"));
    if (!probe && probe.error().code == "bpf_unavailable")
      GTEST_SKIP() << "SKIP: " << probe.error().to_string();
    ASSERT_TRUE(probe) << probe.error().to_string();
    ASSERT_TRUE(probe.value()->unpin_maps());
  }
};

TEST_F(EbpfLoaderTest, PinnedMapsAreReusedWithTheirContentsUntilUnpinned) {
  const EbpfRoute route{Ipv4(0x0a01000a), Ipv4(0xc6336407), {}, true};
  {
    auto first = EbpfObject::load(in("restart"));
    ASSERT_TRUE(first) << first.error().to_string();
    EbpfMaps maps(*first.value());
    ASSERT_TRUE(maps.put_peer({Ipv4(0xc6336407), VMR_ENCAP_UDP, 4434}));
    ASSERT_TRUE(maps.put_route(route));
  }  // the agent is gone; its pins are not
  auto second = EbpfObject::load(in("restart"));
  ASSERT_TRUE(second) << second.error().to_string();
  EbpfMaps maps(*second.value());
  auto routes = maps.routes();
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes.value().size(), 1u);
  EXPECT_EQ(routes.value()[0], route);
  auto peers = maps.peers();
  ASSERT_TRUE(peers);
  ASSERT_EQ(peers.value().size(), 1u);
  EXPECT_EQ(peers.value()[0].encap, VMR_ENCAP_UDP);
  EXPECT_EQ(peers.value()[0].udp_port, 4434);

  ASSERT_TRUE(second.value()->unpin_maps());
  second.value().reset();
  auto third = EbpfObject::load(in("restart"));
  ASSERT_TRUE(third) << third.error().to_string();
  auto none = EbpfMaps(*third.value()).routes();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none.value().empty());
  ASSERT_TRUE(third.value()->unpin_maps());
}

TEST_F(EbpfLoaderTest, SuccessorReplacesTheProgramAtomicallyAndACleanStopDetaches) {
  const int ifindex = test::EbpfTestEnv::other_ifindex();
  auto first = EbpfObject::load(in("replace"));
  ASSERT_TRUE(first) << first.error().to_string();
  ASSERT_TRUE(first.value()->attach(ifindex, EbpfProgram::ha_home_in));
  ASSERT_TRUE(first.value()->attach(ifindex, EbpfProgram::ha_tun_out));
  EXPECT_EQ(attached_id(ifindex, BPF_TC_INGRESS), program_id(*first.value(), EbpfProgram::ha_home_in));
  EXPECT_EQ(attached_id(ifindex, BPF_TC_EGRESS), program_id(*first.value(), EbpfProgram::ha_tun_out));

  auto second = EbpfObject::load(in("replace"));
  ASSERT_TRUE(second) << second.error().to_string();
  ASSERT_TRUE(second.value()->attach(ifindex, EbpfProgram::ha_home_in));
  const std::uint32_t successor = program_id(*second.value(), EbpfProgram::ha_home_in);
  EXPECT_NE(successor, program_id(*first.value(), EbpfProgram::ha_home_in));
  EXPECT_EQ(attached_id(ifindex, BPF_TC_INGRESS), successor);

  first.value()->keep_attached();  // a restart: the predecessor leaves without detaching
  first.value().reset();
  EXPECT_EQ(attached_id(ifindex, BPF_TC_INGRESS), successor);

  second.value().reset();  // a clean stop
  EXPECT_EQ(attached_id(ifindex, BPF_TC_INGRESS), 0u);

  auto last = EbpfObject::load(in("replace"));
  ASSERT_TRUE(last);
  ASSERT_TRUE(last.value()->detach(ifindex, EbpfProgram::ha_tun_out));  // the predecessor's, kept
  EXPECT_EQ(attached_id(ifindex, BPF_TC_EGRESS), 0u);
  ASSERT_TRUE(last.value()->unpin_maps());
}

TEST_F(EbpfLoaderTest, BadPlacesAreNamed) {
  auto outside = EbpfObject::load({test::EbpfTestEnv::bpffs(), "/proc/vmroam-not-bpffs"});
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, "bpffs");
  EXPECT_NE(outside.error().context.find("/proc/vmroam-not-bpffs"), std::string::npos);

  auto object = EbpfObject::load(in("errors"));
  ASSERT_TRUE(object) << object.error().to_string();
  auto bad = object.value()->attach(999999, EbpfProgram::fa_vm_in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "tc_attach");
  EXPECT_NE(bad.error().context.find("vmr_fa_vm_in on ifindex 999999"), std::string::npos);
  ASSERT_TRUE(object.value()->unpin_maps());
}

}  // namespace
}  // namespace vmroam::dataplane
