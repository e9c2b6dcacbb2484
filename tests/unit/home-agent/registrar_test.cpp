// Registrar: rows per check of home-agent/registrar.hpp (in that order: each check has the
// rows that pass it and the rows it denies), each asserting the reply code, the verdict, the
// reason name, and that the reply itself is well formed and authenticated.
#include <gtest/gtest.h>

#include <functional>

#include "common/auth/authenticator.hpp"
#include "common/wire/dsmip.hpp"
#include "common/wire/registration.hpp"
#include "home-agent/registrar.hpp"

namespace vmroam::ha {
namespace {

using namespace std::chrono_literals;

const Ipv4 kHa = *Ipv4::parse("192.0.2.1");
const Ipv4 kFa = *Ipv4::parse("192.0.2.2");
const Ipv4 kFa2 = *Ipv4::parse("192.0.2.3");
const Ipv4 kStranger = *Ipv4::parse("203.0.113.9");
const Ipv4 kNat = *Ipv4::parse("198.51.100.77");
const Ipv4 kHoa = *Ipv4::parse("10.1.0.10");
const Ipv4 kHoa2 = *Ipv4::parse("10.1.0.11");
const MacAddress kMac = *MacAddress::parse("52:54:00:12:34:56");
const Ipv6 kHoa6a = *Ipv6::parse("2001:db8:1::10");
const Ipv6 kHoa6b = *Ipv6::parse("2001:db8:1::11");
const WallTime kNow = WallTime{} + std::chrono::seconds(1'790'000'000);

auth::SecurityAssociation sa(std::uint32_t spi, std::uint8_t fill,
                             auth::Algorithm alg = auth::Algorithm::hmac_sha256) {
  return {spi, alg, Bytes(32, fill)};
}

struct Env {
  RegistrarSettings settings{kHa, *Ipv4Prefix::parse("10.1.0.0/24"), 600, 7s};
  VmDirectory vms;
  std::unordered_map<Ipv4, ForeignAgent> fas;
  Env() {
    vms.put(Vm{"vm1", kHoa, kMac, {kFa}, std::nullopt, {kHoa6a, kHoa6b}});
    vms.put(Vm{
        "vm2", kHoa2, *MacAddress::parse("52:54:00:00:00:02"), {}, sa(500, 0x22, auth::Algorithm::hmac_md5)});
    fas[kFa] = ForeignAgent{kFa, sa(1000, 0xaa)};
    fas[kFa2] = ForeignAgent{kFa2, sa(1001, 0xbb)};
  }
};

// A proxy registration as our FA sends it: PMIPv4 47 (method FA-HA), device ID, T bit,
// FA-HA last.
wire::RegistrationRequest proxy_request(Ipv4 coa = kFa, std::uint64_t id = auth::ntp_from_wall(kNow)) {
  wire::RegistrationRequest r;
  r.flags = mip::request_flag::T;
  r.lifetime = 300;
  r.home_address = kHoa;
  r.home_agent = kHa;
  r.care_of_address = coa;
  r.identification = id;
  r.append(wire::PmipPerNodeAuth{}.to_extension());
  r.append(*wire::PmipDeviceId::ethernet(kMac).to_extension());
  return r;
}

void sign(wire::RegistrationRequest& r, std::uint8_t type, const auth::SecurityAssociation& key) {
  ASSERT_TRUE(auth::append_auth(r, type, key));
}

struct Case {
  std::string description;
  std::function<void(Env&, wire::RegistrationRequest&, RequestContext&, auth::ReplayState&)> setup;
  VerdictKind kind;
  std::uint8_t code;
  std::string reason;
  bool sign_with_fa_key = true;  // sign with the FA's key unless the setup signed already
};

class RegistrarTable : public ::testing::TestWithParam<Case> {};

TEST_P(RegistrarTable, Decides) {
  const Case& c = GetParam();
  Env env;
  wire::RegistrationRequest req = proxy_request();
  RequestContext ctx{kFa, 434, kNow, 0x5eed};
  auth::ReplayState replay;
  c.setup(env, req, ctx, replay);
  if (c.sign_with_fa_key && !wire::find_extension(req.extensions, mip::ext::fa_ha_auth) &&
      !wire::find_extension(req.extensions, mip::ext::mn_ha_auth)) {
    sign(req, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
  }
  Registrar reg(env.settings);
  reg.set_foreign_agents(env.fas);
  const Bytes raw = wire::encode(req);
  const binding::Binding current{kHoa, kFa2, kFa2, 300};
  Verdict v = reg.decide(req, raw, ctx, env.vms, &current, replay);
  EXPECT_EQ(v.kind, c.kind) << c.description << ": " << v.reason << " " << v.detail;
  EXPECT_EQ(int(v.code), int(c.code)) << c.description;
  EXPECT_EQ(v.reason, c.reason) << c.description << ": " << v.detail;
  // The reply parses, answers this request and names us.
  auto reply = wire::parse_registration_reply(v.reply_bytes);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->code, c.code);
  EXPECT_EQ(reply->home_address, req.home_address);
  EXPECT_EQ(reply->home_agent, kHa);
  EXPECT_TRUE(auth::reply_matches_request(req.identification, reply->identification));
  if (!mip::code::is_accepted(c.code)) {
    EXPECT_EQ(reply->lifetime, 0) << "denials carry lifetime 0";
  }
}

const Case kCases[] = {
    {"proxy registration with FA-HA is accepted", [](auto&, auto&, auto&, auto&) {}, VerdictKind::bind, 0,
     "accepted"},
    {"Home Agent field is not ours → 136", [](auto&, auto& r, auto&, auto&) { r.home_agent = kStranger; },
     VerdictKind::deny, 136, "unknown_ha_address"},
    {"home address of no known VM → 129",
     [](auto&, auto& r, auto&, auto&) { r.home_address = *Ipv4::parse("10.1.0.99"); }, VerdictKind::deny, 129,
     "unknown_vm"},
    {"care-of address of an unknown FA → 129",
     [](auto&, auto& r, auto& ctx, auto&) {
       r.care_of_address = kStranger;
       ctx.source = kStranger;
     },
     VerdictKind::deny, 129, "unknown_fa"},
    {"FA the VM does not allow → 129",
     [](auto& env, auto& r, auto& ctx, auto&) {
       r = proxy_request(kFa2);
       ctx.source = kFa2;
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa2].fa_ha);
     },
     VerdictKind::deny, 129, "fa_not_allowed"},
    {"FA-HA with the wrong key → 132",
     [](auto&, auto& r, auto&, auto&) { sign(r, mip::ext::fa_ha_auth, sa(1000, 0x99)); }, VerdictKind::deny,
     132, "fa_auth_failed"},
    {"FA-HA with an SPI the FA does not have → 132",
     [](auto&, auto& r, auto&, auto&) { sign(r, mip::ext::fa_ha_auth, sa(4242, 0xaa)); }, VerdictKind::deny,
     132, "fa_auth_unknown_spi"},
    {"FA-HA missing on a proxy registration → 132", [](auto&, auto&, auto&, auto&) {}, VerdictKind::deny, 132,
     "fa_auth_missing", false},
    {"a byte changed after signing → 132",
     [](auto& env, auto& r, auto&, auto&) {
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
       r.lifetime = 301;  // covered by the authenticator
     },
     VerdictKind::deny, 132, "fa_auth_failed"},
    {"plain registration with a valid MN-HA (HMAC-MD5) is accepted",
     [](auto& env, auto& r, auto&, auto&) {
       r = proxy_request();
       r.extensions.clear();
       r.home_address = kHoa2;
       sign(r, mip::ext::mn_ha_auth, *env.vms.by_id("vm2")->mn_ha);
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::bind, 0, "accepted"},
    {"MN-HA with the wrong key → 131",
     [](auto& env, auto& r, auto&, auto&) {
       r = proxy_request();
       r.extensions.clear();
       r.home_address = kHoa2;
       sign(r, mip::ext::mn_ha_auth, sa(500, 0x23, auth::Algorithm::hmac_md5));
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::deny, 131, "mn_auth_failed"},
    {"plain registration for a VM with an MN-HA key but without MN-HA → 131",
     [](auto& env, auto& r, auto&, auto&) {
       r = proxy_request();
       r.extensions.clear();
       r.home_address = kHoa2;
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::deny, 131, "mn_auth_missing"},
    {"MN-HA for a VM without a key → 131",
     [](auto&, auto& r, auto&, auto&) { sign(r, mip::ext::mn_ha_auth, sa(500, 0x22)); }, VerdictKind::deny,
     131, "mn_auth_no_key"},
    {"nothing verified at all → 131",
     [](auto& env, auto& r, auto&, auto&) {
       env.settings.fa_ha_required = false;
       r = proxy_request();
       r.extensions.clear();
     },
     VerdictKind::deny, 131, "unauthenticated", false},
    {"device ID is another MAC → 129",
     [](auto& env, auto& r, auto&, auto&) {
       r = proxy_request();
       r.extensions.pop_back();
       r.append(*wire::PmipDeviceId::ethernet(*MacAddress::parse("52:54:00:66:66:66")).to_extension());
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::deny, 129, "device_id_mismatch"},
    {"both IPv6 home addresses of the VM (RFC 5454 Prefix Requests) → accepted",
     [](auto&, auto& r, auto&, auto&) {
       r.append(wire::Ipv6PrefixRequest{128, kHoa6b}.to_extension());
       r.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
     },
     VerdictKind::bind, 0, "accepted"},
    {"an IPv6 home address not in the VM's definition → 129",
     [](auto&, auto& r, auto&, auto&) {
       r.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
       r.append(wire::Ipv6PrefixRequest{128, *Ipv6::parse("2001:db8:1::99")}.to_extension());
     },
     VerdictKind::deny, 129, "ipv6_home_address_mismatch"},
    {"an IPv6 prefix rather than a /128 → 129",
     [](auto&, auto& r, auto&, auto&) {
       r.append(wire::Ipv6PrefixRequest{64, *Ipv6::parse("2001:db8:1::")}.to_extension());
     },
     VerdictKind::deny, 129, "ipv6_home_address_mismatch"},
    {"one IPv6 home address asked twice → 134",
     [](auto&, auto& r, auto&, auto&) {
       r.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
       r.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
     },
     VerdictKind::deny, 134, "poorly_formed"},
    {"IPv6 home addresses for a VM that has none → 129",
     [](auto&, auto& r, auto&, auto&) {
       r.home_address = kHoa2;
       r.extensions.clear();
       r.append(wire::PmipPerNodeAuth{}.to_extension());
       r.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
     },
     VerdictKind::deny, 129, "ipv6_home_address_mismatch"},
    {"a deregistration's IPv6 Prefix Requests are not checked → unbind",
     [](auto& env, auto& r, auto& ctx, auto&) {
       r = proxy_request(kFa2);
       r.lifetime = 0;
       ctx.source = kFa2;
       r.append(wire::Ipv6PrefixRequest{128, *Ipv6::parse("2001:db8:1::99")}.to_extension());
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa2].fa_ha);
     },
     VerdictKind::unbind, 0, "deregistered"},
    {"PMIPv4 per-node method IPsec → 149",
     [](auto& env, auto& r, auto&, auto&) {
       r.extensions.clear();
       wire::PmipPerNodeAuth m;
       m.method = mip::pmip::auth_ipsec;
       r.append(m.to_extension());
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::deny, 149, "pmip_method_unsupported"},
    {"Identification 30 s old → 133",
     [](auto&, auto& r, auto&, auto&) { r.identification = auth::ntp_from_wall(kNow - 30s); },
     VerdictKind::deny, 133, "identification_mismatch"},
    {"Identification not above the last accepted → 133",
     [](auto&, auto& r, auto&, auto& replay) {
       replay.has_accepted = true;
       replay.last_accepted = r.identification;
     },
     VerdictKind::deny, 133, "identification_mismatch"},
    {"minimal encapsulation requested → 139",
     [](auto&, auto& r, auto&, auto&) { r.set_flag(mip::request_flag::M, true); }, VerdictKind::deny, 139,
     "encapsulation_unavailable"},
    {"GRE requested → 139", [](auto&, auto& r, auto&, auto&) { r.set_flag(mip::request_flag::G, true); },
     VerdictKind::deny, 139, "encapsulation_unavailable"},
    {"UDP tunnelling forced while disabled → 142",
     [](auto& env, auto& r, auto&, auto&) {
       env.settings.udp_tunnelling = false;
       wire::UdpTunnelRequest u;
       u.flags = mip::udp_tunnel::request_flag_F;
       r.append(u.to_extension());
     },
     VerdictKind::deny, 142, "udp_tunnelling_unavailable"},
    {"S bit: accepted without simultaneous bindings → 1",
     [](auto&, auto& r, auto&, auto&) { r.set_flag(mip::request_flag::S, true); }, VerdictKind::bind, 1,
     "accepted"},
    {"lifetime 0 from the bound FA deregisters",
     [](auto& env, auto& r, auto& ctx, auto&) {
       r = proxy_request(kFa2);
       r.lifetime = 0;
       ctx.source = kFa2;
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa2].fa_ha);
     },
     VerdictKind::unbind, 0, "deregistered"},
    {"late lifetime 0 from an FA the VM already left changes nothing",
     [](auto&, auto& r, auto&, auto&) { r.lifetime = 0; }, VerdictKind::unchanged, 0, "deregistered_stale"},
    {"care-of = the HA's own address: the VM is home",
     [](auto& env, auto& r, auto&, auto&) {
       r = proxy_request(kHa);
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::unbind, 0, "deregistered"},
    {"care-of = the HA's address from an FA the VM may not use and is not bound to → 129",
     [](auto& env, auto& r, auto& ctx, auto&) {
       const Ipv4 fa3 = *Ipv4::parse("192.0.2.9");
       env.fas[fa3] = ForeignAgent{fa3, sa(1002, 0xcc)};
       r = proxy_request(kHa);
       r.lifetime = 0;
       ctx.source = fa3;
       sign(r, mip::ext::fa_ha_auth, *env.fas[fa3].fa_ha);
     },
     VerdictKind::deny, 129, "fa_not_allowed"},
    {"care-of = the HA's address from the bound FA, even one no longer allowed → deregistered",
     [](auto& env, auto& r, auto& ctx, auto&) {
       r = proxy_request(kHa);
       r.lifetime = 0;
       ctx.source = kFa2;
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa2].fa_ha);
     },
     VerdictKind::unbind, 0, "deregistered"},
    {"check_vm: a known VM outside the home prefix → 129",
     [](auto& env, auto& r, auto&, auto&) {
       env.vms.put(Vm{"vm9", *Ipv4::parse("10.9.0.9"), kMac, {}, std::nullopt});
       r.home_address = *Ipv4::parse("10.9.0.9");
     },
     VerdictKind::deny, 129, "unknown_vm"},
    {"check_foreign_agent: behind a NAT the FA is found by its care-of address",
     [](auto&, auto&, auto& ctx, auto&) { ctx.source = kNat; }, VerdictKind::bind, 0, "accepted"},
    {"check_foreign_agent: the VM deregisters itself at home, no FA involved",
     [](auto& env, auto& r, auto& ctx, auto&) {
       r = proxy_request(kHa);
       r.extensions.clear();
       r.home_address = kHoa2;
       ctx.source = kHoa2;
       sign(r, mip::ext::mn_ha_auth, *env.vms.by_id("vm2")->mn_ha);
     },
     VerdictKind::unbind, 0, "deregistered"},
    {"check_pmip_method: a per-node extension of an unknown sub-type → 134",
     [](auto& env, auto& r, auto&, auto&) {
       r.extensions.clear();
       wire::Extension e = wire::PmipPerNodeAuth{}.to_extension();
       e.raw[1] = 99;  // sub-type
       r.append(e);
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
     },
     VerdictKind::deny, 134, "poorly_formed"},
    {"check_fa_ha: FA-HA from an FA configured without a key → 132",
     [](auto& env, auto& r, auto&, auto&) {
       sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
       env.fas[kFa].fa_ha.reset();
     },
     VerdictKind::deny, 132, "fa_auth_no_key"},
    {"check_fa_ha: not required by policy, a plain registration with MN-HA only is accepted",
     [](auto& env, auto& r, auto&, auto&) {
       env.settings.fa_ha_required = false;
       r = proxy_request();
       r.extensions.clear();
       r.home_address = kHoa2;
       sign(r, mip::ext::mn_ha_auth, *env.vms.by_id("vm2")->mn_ha);
     },
     VerdictKind::bind, 0, "accepted"},
    {"check_udp_tunnelling: inner encapsulation other than IP-in-IP → 142",
     [](auto&, auto& r, auto&, auto&) {
       wire::UdpTunnelRequest u;
       u.encapsulation = 47;
       r.append(u.to_extension());
     },
     VerdictKind::deny, 142, "udp_tunnelling_unavailable"},
    {"check_udp_tunnelling: asked (not forced) while disabled: accepted with IP-in-IP",
     [](auto& env, auto& r, auto&, auto&) {
       env.settings.udp_tunnelling = false;
       r.append(wire::UdpTunnelRequest{}.to_extension());
     },
     VerdictKind::bind, 0, "accepted"},
    {"check_udp_tunnelling: checked after Identification: a replay is still 133",
     [](auto& env, auto& r, auto&, auto&) {
       env.settings.udp_tunnelling = false;
       wire::UdpTunnelRequest u;
       u.flags = mip::udp_tunnel::request_flag_F;
       r.append(u.to_extension());
       r.identification = auth::ntp_from_wall(kNow - 30s);
     },
     VerdictKind::deny, 133, "identification_mismatch"},
    {"check order: an unknown Home Agent wins over an unknown VM (136, not 129)",
     [](auto&, auto& r, auto&, auto&) {
       r.home_agent = kStranger;
       r.home_address = *Ipv4::parse("10.1.0.99");
     },
     VerdictKind::deny, 136, "unknown_ha_address"},
    {"check order: a bad FA-HA wins over a wrong device ID (132, not 129)",
     [](auto&, auto& r, auto&, auto&) {
       r.extensions.pop_back();
       r.append(*wire::PmipDeviceId::ethernet(*MacAddress::parse("52:54:00:66:66:66")).to_extension());
       sign(r, mip::ext::fa_ha_auth, sa(1000, 0x99));
     },
     VerdictKind::deny, 132, "fa_auth_failed"},
};

INSTANTIATE_TEST_SUITE_P(Rules, RegistrarTable, ::testing::ValuesIn(kCases),
                         [](const auto& param_info) { return "case_" + std::to_string(param_info.index); });

// ---- the order of the checks ------------------------------------------------------------------
//
// One fault per check, in the order registrar.hpp lists them (docs/protocol.md "Home agent:
// order of the checks"). Every pair of faults is put into one request: the reply must carry the
// code and reason of the earlier check. check_authenticated (nothing verified) is left out: it
// needs a request with no authenticator and no PMIPv4 extension at all, which excludes the
// faults of checks 4–6; its own row above covers it.

// A proxy registration described by what each fault changes; build() assembles and signs it.
struct Faulty {
  Ipv4 home_agent = kHa;
  Ipv4 home_address = kHoa;
  Ipv4 care_of = kFa;
  std::uint8_t pmip_method = mip::pmip::auth_fa_ha;
  MacAddress device = kMac;
  bool mn_ha_without_key = false;  // an MN-HA for vm1, which has no MN-HA key
  bool fa_ha_wrong_key = false;
  bool stale_identification = false;
  bool foreign_ipv6 = false;  // an RFC 5454 Prefix Request for an address not the VM's
  bool minimal_encapsulation = false;
  bool force_udp = false;  // while the HA has UDP tunnelling disabled

