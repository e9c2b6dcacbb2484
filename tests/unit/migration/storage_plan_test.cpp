// Storage migration's pure part (migration/storage_plan.hpp): which disks move, the QMP
// commands for each side, the readiness decision, the link share and the progress line.
#include "migration/storage_plan.hpp"

#include <gtest/gtest.h>

namespace vmroam::migration {
namespace {

// query-block as QEMU 7.2 answers it (trimmed): a virtio-blk disk from -blockdev, a CD-ROM
// without a disc, a read-only disk.
Json query_block(const std::string& node, std::uint64_t size, std::uint64_t actual) {
  return Json::parse(R"([
    {"device": "", "qdev": "/machine/peripheral/vdisk0/virtio-backend", "locked": false, "type": "unknown",
     "inserted": {"node-name": ")" +
                     node + R"(", "ro": false, "drv": "raw",
                  "image": {"virtual-size": )" +
                     std::to_string(size) + R"(, "actual-size": )" + std::to_string(actual) +
                     R"(, "filename": "/img"}}},
    {"device": "ide1-cd0", "qdev": "/machine/unattached/device[23]", "locked": false, "type": "unknown"},
    {"device": "", "qdev": "/machine/peripheral/seed/virtio-backend",
     "inserted": {"node-name": "seed", "ro": true, "image": {"virtual-size": 4096}}}
  ])");
}

TEST(StoragePlan, DeviceId) {
  EXPECT_EQ(device_id("/machine/peripheral/vdisk0/virtio-backend"), "vdisk0");
  EXPECT_EQ(device_id("/machine/peripheral/scsi0"), "scsi0");
  EXPECT_EQ(device_id("/machine/unattached/device[3]"), "/machine/unattached/device[3]");
}

TEST(StoragePlan, MatchDisks) {
  const auto src = query_block("data0", 256 << 20, 128 << 20);
  const auto dst = query_block("target0", 256 << 20, 4096);
  const DiskPair want{
      "/machine/peripheral/vdisk0/virtio-backend", "vdisk0", "data0", "target0", 256 << 20, 128 << 20};
  struct Case {
    const char* description;
    Json dst;
    std::vector<std::string> wanted;
    std::string error;  // empty: `want` is the one disk
  };
  const std::vector<Case> cases = {
      {"all: the writable disk with a medium, matched by device", dst, {}, ""},
      {"by device id", dst, {"vdisk0"}, ""},
      {"by qdev path", dst, {"/machine/peripheral/vdisk0/virtio-backend"}, ""},
      {"by source node name", dst, {"data0"}, ""},
      {"unknown name", dst, {"vdisk9"}, "storage_no_disk"},
      {"read-only disk named", dst, {"seed"}, "storage_no_disk"},
      {"destination lacks the device", Json::array(), {}, "storage_no_target"},
      {"destination target of another size", query_block("t", 128 << 20, 0), {}, "storage_size_mismatch"},
      {"destination answer not a list", Json::object(), {}, "bad_query_block"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    auto got = match_disks(src, c.dst, c.wanted);
    if (c.error.empty()) {
      ASSERT_TRUE(got) << got.error().to_string();
      EXPECT_EQ(*got, std::vector<DiskPair>{want});
    } else {
      ASSERT_FALSE(got);
      EXPECT_EQ(got.error().code, c.error);
    }
  }
  auto none = match_disks(Json::array(), dst, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, "storage_no_disk");
}

StoragePlan plan(bool tls, std::string dn = {}) {
  StoragePlan p;
  p.disks = {DiskPair{"/machine/peripheral/vdisk0/virtio-backend", "vdisk0", "data0", "target0", 1 << 20, 0}};
  p.nbd_host = "192.0.2.3";
  p.tls =
      tls ? MigrationTls{true, "/s", "/d", "", "192.0.2.3", std::move(dn)} : MigrationTls{.enabled = false};
  return p;
}

TEST(StoragePlan, DestinationSetup) {
  const Json addr{{"type", "inet"}, {"data", {{"host", "192.0.2.3"}, {"port", "10809"}}}};
  const QmpStep stale{"nbd-server-stop", Json::object(), true};
  const QmpStep exp{"block-export-add", Json{{"type", "nbd"},
                                             {"id", "vmroam-vdisk0"},
                                             {"node-name", "target0"},
                                             {"name", "vmroam-vdisk0"},
                                             {"writable", true}}};
  struct Case {
    const char* description;
    StoragePlan p;
    Json start;
  };
  const std::vector<Case> cases = {
      {"TLS with the migration's server creds and the authz list", plan(true, "CN=src"),
       Json{{"addr", addr}, {"tls-creds", kTlsCredsDestinationId}, {"tls-authz", kTlsAuthzId}}},
      {"TLS, any peer the CA signed", plan(true),
       Json{{"addr", addr}, {"tls-creds", kTlsCredsDestinationId}}},
      {"insecure: plaintext NBD", plan(false), Json{{"addr", addr}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    EXPECT_EQ(destination_setup(c.p), (std::vector<QmpStep>{stale, {"nbd-server-start", c.start}, exp}));
  }
}

TEST(StoragePlan, SourceSetup) {
  const auto p = plan(true);
  const auto steps = source_setup(p, p.disks[0], 0);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0], (QmpStep{"blockdev-del", Json{{"node-name", "vmroam-nbd-vdisk0"}}, true}));
  EXPECT_EQ(steps[1].args, Json::parse(R"({"driver":"nbd","node-name":"vmroam-nbd-vdisk0",
      "server":{"type":"inet","host":"192.0.2.3","port":"10809"},"export":"vmroam-vdisk0",
      "tls-creds":"vmroam-migration-tls-client","tls-hostname":"192.0.2.3"})"));
  EXPECT_EQ(steps[2],
            (QmpStep{"blockdev-mirror", Json::parse(R"({"job-id":"vmroam-mirror-vdisk0","device":"data0",
      "target":"vmroam-nbd-vdisk0","sync":"full"})")}));
  // A budget limits the mirror; plaintext has no TLS keys at all.
  const auto q = plan(false);
  const auto limited = source_setup(q, q.disks[0], 5'000'000);
  EXPECT_EQ(limited[2].args["speed"], 5'000'000);
  EXPECT_FALSE(limited[1].args.contains("tls-creds"));
  EXPECT_FALSE(limited[1].args.contains("tls-hostname"));
}

TEST(StoragePlan, SwitchoverAndTeardown) {
  const auto p = plan(true);
  EXPECT_EQ(switchover_steps(p),
            (std::vector<QmpStep>{{"block-job-cancel", Json{{"device", "vmroam-mirror-vdisk0"}}}}));
  EXPECT_EQ(source_teardown(p, {"vmroam-mirror-vdisk0"}),
            (std::vector<QmpStep>{
                {"block-job-cancel", Json{{"device", "vmroam-mirror-vdisk0"}, {"force", true}}, true},
                {"blockdev-del", Json{{"node-name", "vmroam-nbd-vdisk0"}}, true}}));
  EXPECT_EQ(source_teardown(p, {}).size(), 1u);
  EXPECT_EQ(destination_teardown(), (std::vector<QmpStep>{{"nbd-server-stop", Json::object(), true}}));
}

TEST(StoragePlan, ParseBlockJobs) {
  auto jobs =
      parse_block_jobs(Json::parse(R"([{"auto-finalize":true,"io-status":"ok","device":"vmroam-mirror-vdisk0",
      "busy":false,"len":67108864,"offset":67100000,"status":"ready","paused":false,"speed":0,"ready":true,
      "type":"mirror"}])"));
  ASSERT_TRUE(jobs);
  EXPECT_EQ(*jobs,
            (std::vector<MirrorJob>{{"vmroam-mirror-vdisk0", "ready", 67108864, 67100000, true, "ok"}}));
  EXPECT_EQ((*jobs)[0].remaining(), 8864u);
  EXPECT_FALSE(parse_block_jobs(Json::object()));
  EXPECT_FALSE(parse_block_jobs(Json::array({1})));
}

TEST(StoragePlan, ClassifyMirrors) {
  const auto p = plan(true);
  const std::string id = "vmroam-mirror-vdisk0";
  struct Case {
    const char* description;
    std::vector<MirrorJob> jobs;
    MirrorVerdict want;
  };
  const std::vector<Case> cases = {
      {"still copying", {{id, "running", 100, 40, false, "ok"}}, MirrorVerdict::copying},
      {"ready but too much dirty", {{id, "ready", 4 << 20, 1 << 20, true, "ok"}}, MirrorVerdict::copying},
      {"ready and small", {{id, "ready", 4 << 20, (4 << 20) - 4096, true, "ok"}}, MirrorVerdict::settled},
      {"copied but not ready yet", {{id, "running", 100, 100, false, "ok"}}, MirrorVerdict::copying},
      {"the job ended", {}, MirrorVerdict::failed},
      {"another job only", {{"other", "ready", 1, 1, true, "ok"}}, MirrorVerdict::failed},
      {"I/O error on the target", {{id, "running", 100, 40, false, "failed"}}, MirrorVerdict::failed},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.description);
    EXPECT_EQ(classify_mirrors(c.jobs, p, 64 * 1024).verdict, c.want);
  }
  EXPECT_EQ(classify_mirrors({}, p, 0).why, "vdisk0: the mirror job ended");
}

TEST(StoragePlan, ShareLink) {
  EXPECT_EQ(share_link(0, 2), LinkShare{});
  EXPECT_EQ(share_link(12'500'000, 0), LinkShare{});
  EXPECT_EQ(share_link(12'500'000, 1), (LinkShare{10'937'500, 1'562'500}));
  EXPECT_EQ(share_link(12'500'000, 2), (LinkShare{10'937'500, 781'250}));
  // The shares never exceed the budget.
  for (std::uint64_t b : {1ull, 7ull, 8ull, 1000ull, 125'000'000ull}) {
    const auto s = share_link(b, 3);
    EXPECT_LE(s.ram + 3 * s.per_disk, b + 3) << b;
  }
}

TEST(StoragePlan, ReportAndProgress) {
  DiskReport r{"vdisk0", 256, 128, 130, 1500.0, 4096, "completed"};
  EXPECT_EQ(to_json(r), Json::parse(R"({"disk":"vdisk0","virtual_size":256,"allocated_bytes":128,
      "mirrored_bytes":130,"ready_ms":1500.0,"dirty_bytes_at_switchover":4096,"outcome":"completed"})"));
  EXPECT_TRUE(to_json(DiskReport{})["ready_ms"].is_null());
  const std::vector<MirrorJob> jobs{{"a", "running", 100 << 20, 50 << 20, false, "ok"},
                                    {"b", "ready", 100 << 20, 100 << 20, true, "ok"}};
  EXPECT_EQ(render_disk_progress(jobs, 2, 11.3e6, 5.2, 8),
            "disk [######..]  75%  150.0 MiB/200.0 MiB  ready 1/2  11.3 MB/s  5.2 s");
}

}  // namespace
}  // namespace vmroam::migration
