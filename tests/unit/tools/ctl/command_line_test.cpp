// tools/ctl/command_line: vmroamctl's argv → API calls: every command of the table, global
// options, usage errors that name the problem, key material never echoed, generated help.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tools/ctl/command_line.hpp"

namespace vmroam::ctl {
namespace {

const std::map<std::string, std::string> kFiles = {
    {"/etc/vmroam/vm1.key", "00112233445566778899aabbccddeeff\n"},
    {"/etc/vmroam/token", "  s3cret \n"},
};

Result<std::string> fake_read(const std::string& path) {
  auto it = kFiles.find(path);
  if (it == kFiles.end()) return fail("open_failed", "No such file or directory");
  return it->second;
}

Result<Invocation> parse(std::vector<std::string> args) { return parse_command_line(args, fake_read); }

struct CallCase {
  std::string description;
  std::vector<std::string> args;
  std::string endpoint;
  std::vector<std::pair<api::Method, std::string>> calls;
  std::string body;  // first call's body as compact JSON, "" for none
};

TEST(CtlCommandLine, BuildsTheRightCalls) {
  const std::vector<CallCase> cases = {
      {"vm add with key=value and key from a file",
       {"vm", "add", "vm1", "home_address=10.1.0.10", "mac=52:54:00:12:34:56",
        "allowed_fas=192.0.2.2,192.0.2.3", "spi=300", "key=@/etc/vmroam/vm1.key"},
       "/run/vmroam/ha.sock",
       {{api::Method::post, "/v1/vms"}},
       R"({"allowed_fas":["192.0.2.2","192.0.2.3"],"home_address":"10.1.0.10","id":"vm1","key":"00112233445566778899aabbccddeeff","mac":"52:54:00:12:34:56","spi":300})"},
      {"vm add with flags is the same as key=value",
       {"vm", "add", "--home-address", "10.1.0.10", "vm1", "--mac=52:54:00:12:34:56"},
       "/run/vmroam/ha.sock",
       {{api::Method::post, "/v1/vms"}},
       R"({"home_address":"10.1.0.10","id":"vm1","mac":"52:54:00:12:34:56"})"},
      {"vm add with IPv6 home addresses (a flag, colons kept)",
       {"vm", "add", "vm1", "home_address=10.1.0.10", "mac=52:54:00:12:34:56",
        "--home-addresses-v6=2001:db8:1::10,2001:db8:1::11"},
       "/run/vmroam/ha.sock",
       {{api::Method::post, "/v1/vms"}},
       R"({"home_address":"10.1.0.10","home_addresses_v6":["2001:db8:1::10","2001:db8:1::11"],"id":"vm1","mac":"52:54:00:12:34:56"})"},
      {"empty allowed_fas is an empty list",
       {"vm", "set", "vm1", "home_address=10.1.0.10", "mac=52:54:00:12:34:56", "allowed_fas="},
       "/run/vmroam/ha.sock",
       {{api::Method::put, "/v1/vms/vm1"}},
       R"({"allowed_fas":[],"home_address":"10.1.0.10","mac":"52:54:00:12:34:56"})"},
      {"vm rm alias, global option after the command",
       {"vm", "rm", "vm1", "--json"},
       "/run/vmroam/ha.sock",
       {{api::Method::delete_, "/v1/vms/vm1"}},
       ""},
      {"vm ls", {"vm", "ls"}, "/run/vmroam/ha.sock", {{api::Method::get, "/v1/vms"}}, ""},
      {"vm show escapes its id",
       {"vm", "show", "a/b c"},
       "/run/vmroam/ha.sock",
       {{api::Method::get, "/v1/vms/a%2Fb%20c"}},
       ""},
      {"binding list", {"binding", "list"}, "/run/vmroam/ha.sock", {{api::Method::get, "/v1/bindings"}}, ""},
      {"binding show",
       {"binding", "show", "10.1.0.10"},
       "/run/vmroam/ha.sock",
       {{api::Method::get, "/v1/bindings/10.1.0.10"}},
       ""},
      {"visitor commands default to the FA socket",
       {"visitor", "list"},
       "/run/vmroam/fa.sock",
       {{api::Method::get, "/v1/visitors"}},
       ""},
      {"visitor show with a long-poll",
       {"visitor", "show", "vm1", "wait_ms=500"},
       "/run/vmroam/fa.sock",
       {{api::Method::get, "/v1/visitors/vm1?wait_ms=500"}},
       ""},
      {"move prepare",
       {"move", "prepare", "vm1", "home_address=10.1.0.10", "mac=52:54:00:12:34:56", "home_gateway=10.1.0.1",
        "home_gateway_mac=02:00:0a:01:00:01", "home_agent=192.0.2.2", "lifetime=300", "encapsulation=udp"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors"}},
       R"({"encapsulation":"udp","home_address":"10.1.0.10","home_agent":"192.0.2.2","home_gateway":"10.1.0.1","home_gateway_mac":"02:00:0a:01:00:01","id":"vm1","lifetime":300,"mac":"52:54:00:12:34:56"})"},
      {"move activate without waiting is one call",
       {"move", "activate", "vm1"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors/vm1/activate"}},
       "{}"},
      {"move activate waiting long-polls after",
       {"move", "activate", "vm1", "wait_ms=3000"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors/vm1/activate"},
        {api::Method::get, "/v1/visitors/vm1?wait_ms=3000"}},
       "{}"},
      {"move abort",
       {"move", "abort", "vm1"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors/vm1/abort"}},
       "{}"},
      {"move resumed",
       {"move", "resumed", "vm1"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors/vm1/resumed"}},
       "{}"},
      {"move depart",
       {"move", "depart", "vm1"},
       "/run/vmroam/fa.sock",
       {{api::Method::post, "/v1/visitors/vm1/depart"}},
       "{}"},
      {"status", {"status"}, "/run/vmroam/ha.sock", {{api::Method::get, "/v1/health"}}, ""},
      {"--api overrides the default",
       {"--api", "http://192.0.2.2:8434", "move", "abort", "x"},
       "http://192.0.2.2:8434",
       {{api::Method::post, "/v1/visitors/x/abort"}},
       "{}"},
      {"metrics with --api=",
       {"--api=/tmp/fa.sock", "metrics"},
       "/tmp/fa.sock",
       {{api::Method::get, "/metrics"}},
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto inv = parse(c.args);
    ASSERT_TRUE(inv) << inv.error().to_string();
    ASSERT_EQ(inv->action, Invocation::Action::run);
    EXPECT_EQ(inv->endpoint, c.endpoint);
    ASSERT_EQ(inv->calls.size(), c.calls.size());
    for (std::size_t i = 0; i < c.calls.size(); ++i) {
      EXPECT_EQ(inv->calls[i].method, c.calls[i].first);
      EXPECT_EQ(inv->calls[i].target, c.calls[i].second);
    }
    EXPECT_EQ(inv->calls[0].body ? inv->calls[0].body->dump() : "", c.body);
  }
}

TEST(CtlCommandLine, GlobalOptions) {
  auto inv = parse({"--json", "--timeout", "2.5", "--token-file", "/etc/vmroam/token", "status"});
  ASSERT_TRUE(inv);
  EXPECT_TRUE(inv->global.json);
  EXPECT_EQ(inv->global.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(inv->global.token, "s3cret");
  auto ms = parse({"--timeout=300ms", "-j", "--token", "t", "vm", "list"});
  ASSERT_TRUE(ms);
  EXPECT_EQ(ms->global.timeout, std::chrono::milliseconds(300));
  EXPECT_TRUE(ms->global.json);
  EXPECT_EQ(ms->global.token, "t");
  auto tls = parse({"--ca-file", "/ca.pem", "status", "--cert-file=/c.pem", "--key-file", "/k.pem"});
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->global.ca_file, "/ca.pem");
  EXPECT_EQ(tls->global.cert_file, "/c.pem");
  EXPECT_EQ(tls->global.key_file, "/k.pem");
  auto wait = parse({"--timeout", "1", "move", "activate", "vm1", "wait_ms=4000"});
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->calls.at(1).extra_timeout, std::chrono::milliseconds(4000));
}

struct ErrorCase {
  std::string description;
  std::vector<std::string> args;
  std::string message_has;
};

TEST(CtlCommandLine, UsageErrorsNameTheProblem) {
  const std::vector<ErrorCase> cases = {
      {"nothing", {}, "no command given"},
      {"unknown object", {"vms", "list"}, "unknown command 'vms'"},
      {"missing verb", {"vm"}, "'vm' needs a verb"},
      {"unknown verb", {"vm", "frob"}, "unknown verb 'frob'"},
      {"missing positional", {"vm", "show"}, "ID is required"},
      {"missing required key", {"vm", "add", "vm1", "mac=52:54:00:12:34:56"}, "home_address is required"},
      {"unknown key", {"vm", "add", "vm1", "home=1"}, "unknown argument 'home'"},
      {"command without arguments", {"vm", "list", "x=1"}, "takes none"},
      {"second positional", {"vm", "show", "a", "b"}, "unexpected argument 'b'"},
      {"bad number",
       {"move", "activate", "vm1", "wait_ms=soon"},
       "wait_ms: not a non-negative integer: soon"},
      {"bad list", {"vm", "add", "v", "home_address=1", "mac=2", "allowed_fas=1.2.3.4,"}, "empty item"},
      {"repeated key",
       {"vm", "add", "v", "home_address=1", "home_address=2", "mac=3"},
       "home_address given twice"},
      {"unreadable key file",
       {"vm", "add", "v", "home_address=1", "mac=2", "spi=300", "key=@/nope"},
       "key: cannot read /nope"},
      {"option without value", {"status", "--api"}, "--api needs a value"},
      {"flag without value", {"vm", "add", "v", "--mac"}, "--mac needs a value"},
      {"bad timeout", {"--timeout", "0", "status"}, "--timeout"},
      {"token twice", {"--token", "a", "--token-file", "/etc/vmroam/token", "status"}, "not both"},
      {"certificate without key",
       {"--cert-file", "/c.pem", "status"},
       "--cert-file and --key-file go together"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto inv = parse(c.args);
    ASSERT_FALSE(inv);
    EXPECT_EQ(inv.error().code, "usage");
    EXPECT_NE(inv.error().context.find(c.message_has), std::string::npos) << inv.error().context;
  }
}

TEST(CtlCommandLine, KeyMaterialIsNeverInAnError) {
  auto inv =
      parse({"vm", "add", "v", "home_address=1", "mac=2", "spi=x", "key=00112233445566778899aabbccddeeff"});
  ASSERT_FALSE(inv);
  EXPECT_EQ(inv.error().context.find("00112233"), std::string::npos);
}

TEST(CtlCommandLine, HelpIsGeneratedFromTheTable) {
  auto all = parse({"--help"});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->action, Invocation::Action::help);
  for (const auto& c : commands()) {
    SCOPED_TRACE(std::string(c.object) + " " + std::string(c.verb));
    EXPECT_NE(all->help_text.find(std::string(c.help)), std::string::npos);
    std::vector<std::string> args{std::string(c.object)};
    if (!c.verb.empty()) args.emplace_back(c.verb);
    args.emplace_back("--help");
    auto one = parse(args);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->action, Invocation::Action::help);
    for (const auto& p : c.params) EXPECT_NE(one->help_text.find(std::string(p.name)), std::string::npos);
  }
  auto via_word = parse({"help", "move", "prepare"});
  ASSERT_TRUE(via_word);
  EXPECT_NE(via_word->help_text.find("home_gateway_mac"), std::string::npos);
  EXPECT_NE(via_word->help_text.find("/run/vmroam/fa.sock"), std::string::npos);
  auto object = parse({"vm", "-h"});
  ASSERT_TRUE(object);
  EXPECT_NE(object->help_text.find("vmroamctl vm remove ID"), std::string::npos);
  auto version = parse({"status", "--version"});
  ASSERT_TRUE(version);
  EXPECT_EQ(version->action, Invocation::Action::version);
}

}  // namespace
}  // namespace vmroam::ctl
