// vmroam-migrate's command line (migration/cli.hpp): what runs, and each usage error.
#include "migration/cli.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmroam::migration {
namespace {

std::optional<int> parse(std::vector<std::string> words, CliArgs& a) {
  std::vector<const char*> argv{"vmroam-migrate"};
  for (const auto& w : words) argv.push_back(w.c_str());
  return parse_cli(static_cast<int>(argv.size()), argv.data(), a);
}

const std::vector<std::string> kNoTls{"--source",          "/s",   "--dest", "/d", "--uri",
                                      "tcp:10.2.0.2:4444", "--fa", "none"};

std::vector<std::string> without_tls(std::vector<std::string> extra) {
  auto w = kNoTls;
  w.insert(w.end(), extra.begin(), extra.end());
  return w;
}

const std::vector<std::string> kBase = without_tls({"--insecure-migration"});

std::vector<std::string> with(std::vector<std::string> extra) {
  auto w = kBase;
  w.insert(w.end(), extra.begin(), extra.end());
  return w;
}

TEST(Cli, Minimal) {
  CliArgs a;
  EXPECT_EQ(parse(with({}), a), std::nullopt);
  EXPECT_EQ(a.opt.uri, "tcp:10.2.0.2:4444");
  EXPECT_EQ(a.opt.tuning, Tuning::socket);
  EXPECT_EQ(a.opt.handover, Handover::switchover);
}

TEST(Cli, Values) {
  CliArgs a;
  EXPECT_EQ(parse(with({"--downtime-limit", "50", "--timeout", "7", "--handover", "early", "--tuning", "none",
                        "--capability", "xbzrle", "--quiet"}),
                  a),
            std::nullopt);
  EXPECT_EQ(a.opt.downtime_limit_ms, 50u);
  EXPECT_EQ(a.opt.migration_timeout, std::chrono::seconds(7));
  EXPECT_EQ(a.opt.handover, Handover::early);
  EXPECT_EQ(a.opt.tuning, Tuning::none);
  EXPECT_EQ(a.opt.extra_capabilities, std::vector<std::string>{"xbzrle"});
  EXPECT_TRUE(a.quiet);
}

TEST(Cli, ApiTls) {
  CliArgs a;
  EXPECT_EQ(
      parse(with({"--api-ca-file", "/ca.pem", "--api-cert-file", "/c.pem", "--api-key-file", "/k.pem"}), a),
      std::nullopt);
  EXPECT_EQ(a.api_ca_file, "/ca.pem");
  EXPECT_EQ(a.api_cert_file, "/c.pem");
  EXPECT_EQ(a.api_key_file, "/k.pem");
  CliArgs half;
  EXPECT_EQ(parse(with({"--api-cert-file", "/c.pem"}), half), 64);
}

// Honest bandwidth is the default; the old behaviour (QEMU's own rate, or a fixed one) is an option.
TEST(Cli, Bandwidth) {
  CliArgs a;
  EXPECT_EQ(parse(with({}), a), std::nullopt);
  EXPECT_EQ(a.opt.bandwidth.mode, BandwidthMode::honest);
  EXPECT_FALSE(a.opt.bandwidth.link_rate);
  CliArgs b;
  EXPECT_EQ(parse(with({"--link-rate", "12500000"}), b), std::nullopt);
  EXPECT_EQ(b.opt.bandwidth.mode, BandwidthMode::honest);
  EXPECT_EQ(b.opt.bandwidth.link_rate, 12'500'000u);
  CliArgs c;
  EXPECT_EQ(parse(with({"--bandwidth", "qemu", "--max-bandwidth", "1000000"}), c), std::nullopt);
  EXPECT_EQ(c.opt.bandwidth.mode, BandwidthMode::qemu);
  EXPECT_EQ(c.opt.max_bandwidth, 1'000'000u);
}

// The downtime rule: off by default (QEMU's 300 ms); --target-pause and --path-rtt set it.
TEST(Cli, DowntimeRule) {
  CliArgs a;
  EXPECT_EQ(parse(with({}), a), std::nullopt);
  EXPECT_FALSE(a.opt.target_pause_ms);
  EXPECT_FALSE(a.opt.path_rtt_ms);
  EXPECT_FALSE(a.opt.downtime_limit_ms);
  CliArgs b;
  EXPECT_EQ(parse(with({"--target-pause", "50", "--path-rtt", "8"}), b), std::nullopt);
  EXPECT_EQ(b.opt.target_pause_ms, 50u);
  EXPECT_EQ(b.opt.path_rtt_ms, 8u);
}

TEST(Cli, UsageErrors) {
  const std::vector<std::vector<std::string>> cases = {
      {"--source", "/s"},                 // missing --dest etc.
      with({"--bogus"}),                  // unknown option
      with({"--timeout"}),                // no value
      with({"--timeout", "-1"}),          // not a number
      with({"--handover", "sometimes"}),  //
      with({"--tuning", "fast"}),         //
      with({"--bandwidth", "fast"}),      //
      with({"--max-bandwidth", "1000"}),  // a fixed rate contradicts the default honest
      with({"--link-rate", "0"}),         //
      with({"--target-pause", "0"}),      // no pause
      with({"--target-pause", "30", "--downtime-limit", "50"}),  // both set the limit
      with({"--target-pause", "30", "--bandwidth", "qemu"}),     // not link time without honest
      {"--source", "/s", "--dest", "/d", "--uri", "unix:/m", "--fa", "none",
       "--insecure-migration"},    // needs tcp
      with({"--ha", "/ha.sock"}),  // HA without FA or depart
      {"--source", "/s", "--dest", "/d", "--uri", "tcp:h:1", "--fa", "/fa.sock",
       "--insecure-migration"},  // no --vm
      // TLS: a choice is required, and only one.
      without_tls({}),
      without_tls({"--tls-creds-dir-src", "/a"}),
      without_tls({"--tls-creds-dir-dst", "/b"}),
      without_tls({"--tls-creds-dir-src", "/a", "--tls-creds-dir-dst", "/b", "--tls-creds", "x"}),
      with({"--tls-creds", "x"}),
      with({"--tls-hostname", "dst.example"}),
      {"--source", "/s", "--dest", "/d", "--uri", "unix:/m", "--fa", "none", "--tuning", "none",
       "--tls-creds", "x"},
  };
  for (const auto& c : cases) {
    CliArgs a;
    EXPECT_EQ(parse(c, a), 64) << ::testing::PrintToString(c);
  }
}

TEST(Cli, TlsByDefault) {
  struct Case {
    const char* description;
    std::vector<std::string> extra;
    MigrationTls want;
  };
  const std::vector<Case> cases = {
      {"creds dirs: host name from --uri",
       {"--tls-creds-dir-src", "/pki/src", "--tls-creds-dir-dst", "/pki/dst"},
       {true, "/pki/src", "/pki/dst", "", "10.2.0.2"}},
      {"existing objects and a host name",
       {"--tls-creds", "tls0", "--tls-hostname", "dst.example"},
       {true, "", "", "tls0", "dst.example"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    CliArgs a;
    ASSERT_EQ(parse(without_tls(c.extra), a), std::nullopt);
    ASSERT_TRUE(a.opt.tls);
    EXPECT_EQ(a.opt.tls->enabled, c.want.enabled);
    EXPECT_EQ(a.opt.tls->creds_dir_src, c.want.creds_dir_src);
    EXPECT_EQ(a.opt.tls->creds_dir_dst, c.want.creds_dir_dst);
    EXPECT_EQ(a.opt.tls->creds_id, c.want.creds_id);
    EXPECT_EQ(a.opt.tls->hostname, c.want.hostname);
  }
  CliArgs insecure;
  ASSERT_EQ(parse(kBase, insecure), std::nullopt);
  ASSERT_TRUE(insecure.opt.tls);
  EXPECT_FALSE(insecure.opt.tls->enabled);
}

}  // namespace
}  // namespace vmroam::migration

namespace vmroam::migration {
namespace {

TEST(Cli, CopyStorage) {
  CliArgs all;
  ASSERT_EQ(parse(with({"--copy-storage", "all", "--bandwidth", "qemu", "--max-bandwidth", "12500000"}), all),
            std::nullopt);
  EXPECT_TRUE(all.storage.enabled);
  EXPECT_TRUE(all.storage.wanted.empty());
  EXPECT_EQ(all.storage.budget, 12'500'000u);  // disks and RAM share one budget
  EXPECT_EQ(all.storage.nbd_port, "10809");
  CliArgs some;
  ASSERT_EQ(
      parse(with({"--copy-storage", "vdisk0", "--copy-storage", "vdisk1", "--nbd-port", "10900"}), some),
      std::nullopt);
  EXPECT_EQ(some.storage.wanted, (std::vector<std::string>{"vdisk0", "vdisk1"}));
  EXPECT_EQ(some.storage.nbd_port, "10900");
  CliArgs none;
  ASSERT_EQ(parse(with({}), none), std::nullopt);
  EXPECT_FALSE(none.storage.enabled);
  // NBD listens on --uri's host: a uri without one is refused.
  CliArgs unix_uri;
  EXPECT_EQ(parse({"--source", "/s", "--dest", "/d", "--uri", "unix:/m.sock", "--fa", "none", "--tuning",
                   "none", "--insecure-migration", "--copy-storage", "all"},
                  unix_uri),
            64);
}

TEST(Cli, TlsPeerName) {
  CliArgs named;
  ASSERT_EQ(parse(without_tls({"--tls-creds", "tls0", "--tls-peer-dn", "CN=src,O=site"}), named),
            std::nullopt);
  EXPECT_EQ(named.opt.tls->peer_dn, "CN=src,O=site");
  CliArgs any;
  ASSERT_EQ(parse(without_tls({"--tls-creds", "tls0", "--tls-peer-dn", "any"}), any), std::nullopt);
  EXPECT_EQ(any.opt.tls->peer_dn, "");
  // The creds directory is not readable here: no name is guessed.
  CliArgs unreadable;
  ASSERT_EQ(parse(without_tls(
                      {"--tls-creds-dir-src", "/nonexistent/src", "--tls-creds-dir-dst", "/nonexistent/dst"}),
                  unreadable),
            std::nullopt);
  EXPECT_EQ(unreadable.opt.tls->peer_dn, "");
  CliArgs contradiction;
  EXPECT_EQ(parse(with({"--tls-peer-dn", "CN=src"}), contradiction), 64);
}

}  // namespace
}  // namespace vmroam::migration
