// StorageMirror (migration/storage_mirror.hpp) against two scripted QEMUs: the commands of
// each phase in order, readiness from query-block-jobs, the graceful completion at the
// switchover, and every failure leaving the source on its own disk (no pivot, teardown).
#include "migration/storage_mirror.hpp"

#include <gtest/gtest.h>

#include "migration/switchover.hpp"

#include "common/core/clock.hpp"
#include "tests/unit/migration/fake_qemu.hpp"

namespace vmroam::migration {
namespace {

using qmp::QmpClient;
using qmp::testing::FakeQemu;
using qmp::testing::run_until;
using std::chrono::milliseconds;

Json query_block(const std::string& node) {
  return Json::parse(R"([{"device": "", "qdev": "/machine/peripheral/vdisk0/virtio-backend",
      "inserted": {"node-name": ")" +
                     node + R"(", "ro": false,
                   "image": {"virtual-size": 268435456, "actual-size": 134217728}}}])");
}

struct Rig {
  boost::asio::io_context io;
  FakeQemu src{io, "source"};
  FakeQemu dst{io, "destination"};
  std::unique_ptr<QmpClient> src_client, dst_client;
  SystemClock clock;
  std::unique_ptr<StorageMirror> sm;
  // The mirror job as query-block-jobs shows it; absent = ended.
  std::optional<MirrorJob> job;
  int polls_until_ready = 2;
  std::string complete_error;  // BLOCK_JOB_COMPLETED's error at the switchover
  std::optional<Result<void>> prepared, completed;
  bool torn_down = false;
  bool after_mirror = false;  // a test flag: the mirror fails once started

  Rig() {
    src_client = std::make_unique<QmpClient>(src.client_transport(), "source");
    dst_client = std::make_unique<QmpClient>(dst.client_transport(), "destination");
    int started = 0;
    src_client->start([&](Result<qmp::Greeting> g) { started += g ? 1 : 100; });
    dst_client->start([&](Result<qmp::Greeting> g) { started += g ? 1 : 100; });
    run_until(io, [&] { return started >= 2; });
    src.on_command = [this](const FakeQemu::Received& r) { on_source(r); };
    dst.on_command = [this](const FakeQemu::Received& r) {
      if (r.name == "query-block") return dst.reply(r.id, query_block("target0"));
      dst.reply(r.id, Json::object());
    };
    src_client->set_event_handler([this](const qmp::Event& e) {
      if (sm) sm->on_source_event(e);
    });
  }

  void on_source(const FakeQemu::Received& r) {
    if (r.name == "query-block") return src.reply(r.id, query_block("data0"));
    if (r.name == "migrate") return migrate(r);
    if (r.name == "migrate-continue") {
      src.reply(r.id, Json::object());
      src.event("MIGRATION", Json{{"status", "completed"}});
      return dst.event("RESUME");
    }
    if (r.name == "blockdev-mirror") job = MirrorJob{r.args["job-id"], "running", 268435456, 0, false, "ok"};
    if (r.name == "query-block-jobs") {
      Json list = Json::array();
      if (job) {
        if (--polls_until_ready <= 0 && !job->ready) {
          job->ready = true;
          job->status = "ready";
          job->offset = job->len - 4096;
          src.event("BLOCK_JOB_READY", Json{{"device", job->id}, {"type", "mirror"}});
        }
        list.push_back(Json{{"device", job->id},
                            {"status", job->status},
                            {"len", job->len},
                            {"offset", job->offset},
                            {"ready", job->ready},
                            {"io-status", job->io_status}});
      }
      return src.reply(r.id, list);
    }
    src.reply(r.id, Json::object());
    if (r.name == "block-job-cancel" && job) {
      Json data{{"device", job->id}, {"len", job->len}, {"offset", job->len}, {"type", "mirror"}};
      if (!complete_error.empty()) data["error"] = complete_error;
      const bool force = r.args.value("force", false);
      src.event(force ? "BLOCK_JOB_CANCELLED" : "BLOCK_JOB_COMPLETED", data);
      job.reset();
    }
  }