  wire::RegistrationRequest build(Env& env) const {
    wire::RegistrationRequest r;
    r.flags = mip::request_flag::T;
    r.lifetime = 300;
    r.home_address = home_address;
    r.home_agent = home_agent;
    r.care_of_address = care_of;
    r.identification = auth::ntp_from_wall(stale_identification ? kNow - 30s : kNow);
    r.set_flag(mip::request_flag::M, minimal_encapsulation);
    wire::PmipPerNodeAuth method;
    method.method = pmip_method;
    r.append(method.to_extension());
    r.append(*wire::PmipDeviceId::ethernet(device).to_extension());
    if (foreign_ipv6) r.append(wire::Ipv6PrefixRequest{128, *Ipv6::parse("2001:db8:1::99")}.to_extension());
    if (force_udp) {
      wire::UdpTunnelRequest u;
      u.flags = mip::udp_tunnel::request_flag_F;
      r.append(u.to_extension());
    }
    if (mn_ha_without_key) sign(r, mip::ext::mn_ha_auth, sa(500, 0x22));
    sign(r, mip::ext::fa_ha_auth, fa_ha_wrong_key ? sa(1000, 0x99) : *env.fas[kFa].fa_ha);
    return r;
  }
};

struct Fault {
  std::string check;
  std::uint8_t code;
  std::string reason;
  void (*apply)(Faulty&);
};

const Fault kFaults[] = {
    {"check_home_agent", 136, "unknown_ha_address", [](Faulty& f) { f.home_agent = kStranger; }},
    {"check_vm", 129, "unknown_vm", [](Faulty& f) { f.home_address = *Ipv4::parse("10.1.0.99"); }},
    {"check_foreign_agent", 129, "unknown_fa", [](Faulty& f) { f.care_of = kStranger; }},
    {"check_pmip_method", 149, "pmip_method_unsupported",
     [](Faulty& f) { f.pmip_method = mip::pmip::auth_ipsec; }},
    {"check_mn_ha", 131, "mn_auth_no_key", [](Faulty& f) { f.mn_ha_without_key = true; }},
    {"check_fa_ha", 132, "fa_auth_failed", [](Faulty& f) { f.fa_ha_wrong_key = true; }},
    {"check_identification", 133, "identification_mismatch",
     [](Faulty& f) { f.stale_identification = true; }},
    {"check_device_id", 129, "device_id_mismatch",
     [](Faulty& f) { f.device = *MacAddress::parse("52:54:00:66:66:66"); }},
    {"check_ipv6_home_addresses", 129, "ipv6_home_address_mismatch",
     [](Faulty& f) { f.foreign_ipv6 = true; }},
    {"check_encapsulation", 139, "encapsulation_unavailable",
     [](Faulty& f) { f.minimal_encapsulation = true; }},
    {"check_udp_tunnelling", 142, "udp_tunnelling_unavailable", [](Faulty& f) { f.force_udp = true; }},
};

Verdict decide_faulty(const Faulty& f) {
  Env env;
  env.settings.udp_tunnelling = false;
  Registrar reg(env.settings);
  reg.set_foreign_agents(env.fas);
  const wire::RegistrationRequest req = f.build(env);
  const RequestContext ctx{f.care_of, 434, kNow, 0x5eed};
  return reg.decide(req, wire::encode(req), ctx, env.vms, nullptr, {});
}

TEST(RegistrarOrder, EachFaultAloneIsDeniedByItsCheck) {
  EXPECT_EQ(decide_faulty({}).kind, VerdictKind::bind) << "the request without faults is accepted";
  for (const Fault& fault : kFaults) {
    Faulty f;
    fault.apply(f);
    const Verdict v = decide_faulty(f);
    EXPECT_EQ(int(v.code), int(fault.code)) << fault.check << ": " << v.reason << " " << v.detail;
    EXPECT_EQ(v.reason, fault.reason) << fault.check;
  }
}

TEST(RegistrarOrder, OfTwoFaultsTheEarlierCheckDecides) {
  for (std::size_t i = 0; i < std::size(kFaults); ++i) {
    for (std::size_t j = i + 1; j < std::size(kFaults); ++j) {
      Faulty f;
      kFaults[i].apply(f);
      kFaults[j].apply(f);
      const Verdict v = decide_faulty(f);
      EXPECT_EQ(int(v.code), int(kFaults[i].code))
          << kFaults[i].check << " before " << kFaults[j].check << ": got " << v.reason;
      EXPECT_EQ(v.reason, kFaults[i].reason) << kFaults[i].check << " before " << kFaults[j].check;
    }
  }
}

struct Fixture : ::testing::Test {
  Env env;
  Registrar reg{env.settings};
  RequestContext ctx{kFa, 434, kNow, 0x5eed};
  void SetUp() override {
    reg = Registrar(env.settings);
    reg.set_foreign_agents(env.fas);
  }
  Verdict decide(wire::RegistrationRequest& r, const auth::ReplayState& replay = {}) {
    if (!wire::find_extension(r.extensions, mip::ext::fa_ha_auth))
      sign(r, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha);
    return reg.decide(r, wire::encode(r), ctx, env.vms, nullptr, replay);
  }
};

TEST_F(Fixture, AcceptedReplyIsAuthenticatedWithTheFaKeyAndEchoesTheIdentification) {
  auto req = proxy_request();
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind);
  auto reply = wire::parse_registration_reply(v.reply_bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->identification, req.identification);
  EXPECT_EQ(reply->lifetime, 300);
  EXPECT_TRUE(auth::verify(v.reply_bytes, reply->extensions, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha));
  EXPECT_FALSE(auth::verify(v.reply_bytes, reply->extensions, mip::ext::fa_ha_auth, sa(1000, 0x01)));
  EXPECT_EQ(v.registration.home_address, kHoa);
  EXPECT_EQ(v.registration.care_of_address, kFa);
  EXPECT_EQ(v.registration.encapsulation, binding::Encapsulation::ipip);
  EXPECT_EQ(v.tunnel_peer, kFa);
  EXPECT_TRUE(v.replay.has_accepted);
  EXPECT_EQ(v.replay.last_accepted, req.identification);
}

