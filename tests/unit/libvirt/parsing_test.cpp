// The pure readers of vmroam-libvirt: domain XML (metadata id, interface MACs), libvirt's
// lifecycle numbers and QEMU events into coupling events, and the configuration.
#include <libvirt/libvirt.h>

#include <gtest/gtest.h>

#include "libvirt/config.hpp"
#include "libvirt/domain_xml.hpp"
#include "libvirt/events.hpp"

namespace vmroam::virt {
namespace {

using K = CouplingEvent::Kind;

TEST(DomainXml, MetadataId) {
  EXPECT_EQ(vm_id_from_metadata("<vmroam:vm xmlns:vmroam='https://vmroam.example/xmlns/1' id='vm1'/>"),
            "vm1");
  EXPECT_EQ(vm_id_from_metadata("<vm xmlns=\"https://vmroam.example/xmlns/1\" id=\"web-7\"/>\n"), "web-7");
  EXPECT_EQ(vm_id_from_metadata("<?xml version='1.0'?><vmroam:vm id = 'a'/>"), "a");
  EXPECT_EQ(vm_id_from_metadata("<vmroam:vm xmlns:vmroam='x' vmid='nope'/>"), std::nullopt);
  EXPECT_EQ(vm_id_from_metadata("<vmroam:vm id=''/>"), std::nullopt);
  EXPECT_EQ(vm_id_from_metadata("<vmroam:vm id='unterminated/>"), std::nullopt);
  EXPECT_EQ(vm_id_from_metadata(""), std::nullopt);
  EXPECT_EQ(vm_id_from_metadata("not xml"), std::nullopt);
}

TEST(DomainXml, InterfaceMacs) {
  const char* xml = R"(<domain type='qemu'><name>g</name><devices>
    <interface type='ethernet'><mac address='52:54:00:12:34:56'/><target dev='t'/></interface>
    <interface type='bridge'><mac address="52:54:00:AB:CD:EF"/></interface>
    <interface type='bridge'><mac address='garbage'/></interface>
  </devices></domain>)";
  auto macs = interface_macs(xml);
  ASSERT_EQ(macs.size(), 2u);
  EXPECT_EQ(macs[0].to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(macs[1].to_string(), "52:54:00:ab:cd:ef");
  EXPECT_TRUE(interface_macs("<domain/>").empty());
  EXPECT_TRUE(interface_macs("<mac address='52:54:00:12:34:56'").empty());
}

TEST(Events, Lifecycle) {
  auto started = from_lifecycle(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_MIGRATED);
  ASSERT_TRUE(started);
  EXPECT_EQ(started->kind, K::incoming_started);
  EXPECT_FALSE(from_lifecycle(VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED));
  EXPECT_EQ(from_lifecycle(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_MIGRATED)->kind,
            K::domain_gone);
  EXPECT_EQ(from_lifecycle(VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_FAILED)->kind, K::domain_gone);
  EXPECT_EQ(from_lifecycle(VIR_DOMAIN_EVENT_CRASHED, 0)->kind, K::domain_gone);
  // libvirt's own view of the pause is not used: QEMU's STOP carries the exact time.
  EXPECT_FALSE(from_lifecycle(VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED));
  EXPECT_FALSE(from_lifecycle(VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_MIGRATED));
  EXPECT_EQ(lifecycle_name(VIR_DOMAIN_EVENT_STARTED, 1), "STARTED/1");
  EXPECT_EQ(lifecycle_name(99, 2), "EVENT/2");
}

TEST(Events, QemuEvents) {
  auto stop = from_qemu_event("STOP", 1'700'000'000, 250'001, "");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->kind, K::vcpus_stopped);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::microseconds>(stop->at.time_since_epoch()).count(),
            1'700'000'000'250'001LL);
  EXPECT_EQ(from_qemu_event("RESUME", 1, 0, "{}")->kind, K::vcpus_resumed);
  auto mig = from_qemu_event("MIGRATION", 1, 0, R"({"status":"pre-switchover"})");
  ASSERT_TRUE(mig);
  EXPECT_EQ(mig->kind, K::migration_status);
  EXPECT_EQ(mig->status, "pre-switchover");
  EXPECT_FALSE(from_qemu_event("MIGRATION", 1, 0, "{not json"));
  EXPECT_FALSE(from_qemu_event("MIGRATION", 1, 0, R"({"status":3})"));
  EXPECT_FALSE(from_qemu_event("MIGRATION_PASS", 1, 0, R"({"pass":2})"));
  EXPECT_FALSE(from_qemu_event("NIC_RX_FILTER_CHANGED", 1, 0, "{}"));
}

constexpr const char* kGood = R"({
  "libvirt": {"uri": "qemu+unix:///system?socket=/tmp/x", "reconnect_initial_ms": 100, "reconnect_max_ms": 2000},
  "site": "foreign",
  "home_agent": {"api": "/run/vmroam/ha.sock"},
  "sites": {"home": {}, "foreign": {"fa": "/run/vmroam/fa.sock"}, "foreign2": {"fa": "https://192.0.2.4:8186", "token": "t"}},
  "api_tls": {"ca_file": "/etc/vmroam/api-ca.pem", "cert_file": "/etc/vmroam/c.pem", "key_file": "/etc/vmroam/k.pem"},
  "vms": [{"id": "vm1", "mac": "52:54:00:12:34:56", "home_address": "10.1.0.10", "key": "00ff"}]
})";

