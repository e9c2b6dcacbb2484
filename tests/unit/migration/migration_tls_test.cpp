// The QMP commands that put TLS on the migration stream (migration/migration_tls.hpp).
#include "migration/migration_tls.hpp"

#include <gtest/gtest.h>

namespace vmroam::migration {
namespace {

TEST(MigrationTls, CredsObject) {
  EXPECT_EQ(tls_creds_object("c", "/pki/src", MigrationSide::source),
            Json::parse(R"({"qom-type":"tls-creds-x509","id":"c","dir":"/pki/src","endpoint":"client",
                            "verify-peer":true})"));
  EXPECT_EQ(tls_creds_object("s", "/pki/dst", MigrationSide::destination)["endpoint"], "server");
}

TEST(MigrationTls, Setup) {
  struct Case {
    const char* description;
    MigrationTls tls;
    MigrationSide side;
    std::vector<QmpStep> want;
  };
  const MigrationTls dirs{true, "/pki/src", "/pki/dst", "", "10.2.0.2"};
  const MigrationTls ids{true, "", "", "tls0", "dst.example"};
  const MigrationTls off{.enabled = false};
  const std::vector<Case> cases = {
      {"source, creds from a directory",
       dirs,
       MigrationSide::source,
       {{"object-del", Json{{"id", kTlsCredsSourceId}}, true},
        {"object-add", tls_creds_object(kTlsCredsSourceId, "/pki/src", MigrationSide::source)},
        {"migrate-set-parameters", Json{{"tls-creds", kTlsCredsSourceId}, {"tls-hostname", "10.2.0.2"}}}}},
      {"destination, creds from a directory: no host name to check",
       dirs,
       MigrationSide::destination,
       {{"object-del", Json{{"id", kTlsCredsDestinationId}}, true},
        {"object-add", tls_creds_object(kTlsCredsDestinationId, "/pki/dst", MigrationSide::destination)},
        {"migrate-set-parameters", Json{{"tls-creds", kTlsCredsDestinationId}, {"tls-authz", ""}}}}},
      {"source, an existing object",
       ids,
       MigrationSide::source,
       {{"migrate-set-parameters", Json{{"tls-creds", "tls0"}, {"tls-hostname", "dst.example"}}}}},
      {"destination, an existing object",
       ids,
       MigrationSide::destination,
       {{"migrate-set-parameters", Json{{"tls-creds", "tls0"}, {"tls-authz", ""}}}}},
      {"destination with the source's name: only that peer is accepted",
       MigrationTls{true, "", "", "tls0", "dst.example", "CN=src,O=site"},
       MigrationSide::destination,
       {{"object-del", Json{{"id", kTlsAuthzId}}, true},
        {"object-add", tls_authz_object("CN=src,O=site")},
        {"migrate-set-parameters", Json{{"tls-creds", "tls0"}, {"tls-authz", kTlsAuthzId}}}}},
      {"insecure: creds left by an earlier move are switched off",
       off,
       MigrationSide::source,
       {{"migrate-set-parameters", Json{{"tls-creds", ""}, {"tls-hostname", ""}}}}},
      {"insecure destination",
       off,
       MigrationSide::destination,
       {{"migrate-set-parameters", Json{{"tls-creds", ""}, {"tls-authz", ""}}}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    EXPECT_EQ(tls_setup(c.tls, c.side), c.want);
  }
}

TEST(MigrationTls, UriHost) {
  EXPECT_EQ(uri_host("tcp:10.2.0.2:4444"), "10.2.0.2");
  EXPECT_EQ(uri_host("tcp:[fd00::2]:4444"), "fd00::2");
  EXPECT_EQ(uri_host("tcp:dst.example:4444"), "dst.example");
  EXPECT_EQ(uri_host("unix:/run/m.sock"), "");
  EXPECT_EQ(uri_host("tcp::4444"), "");
}

TEST(MigrationTls, Describe) {
  EXPECT_EQ(describe(MigrationTls{true, "/a", "/b", "", "10.2.0.2"}), "x509, peer verified as 10.2.0.2");
  EXPECT_EQ(describe(MigrationTls{.enabled = false}), "off (--insecure-migration)");
  EXPECT_EQ(describe(MigrationTls{true, "/a", "/b", "", "10.2.0.2", "CN=src"}),
            "x509, peer verified as 10.2.0.2, only CN=src accepted");
}

TEST(MigrationTls, AuthzObject) {
  EXPECT_EQ(tls_authz_object("CN=src,O=site"),
            Json::parse(R"({"qom-type":"authz-list","id":"vmroam-migration-authz","policy":"deny",
                            "rules":[{"match":"CN=src,O=site","policy":"allow","format":"exact"}]})"));
}

}  // namespace
}  // namespace vmroam::migration