  // QEMU 7.2 with pause-before-switchover, in short: active, STOP, pre-switchover.
  void migrate(const FakeQemu::Received& r) {
    src.reply(r.id, Json::object());
    src.event("MIGRATION", Json{{"status", "active"}});
    src.event("STOP");
    src.event("MIGRATION", Json{{"status", "pre-switchover"}});
  }

  void start(StorageOptions o = {}) {
    o.enabled = true;
    o.poll_interval = milliseconds(5);
    o.complete_timeout = milliseconds(300);
    sm = std::make_unique<StorageMirror>(io, *src_client, *dst_client, o, clock);
    sm->set_transport(MigrationTls{true, "/s", "/d", "", "192.0.2.3", "CN=src"}, "192.0.2.3");
    sm->prepare([this](Result<void> r) { prepared = r; });
    ASSERT_TRUE(run_until(io, [&] { return prepared.has_value(); }));
  }
  void complete() {
    sm->complete([this](Result<void> r) { completed = r; });
    ASSERT_TRUE(run_until(io, [&] { return completed.has_value(); }));
  }
  void teardown(bool switched) {
    sm->teardown(switched, [this] { torn_down = true; });
    ASSERT_TRUE(run_until(io, [&] { return torn_down; }));
  }
};

std::vector<std::string> without_polls(const FakeQemu& q) {
  std::vector<std::string> out;
  for (const auto& n : q.names())
    if (n != "query-block-jobs" && n != "qmp_capabilities") out.push_back(n);
  return out;
}

TEST(StorageMirror, MovesTheDiskAndCompletesAtTheSwitchover) {
  Rig rig;
  rig.start();
  ASSERT_TRUE(*rig.prepared) << rig.prepared->error().to_string();
  EXPECT_EQ(without_polls(rig.dst), (std::vector<std::string>{"query-block", "nbd-server-stop",
                                                              "nbd-server-start", "block-export-add"}));
  EXPECT_EQ(rig.dst.find("nbd-server-start")->args["tls-authz"], kTlsAuthzId);
  EXPECT_EQ(rig.dst.find("block-export-add")->args["node-name"], "target0");
  EXPECT_EQ(without_polls(rig.src),
            (std::vector<std::string>{"query-block", "blockdev-del", "blockdev-add", "blockdev-mirror"}));
  EXPECT_EQ(rig.src.find("blockdev-mirror")->args["device"], "data0");
  EXPECT_FALSE(rig.src.find("blockdev-mirror")->args.contains("speed"));  // no budget: the link decides

  rig.complete();
  ASSERT_TRUE(*rig.completed) << rig.completed->error().to_string();
  const auto* cancel = rig.src.find("block-job-cancel");
  ASSERT_NE(cancel, nullptr);
  EXPECT_FALSE(cancel->args.contains("force"));  // graceful: the source keeps its own disk
  EXPECT_EQ(rig.src.find("block-job-complete"), nullptr);

  rig.teardown(true);
  EXPECT_EQ(rig.dst.names().back(), "nbd-server-stop");
  const auto s = rig.sm->summary();
  ASSERT_EQ(s["disks"].size(), 1u);
  EXPECT_EQ(s["disks"][0]["outcome"], "completed");
  EXPECT_EQ(s["disks"][0]["dirty_bytes_at_switchover"], 4096);
  EXPECT_EQ(s["disks"][0]["allocated_bytes"], 134217728);
  EXPECT_TRUE(s["disks"][0]["ready_ms"].is_number());
  EXPECT_EQ(s["nbd"], "192.0.2.3:10809");
  EXPECT_EQ(s["nbd_tls"], "x509, peer verified as 192.0.2.3, only CN=src accepted");
}