TEST(Config, Good) {
  auto c = parse_config_text(kGood);
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->site, "foreign");
  EXPECT_EQ(c->reconnect_initial.count(), 100);
  ASSERT_TRUE(c->local_site().fa);
  EXPECT_FALSE(c->sites.at("home").fa);
  ASSERT_NE(c->vm_by_id("vm1"), nullptr);
  EXPECT_EQ(c->vm_by_mac(*MacAddress::parse("52:54:00:12:34:56"))->id, "vm1");
  EXPECT_EQ(c->vm_by_id("vm2"), nullptr);
  EXPECT_EQ(c->vms[0].visitor["home_address"], "10.1.0.10");
  auto j = to_json(*c);
  EXPECT_EQ(j["vms"][0]["key"], "<redacted>");
  EXPECT_EQ(j["sites"]["foreign2"]["token"], "<redacted>");
  EXPECT_EQ(j["home_agent"]["api"], "/run/vmroam/ha.sock");
  EXPECT_TRUE(c->sites.at("foreign2").fa->tls);
  EXPECT_EQ(j["sites"]["foreign2"]["fa"], "https://192.0.2.4:8186");
  EXPECT_EQ(c->api_tls.ca_file, "/etc/vmroam/api-ca.pem");
  EXPECT_EQ(j["api_tls"]["key_file"], "/etc/vmroam/k.pem");
  // The normalised form parses back to the same thing (keys redacted aside).
  auto again = parse_config(j);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(to_json(*again), j);
}

TEST(Config, ErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* needle;
  } cases[] = {
      {R"({"sites": {"home": {}}})", "site"},
      {R"({"site": "x", "sites": {"home": {}}})", "site: 'x'"},
      {R"({"site": "home"})", "sites"},
      {R"({"site": "home", "sites": {"home": {"fa": "ftp://x"}}})", "sites.home.fa"},
      {R"({"site": "home", "sites": {"home": {"fa": "/s", "tokn": "t"}}})", "tokn"},
      {R"({"site": "home", "sites": {"home": {}}, "vms": [{"mac": "52:54:00:12:34:56"}]})", "vms[0].id"},
      {R"({"site": "home", "sites": {"home": {}}, "vms": [{"id": "a", "mac": "52:54"}]})", "vms[0].mac"},
      {R"({"site": "home", "sites": {"home": {}}, "vms": [{"id": "a", "mac": "52:54:00:12:34:56"},
         {"id": "a", "mac": "52:54:00:12:34:57"}]})",
       "duplicate"},
      {R"({"site": "home", "sites": {"home": {}}, "libvirt": {"reconnect_initial_ms": 5000, "reconnect_max_ms": 100}})",
       "reconnect_max_ms"},
      {R"({"site": "home", "sites": {"home": {}}, "home_agent": {}})", "home_agent.api"},
      {R"({"site": "home", "sites": {"home": {}}, "extra": 1})", "extra"},
      {R"({"site": "home", "sites": {"home": {}}, "api_tls": {"cert_file": "/c.pem"}})",
       "api_tls: cert_file and key_file"},
      {R"({"site": "home", "sites": {"home": {}}, "api_tls": {"ca": "/c.pem"}})", "api_tls.ca"},
      {R"([1])", "object"},
      {R"({"site": )", "line"},
  };
  for (const auto& c : cases) {
    auto r = parse_config_text(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().to_string().find(c.needle), std::string::npos) << r.error().to_string();
  }
}

}  // namespace
}  // namespace vmroam::virt