// RFC 5454 §2.2: each granted IPv6 home address is echoed in a Prefix Reply (code 0), in the
// request's order, before the FA-HA authenticator that covers it; the binding records them.
TEST_F(Fixture, GrantedIpv6HomeAddressesAreEchoedBeforeTheAuthenticator) {
  auto req = proxy_request();
  req.append(wire::Ipv6PrefixRequest{128, kHoa6b}.to_extension());
  req.append(wire::Ipv6PrefixRequest{128, kHoa6a}.to_extension());
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind) << v.reason << " " << v.detail;
  EXPECT_EQ(v.registration.home_addresses_v6, (std::vector<Ipv6>{kHoa6b, kHoa6a}));
  auto reply = wire::parse_registration_reply(v.reply_bytes);
  ASSERT_TRUE(reply) << reply.error().to_string();
  auto granted = wire::ipv6_prefix_replies(reply->extensions);
  ASSERT_TRUE(granted);
  ASSERT_EQ(granted->size(), 2u);
  EXPECT_EQ((*granted)[0].prefix, kHoa6b);
  EXPECT_EQ((*granted)[1].prefix, kHoa6a);
  for (const auto& g : *granted) {
    EXPECT_TRUE(g.success());
    EXPECT_EQ(g.prefix_length, 128);
  }
  EXPECT_EQ(reply->extensions.back().type, mip::ext::fa_ha_auth);
  EXPECT_TRUE(auth::verify(v.reply_bytes, reply->extensions, mip::ext::fa_ha_auth, *env.fas[kFa].fa_ha));
}

