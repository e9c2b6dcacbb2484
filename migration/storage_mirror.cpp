// Storage migration's I/O (storage_mirror.hpp). Every command comes from storage_plan.
#include "migration/storage_mirror.hpp"

#include <algorithm>

#include "common/core/log.hpp"
#include "migration/progress.hpp"

namespace vmroam::migration {

namespace {

// How often the teardown looks for force-cancelled mirrors to be gone, and how many times.
constexpr std::chrono::milliseconds kTeardownPoll{50};
constexpr int kTeardownTries = 100;
constexpr std::chrono::milliseconds kRenderEvery{500};

}  // namespace

StorageMirror::StorageMirror(boost::asio::io_context& io, qmp::QmpClient& source, qmp::QmpClient& destination,
                             StorageOptions options, const Clock& clock)
    : io_(io),
      src_(source),
      dst_(destination),
      opt_(std::move(options)),
      clock_(clock),
      poll_timer_(io),
      deadline_timer_(io) {
  plan_.nbd_port = opt_.nbd_port;
}

StorageMirror::~StorageMirror() { *alive_ = false; }

void StorageMirror::set_transport(const MigrationTls& tls, const std::string& nbd_host) {
  plan_.tls = tls;
  plan_.nbd_host = nbd_host;
}

double StorageMirror::ms_since(TimePoint t) const {
  return std::chrono::duration<double, std::milli>(clock_.now() - t).count();
}

DiskReport* StorageMirror::report(const std::string& job_id) {
  for (std::size_t i = 0; i < plan_.disks.size(); ++i)
    if (mirror_job_id(plan_.disks[i]) == job_id) return &reports_[i];
  return nullptr;
}

// One command after the other; a refused one (unless may_fail) stops with QEMU's reason.
void StorageMirror::run_steps(qmp::QmpClient& q, std::vector<QmpStep> steps, Done done) {
  if (steps.empty()) return done(ok());
  auto first = steps.front();
  steps.erase(steps.begin());
  q.execute(first.name, first.args,
            [this, &q, first, rest = std::move(steps), done, alive = alive_](Result<Json> r) mutable {
              if (!*alive) return;
              if (!r && !first.may_fail)
                return done(fail(r.error().code, q.name() + " " + first.name + ": " + r.error().context));
              run_steps(q, std::move(rest), done);
            });
}

void StorageMirror::prepare(Done done) {
  prepare_done_ = std::move(done);
  if (plan_.nbd_host.empty())
    return end_prepare(
        fail("storage_no_address", "no destination address for the NBD export (--uri tcp:HOST:PORT)"));
  deadline_timer_.expires_after(opt_.ready_timeout);
  deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) end_prepare(fail("storage_timeout", "the disk mirrors were not ready in time"));
  });
  src_.execute("query-block", Json(), [this, alive = alive_](Result<Json> s) {
    if (!*alive || !prepare_done_) return;
    if (!s) return end_prepare(fail(s.error().code, "source query-block: " + s.error().context));
    dst_.execute("query-block", Json(), [this, s = *s, alive](Result<Json> d) {
      if (!*alive || !prepare_done_) return;
      if (!d) return end_prepare(fail(d.error().code, "destination query-block: " + d.error().context));
      on_disks(s, *d);
    });
  });
}

void StorageMirror::on_disks(const Json& src_block, const Json& dst_block) {
  auto disks = match_disks(src_block, dst_block, opt_.wanted);
  if (!disks) return end_prepare(fail(disks.error()));
  plan_.disks = *disks;
  for (const auto& d : plan_.disks)
    reports_.push_back(
        DiskReport{d.name, d.virtual_size, d.allocated, 0, std::nullopt, std::nullopt, "copying"});
  log_info("storage_plan", {{"disks", std::to_string(plan_.disks.size())},
                            {"nbd", plan_.nbd_host + ":" + plan_.nbd_port},
                            {"tls", plan_.tls.enabled ? "x509" : "off"}});
  run_steps(dst_, destination_setup(plan_), [this, alive = alive_](Result<void> r) {
    if (!*alive || !prepare_done_) return;
    if (!r) return end_prepare(fail(r.error()));
    mirror_start_ = clock_.now();
    start_mirrors(0);
  });
}