TEST(StorageMirror, BudgetIsSharedOnceReadyAndLiftedForTheFinalDrain) {
  Rig rig;
  StorageOptions o;
  o.budget = 12'500'000;
  rig.start(o);
  ASSERT_TRUE(*rig.prepared);
  EXPECT_EQ(rig.src.find("blockdev-mirror")->args["speed"], 12'500'000);
  std::vector<Json> speeds;
  for (const auto& r : rig.src.received)
    if (r.name == "block-job-set-speed") speeds.push_back(r.args["speed"]);
  EXPECT_EQ(speeds, std::vector<Json>{1'562'500});
  EXPECT_EQ(rig.src.find("migrate-set-parameters")->args, Json::parse(R"({"max-bandwidth":10937500})"));
  rig.complete();
  ASSERT_TRUE(*rig.completed);
  speeds.clear();
  for (const auto& r : rig.src.received)
    if (r.name == "block-job-set-speed") speeds.push_back(r.args["speed"]);
  EXPECT_EQ(speeds, (std::vector<Json>{1'562'500, 0}));
}

TEST(StorageMirror, RefusedNbdClientStopsBeforeAnyMirror) {
  Rig rig;
  auto plain = rig.src.on_command;
  rig.src.on_command = [&](const FakeQemu::Received& r) {
    if (r.name == "blockdev-add")
      return rig.src.error(r.id, "GenericError", "Certificate does not match the hostname 192.0.2.3");
    rig.on_source(r);
  };
  rig.start();
  ASSERT_FALSE(*rig.prepared);
  EXPECT_NE(rig.prepared->error().to_string().find("source blockdev-add: GenericError: Certificate"),
            std::string::npos);
  EXPECT_EQ(rig.src.find("blockdev-mirror"), nullptr);
  rig.teardown(false);
  EXPECT_EQ(rig.dst.names().back(), "nbd-server-stop");
}

TEST(StorageMirror, MirrorThatEndsWhileCopyingFailsThePrepare) {
  Rig rig;
  rig.polls_until_ready = 1000;
  rig.dst.on_command = [&](const FakeQemu::Received& r) {
    if (r.name == "query-block") return rig.dst.reply(r.id, query_block("target0"));
    rig.dst.reply(r.id, Json::object());
    if (r.name == "block-export-add")
      // The destination dies mid-mirror: the job reports an error and ends.
      rig.after_mirror = true;
  };
  rig.src.on_command = [&](const FakeQemu::Received& r) {
    rig.on_source(r);
    if (r.name == "blockdev-mirror" && rig.after_mirror) {
      rig.src.event("BLOCK_JOB_ERROR",
                    Json{{"device", rig.job->id}, {"operation", "write"}, {"action", "report"}});
      rig.job.reset();
    }
  };
  rig.start();
  ASSERT_FALSE(*rig.prepared);
  EXPECT_EQ(rig.prepared->error().code, "storage_mirror_failed");
  rig.teardown(false);
  const auto s = rig.sm->summary();
  EXPECT_EQ(s["disks"][0]["outcome"], "failed: BLOCK_JOB_ERROR");
  EXPECT_NE(rig.src.find("blockdev-del"), nullptr);
}

TEST(StorageMirror, CompletionErrorAndAbandonedMirror) {
  {
    Rig rig;
    rig.complete_error = "Input/output error";
    rig.start();
    ASSERT_TRUE(*rig.prepared);
    rig.complete();
    ASSERT_FALSE(*rig.completed);
    EXPECT_NE(rig.completed->error().to_string().find("Input/output error"), std::string::npos);
  }
  {
    // Undone after ready (the migration was cancelled): the mirror is force-cancelled.
    Rig rig;
    rig.start();
    ASSERT_TRUE(*rig.prepared);
    rig.teardown(false);
    const auto* cancel = rig.src.find("block-job-cancel");
    ASSERT_NE(cancel, nullptr);
    EXPECT_EQ(cancel->args["force"], true);
    EXPECT_EQ(rig.sm->summary()["disks"][0]["outcome"], "abandoned");
    EXPECT_EQ(rig.dst.names().back(), "nbd-server-stop");
  }
}