TEST_F(Fixture, AnIpv4OnlyRequestGrantsNoIpv6) {
  auto req = proxy_request();
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind);
  EXPECT_TRUE(v.registration.home_addresses_v6.empty());
  EXPECT_EQ(
      wire::find_extension(wire::parse_registration_reply(v.reply_bytes)->extensions, mip::ext::dsmipv4),
      nullptr);
}

TEST_F(Fixture, LifetimeIsClampedToTheConfiguredMaximum) {
  auto req = proxy_request();
  req.lifetime = mip::kLifetimeInfinite;
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind);
  EXPECT_EQ(v.registration.lifetime, 600);
  EXPECT_EQ(v.reply.lifetime, 600);
}

TEST_F(Fixture, IdentificationMismatchCarriesOurTimeAndTheRequestLowBits) {
  auto req = proxy_request(kFa, auth::ntp_from_wall(kNow - std::chrono::seconds(3600)) | 0x1234);
  auto v = decide(req);
  ASSERT_EQ(v.code, 133);
  EXPECT_EQ(auth::high32(v.reply.identification), auth::high32(auth::ntp_from_wall(kNow)));
  EXPECT_EQ(auth::low32(v.reply.identification), auth::low32(req.identification));
  EXPECT_FALSE(v.replay.has_accepted) << "a denial must not move the replay state";
}