// The mirror phase has the link to itself: no speed limit unless a budget is set (QEMU 7.2
// counts zero ranges against a mirror's speed, so a limit slows sparse disks needlessly).
void StorageMirror::start_mirrors(std::size_t i) {
  if (i == plan_.disks.size()) {
    mirrors_started_ = true;
    return poll();
  }
  const auto speed = opt_.budget / plan_.disks.size();
  run_steps(src_, source_setup(plan_, plan_.disks[i], speed), [this, i, alive = alive_](Result<void> r) {
    if (!*alive || !prepare_done_) return;
    if (!r) return end_prepare(fail(r.error()));
    start_mirrors(i + 1);
  });
}

void StorageMirror::poll() {
  src_.execute("query-block-jobs", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || !prepare_done_) return;
    if (!r) return end_prepare(fail(r.error().code, "source query-block-jobs: " + r.error().context));
    auto jobs = parse_block_jobs(*r);
    if (!jobs) return end_prepare(fail(jobs.error()));
    on_jobs(*jobs);
  });
}

void StorageMirror::on_jobs(const std::vector<MirrorJob>& jobs) {
  last_jobs_ = jobs;
  for (const auto& j : jobs)
    if (auto* rep = report(j.id)) rep->mirrored = j.offset;
  const auto now = clock_.now();
  if (on_progress_ && now - last_render_ >= kRenderEvery) {
    std::uint64_t done_bytes = 0;
    for (const auto& j : jobs) done_bytes += j.offset;
    const double secs = last_render_ == TimePoint{}
                            ? ms_since(mirror_start_) / 1000.0
                            : std::chrono::duration<double>(now - last_render_).count();
    const double rate =
        secs > 0 ? static_cast<double>(done_bytes - std::min(done_bytes, last_done_bytes_)) / secs : 0;
    on_progress_(render_disk_progress(jobs, plan_.disks.size(), rate, ms_since(mirror_start_) / 1000.0));
    last_render_ = now;
    last_done_bytes_ = done_bytes;
  }
  const auto state = classify_mirrors(jobs, plan_, opt_.settle_bytes);
  if (state.verdict == MirrorVerdict::failed) return end_prepare(fail("storage_mirror_failed", state.why));
  if (state.verdict == MirrorVerdict::settled) return settled();
  poll_timer_.expires_after(opt_.poll_interval);
  poll_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) poll();
  });
}

// Every mirror is ready and small: from now on they carry only the guest's new writes. With
// a budget, RAM gets most of it (share_link) before migrate starts.
void StorageMirror::settled() {
  for (auto& rep : reports_) {
    if (!rep.ready_ms) rep.ready_ms = ms_since(mirror_start_);
    rep.outcome = "ready";
  }
  share_ = share_link(opt_.budget, plan_.disks.size());
  if (!share_.ram) {
    apply_disk_speed();
    return end_prepare(ok());
  }
  std::vector<QmpStep> steps;
  for (const auto& d : plan_.disks)
    steps.push_back({"block-job-set-speed", Json{{"device", mirror_job_id(d)}, {"speed", share_.per_disk}}});
  steps.push_back({"migrate-set-parameters", Json{{"max-bandwidth", share_.ram}}});
  run_steps(src_, steps, [this, alive = alive_](Result<void> r) {
    if (*alive && prepare_done_) end_prepare(r);
  });
}

void StorageMirror::set_disk_share(std::uint64_t bytes_per_s) {
  disk_share_ = bytes_per_s;
  if (prepared_ && !switching_) apply_disk_speed();
}

// The ready mirrors' speed from the governor's split of the link (honest bandwidth). Before
// they are ready the mirror phase has the link to itself; in the pause nothing throttles them.
void StorageMirror::apply_disk_speed() {
  if (opt_.budget || !disk_share_ || plan_.disks.empty()) return;
  share_.per_disk = std::max<std::uint64_t>(disk_share_ / plan_.disks.size(), 1);
  for (const auto& d : plan_.disks)
    src_.execute("block-job-set-speed", Json{{"device", mirror_job_id(d)}, {"speed", share_.per_disk}},
                 [alive = alive_](Result<Json> r) {
                   if (*alive && !r) log_warn("disk_speed_failed", {{"error", r.error().to_string()}});
                 });
}