TEST(StorageMirror, AbortEndsAWaitingPrepare) {
  Rig rig;
  rig.polls_until_ready = 1'000'000;
  StorageOptions o;
  o.enabled = true;
  o.poll_interval = milliseconds(5);
  rig.sm = std::make_unique<StorageMirror>(rig.io, *rig.src_client, *rig.dst_client, o, rig.clock);
  rig.sm->set_transport(MigrationTls{.enabled = false}, "192.0.2.3");
  rig.sm->prepare([&](Result<void> r) { rig.prepared = r; });
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.src.find("blockdev-mirror") != nullptr; }));
  rig.sm->abort("interrupted (SIGINT)");
  ASSERT_TRUE(rig.prepared);
  EXPECT_EQ(rig.prepared->error().code, "cancelled");
  EXPECT_FALSE(rig.src.find("blockdev-add")->args.contains("tls-creds"));  // --insecure-migration
}

// The coupled sequence with a disk: mirrors ready before migrate, completed before
// migrate-continue, NBD stopped before the summary, which carries the disk's report.
TEST(StorageMirror, InTheSwitchoverSequence) {
  Rig rig;
  StorageOptions so;
  so.enabled = true;
  so.poll_interval = milliseconds(5);
  rig.sm = std::make_unique<StorageMirror>(rig.io, *rig.src_client, *rig.dst_client, so, rig.clock);
  rig.sm->set_transport(MigrationTls{.enabled = false}, "192.0.2.3");
  SwitchoverOptions o;
  o.uri = "tcp:192.0.2.3:4444";
  o.progress_interval = milliseconds(10);
  Switchover sw(rig.io, *rig.src_client, *rig.dst_client, nullptr, o, rig.clock);
  sw.set_storage(rig.sm.get());
  std::optional<Summary> summary;
  sw.start([&](const Summary& s) { summary = s; });
  ASSERT_TRUE(run_until(rig.io, [&] { return summary.has_value(); }));
  EXPECT_EQ(summary->outcome, "completed") << summary->error;
  auto at = [&](const std::string& name) {
    for (std::size_t i = 0; i < rig.src.received.size(); ++i)
      if (rig.src.received[i].name == name) return static_cast<int>(i);
    return -1;
  };
  EXPECT_LT(at("blockdev-mirror"), at("migrate"));
  EXPECT_LT(at("migrate"), at("block-job-cancel"));
  EXPECT_LT(at("block-job-cancel"), at("migrate-continue"));
  EXPECT_GE(at("block-job-cancel"), 0);
  EXPECT_EQ(rig.dst.names().back(), "nbd-server-stop");
  ASSERT_TRUE(summary->storage.is_object());
  EXPECT_EQ(summary->storage["disks"][0]["outcome"], "completed");
  EXPECT_EQ(summary->to_json()["storage"]["nbd_tls"], "off (--insecure-migration)");
}

// SIGINT while the disks copy: nothing migrates, the mirror is abandoned, NBD stops.
TEST(StorageMirror, CancelDuringTheMirrorPhase) {
  Rig rig;
  rig.polls_until_ready = 1'000'000;
  StorageOptions so;
  so.enabled = true;
  so.poll_interval = milliseconds(5);
  rig.sm = std::make_unique<StorageMirror>(rig.io, *rig.src_client, *rig.dst_client, so, rig.clock);
  rig.sm->set_transport(MigrationTls{.enabled = false}, "192.0.2.3");
  SwitchoverOptions o;
  o.uri = "tcp:192.0.2.3:4444";
  Switchover sw(rig.io, *rig.src_client, *rig.dst_client, nullptr, o, rig.clock);
  sw.set_storage(rig.sm.get());
  std::optional<Summary> summary;
  sw.start([&](const Summary& s) { summary = s; });
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.src.find("blockdev-mirror") != nullptr; }));
  sw.cancel("interrupted (SIGINT)");
  ASSERT_TRUE(run_until(rig.io, [&] { return summary.has_value(); }));
  EXPECT_EQ(summary->outcome, "cancelled");
  EXPECT_FALSE(summary->switched);
  EXPECT_EQ(rig.src.find("migrate"), nullptr);
  EXPECT_EQ(rig.src.find("block-job-cancel")->args["force"], true);
  EXPECT_EQ(summary->storage["disks"][0]["outcome"], "abandoned");
  EXPECT_EQ(rig.dst.names().back(), "nbd-server-stop");
}

}  // namespace
}  // namespace vmroam::migration