TEST_F(Fixture, NatDetectedMeansUdpTunnellingToTheTranslatedSource) {
  auto req = proxy_request();
  req.append(wire::UdpTunnelRequest{}.to_extension());
  ctx.source = kNat;
  ctx.source_port = 40000;
  // Behind the NAT the FA is found by its care-of address.
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind) << v.reason;
  EXPECT_EQ(v.registration.encapsulation, binding::Encapsulation::udp);
  EXPECT_EQ(v.tunnel_peer, kNat);
  EXPECT_EQ(v.tunnel_port, 40000);
  const auto* ext = wire::find_extension(v.reply.extensions, mip::ext::udp_tunnel_reply);
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(wire::UdpTunnelReply::from(*ext)->code, mip::udp_tunnel::reply_code_accepted);
}

TEST_F(Fixture, NoNatAndNotForcedDeclinesUdpTunnelling) {
  auto req = proxy_request();
  req.append(wire::UdpTunnelRequest{}.to_extension());
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind);
  EXPECT_EQ(v.registration.encapsulation, binding::Encapsulation::ipip);
  const auto* ext = wire::find_extension(v.reply.extensions, mip::ext::udp_tunnel_reply);
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(wire::UdpTunnelReply::from(*ext)->code, mip::udp_tunnel::reply_code_declined);
}