void StorageMirror::end_prepare(Result<void> r) {
  if (!prepare_done_) return;
  poll_timer_.cancel();
  deadline_timer_.cancel();
  if (r) {
    prepared_ = true;
    log_info("storage_ready", {{"ms", std::to_string(static_cast<long>(ms_since(mirror_start_)))}});
    watch();
  } else {
    failed_ = true;
    failure_ = r.error().to_string();
  }
  auto done = std::move(prepare_done_);
  prepare_done_ = nullptr;
  done(r);
}

// While RAM migrates: the dirty bytes for the progress line, and a mirror that vanished (its
// end event is the main signal; this catches one we missed).
void StorageMirror::watch() {
  poll_timer_.expires_after(kRenderEvery);
  poll_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || complete_done_ || failed_ || !prepared_ || switching_) return;
    src_.execute("query-block-jobs", Json(), [this, alive](Result<Json> r) {
      if (!*alive || complete_done_ || failed_ || switching_) return;
      auto jobs = r ? parse_block_jobs(*r) : Result<std::vector<MirrorJob>>(fail(r.error()));
      if (!jobs) return watch();
      last_jobs_ = *jobs;
      const auto state = classify_mirrors(*jobs, plan_, ~std::uint64_t{0});
      if (state.verdict == MirrorVerdict::failed) {
        failed_ = true;
        failure_ = state.why;
        if (on_failure_) on_failure_(state.why);
        return;
      }
      watch();
    });
  });
}

void StorageMirror::abort(const std::string& why) {
  if (prepare_done_) end_prepare(fail("cancelled", why));
}

void StorageMirror::on_source_event(const qmp::Event& e) {
  if (!e.name.starts_with("BLOCK_JOB_")) return;
  const auto id = e.data.is_object() ? e.data.value("device", std::string()) : std::string();
  auto* rep = report(id);
  // Jobs this side cancels in the teardown end as it asked; not a failure to report.
  if (!rep || tearing_down_) return;
  if (e.name == "BLOCK_JOB_READY") {
    if (!rep->ready_ms) rep->ready_ms = ms_since(mirror_start_);
    return;
  }
  const std::string error = e.data.value("error", std::string());
  const bool ended = e.name == "BLOCK_JOB_COMPLETED" || e.name == "BLOCK_JOB_CANCELLED";
  const bool bad = !error.empty() || e.name == "BLOCK_JOB_CANCELLED" || e.name == "BLOCK_JOB_ERROR";
  if (ended && e.data.contains("offset")) rep->mirrored = e.data.value("offset", std::uint64_t{0});
  if (complete_done_ && ended) {
    completing_[id] = true;
    if (bad) return finish_complete(fail("storage_mirror_failed", rep->name + ": " + e.name + " " + error));
    rep->outcome = "completed";
    const bool all =
        std::all_of(completing_.begin(), completing_.end(), [](const auto& kv) { return kv.second; });
    if (all) finish_complete(ok());
    return;
  }
  if (!bad && !ended) return;
  rep->outcome = "failed: " + e.name + (error.empty() ? "" : " " + error);
  const auto why = rep->name + ": " + e.name + (error.empty() ? "" : ": " + error);
  log_error("storage_mirror_failed", {{"disk", rep->name}, {"event", e.name}, {"error", error}});
  if (prepare_done_) return end_prepare(fail("storage_mirror_failed", why));
  if (prepared_ && !failed_) {
    failed_ = true;
    failure_ = why;
    if (on_failure_) on_failure_(why);
  }
}

void StorageMirror::complete(Done done) {
  if (failed_) return done(fail("storage_mirror_failed", failure_));
  switching_ = true;
  poll_timer_.cancel();
  complete_done_ = std::move(done);
  for (const auto& d : plan_.disks) completing_[mirror_job_id(d)] = false;
  deadline_timer_.expires_after(opt_.complete_timeout);
  deadline_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive)
      finish_complete(fail("storage_timeout", "the mirrors did not complete at the switchover"));
  });
  // In-band commands are answered in order: the query sees the jobs before the cancels.
  src_.execute("query-block-jobs", Json(), [this, alive = alive_](Result<Json> r) {
    if (!*alive || !r) return;
    if (auto jobs = parse_block_jobs(*r))
      for (const auto& j : *jobs)
        if (auto* rep = report(j.id)) rep->dirty_at_switch = j.remaining();
  });
  std::vector<QmpStep> steps;
  // The last dirty bytes are copied while the guest is stopped: no budget throttles them.
  if (share_.per_disk)
    for (const auto& d : plan_.disks)
      steps.push_back({"block-job-set-speed", Json{{"device", mirror_job_id(d)}, {"speed", 0}}});
  for (auto& s : switchover_steps(plan_)) steps.push_back(std::move(s));
  run_steps(src_, steps, [this, alive = alive_](Result<void> r) {
    if (*alive && !r) finish_complete(r);
  });
}