TEST_F(Fixture, RevocationSupportIsAnsweredWhenAsked) {
  auto req = proxy_request();
  req.append(wire::RevocationSupport{}.to_extension());
  auto v = decide(req);
  ASSERT_EQ(v.kind, VerdictKind::bind);
  EXPECT_NE(wire::find_extension(v.reply.extensions, mip::ext::revocation_support), nullptr);
}

TEST_F(Fixture, TwoForeignAgentsRacingExactlyOneWins) {
  env.vms.put(Vm{"vm1", kHoa, kMac, {}, std::nullopt});  // any FA allowed
  const std::uint64_t id = auth::ntp_from_wall(kNow);
  auto from_fa2 = proxy_request(kFa2, id + 10);
  sign(from_fa2, mip::ext::fa_ha_auth, *env.fas[kFa2].fa_ha);
  auto from_fa1 = proxy_request(kFa, id + 5);
  // FA2's request is processed first; FA1's older one arrives second.
  ctx.source = kFa2;
  auto first = reg.decide(from_fa2, wire::encode(from_fa2), ctx, env.vms, nullptr, {});
  ASSERT_EQ(first.kind, VerdictKind::bind);
  ctx.source = kFa;
  auto second = decide(from_fa1, first.replay);
  EXPECT_EQ(second.kind, VerdictKind::deny);
  EXPECT_EQ(second.code, 133);
}

TEST_F(Fixture, NonceStyleRepliesWithAFreshNonce) {
  env.settings.replay_style = auth::ReplayStyle::nonce;
  SetUp();
  auth::ReplayState replay{auth::ReplayStyle::nonce, false, 0, 0x0badf00d};
  auto req = proxy_request(kFa, (std::uint64_t{0x0badf00d} << 32) | 0x77);
  auto v = decide(req, replay);
  ASSERT_EQ(v.kind, VerdictKind::bind) << v.detail;
  EXPECT_EQ(v.reply.identification, (std::uint64_t{0x5eed} << 32) | 0x77);
  EXPECT_EQ(v.replay.ha_nonce, 0x5eedu);
}

TEST_F(Fixture, PoorlyFormedReplyNeedsTheFixedPart) {
  auto req = proxy_request();
  Bytes raw = wire::encode(req);
  raw.push_back(200);  // a dangling extension header
  auto reply = reg.poorly_formed_reply(raw);
  ASSERT_TRUE(reply);
  auto parsed = wire::parse_registration_reply(*reply);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, 134);
  EXPECT_EQ(parsed->identification, req.identification);
  EXPECT_FALSE(reg.poorly_formed_reply(ByteView(raw).first(10)));
}

}  // namespace
}  // namespace vmroam::ha