void StorageMirror::finish_complete(Result<void> r) {
  if (!complete_done_) return;
  deadline_timer_.cancel();
  if (!r) {
    failed_ = true;
    failure_ = r.error().to_string();
  }
  auto done = std::move(complete_done_);
  complete_done_ = nullptr;
  done(r);
}

// Force-cancelled mirrors take a moment to go; blockdev-del of their target fails until then.
void StorageMirror::wait_gone(int tries, std::function<void()> then) {
  src_.execute("query-block-jobs", Json(), [this, tries, then, alive = alive_](Result<Json> r) {
    if (!*alive) return;
    auto jobs = r ? parse_block_jobs(*r) : Result<std::vector<MirrorJob>>(fail(r.error()));
    const bool ours = jobs && std::any_of(jobs->begin(), jobs->end(),
                                          [this](const MirrorJob& j) { return report(j.id) != nullptr; });
    if (!ours || tries <= 0) return then();
    poll_timer_.expires_after(kTeardownPoll);
    poll_timer_.async_wait([this, tries, then, alive](const boost::system::error_code& ec) {
      if (!ec && *alive) wait_gone(tries - 1, then);
    });
  });
}

void StorageMirror::teardown(bool switched, std::function<void()> done) {
  tearing_down_ = true;
  poll_timer_.cancel();
  deadline_timer_.cancel();
  if (plan_.disks.empty()) {
    // Nothing was mirrored; an export may have been started: stop it.
    return run_steps(dst_, destination_teardown(), [done](Result<void>) { done(); });
  }
  std::vector<std::string> alive_jobs;
  for (std::size_t i = 0; i < plan_.disks.size(); ++i) {
    if (reports_[i].outcome == "completed") continue;
    alive_jobs.push_back(mirror_job_id(plan_.disks[i]));
    if (!switched && !reports_[i].outcome.starts_with("failed")) reports_[i].outcome = "abandoned";
  }
  auto cancels = source_teardown(plan_, alive_jobs);
  std::vector<QmpStep> force(cancels.begin(),
                             cancels.begin() + static_cast<std::ptrdiff_t>(alive_jobs.size()));
  std::vector<QmpStep> dels(cancels.begin() + static_cast<std::ptrdiff_t>(alive_jobs.size()), cancels.end());
  run_steps(src_, force, [this, dels, done, alive = alive_](Result<void>) {
    if (!*alive) return;
    wait_gone(kTeardownTries, [this, dels, done, alive] {
      if (!*alive) return;
      run_steps(src_, dels, [this, done, alive](Result<void>) {
        if (!*alive) return;
        run_steps(dst_, destination_teardown(), [done](Result<void>) { done(); });
      });
    });
  });
}

std::string StorageMirror::status_suffix() const {
  if (!mirrors_started_) return {};
  std::uint64_t dirty = 0;
  for (const auto& j : last_jobs_) dirty += j.remaining();
  return "  | disk " + std::to_string(plan_.disks.size()) + " mirrored, dirty " + format_bytes(dirty);
}

Json StorageMirror::summary() const {
  Json disks = Json::array();
  for (const auto& r : reports_) disks.push_back(to_json(r));
  Json s{{"disks", disks},
         {"nbd", plan_.nbd_host + ":" + plan_.nbd_port},
         {"nbd_tls", describe(plan_.tls)},
         {"budget", opt_.budget}};
  if (share_.ram || share_.per_disk) s["link_share"] = {{"ram", share_.ram}, {"per_disk", share_.per_disk}};
  if (!failure_.empty()) s["error"] = failure_;
  return s;
}

}  // namespace vmroam::migration
