#include "home-agent/cluster/cluster_node.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <tuple>
#include <utility>

#include "common/core/log.hpp"

namespace vmroam::ha {

namespace {

// Margin between "etcd may expire our lease" and "we stop acting": a late timer on a busy
// loop, clock rates. An active steps down when no keepalive sent in the last TTL − margin
// was confirmed (three to four keepalives at TTL/6 each: one slow answer is not a reason).
constexpr auto kLeaseMargin = std::chrono::milliseconds(500);
// Keepalives in flight at once: one stuck on a connection that went away (its deadline is
// request_timeout_ms) does not hold back the next ones, which go over the reconnected channel.
constexpr int kMaxKeepalivesInFlight = 3;

}  // namespace

ClusterNode::ClusterNode(boost::asio::io_context& io, cluster::Etcd& etcd, ClusterConfig config,
                         Ipv4Prefix home_prefix, const Clock& clock)
    : io_(io),
      etcd_(etcd),
      config_(std::move(config)),
      keys_(config_.prefix, home_prefix),
      home_prefix_(home_prefix),
      clock_(clock),
      keepalive_timer_(io),
      lease_deadline_timer_(io),
      reconnect_timer_(io) {}

ClusterNode::~ClusterNode() { stop(); }

Result<void> ClusterNode::open() {
  Result<void> joined = join_now();
  if (joined || joined.error().code != "etcd_unavailable") return joined;
  // etcd out of reach at start-up: the daemon comes up as a standby with nothing loaded and
  // reconnects (start()); reading etcd fills the mirror then. Not a start-up failure: an HA
  // started before etcd, or during an etcd outage, joins as soon as etcd answers.
  state_ = State::connecting;
  last_error_ = joined.error().to_string();
  opened_ = store::Snapshot{};
  log_warn("cluster_etcd_unreachable", {{"node", config_.node}, {"reason", last_error_}});
  return ok();
}

Result<void> ClusterNode::join_now() {
  VMROAM_TRY(lease_, etcd_.grant_lease_now(config_.lease_ttl_s));
  confirmed_sent_at_ = clock_.now();
  VMROAM_TRY(cluster::RangeResult range, etcd_.range_prefix_now(keys_.home()));
  VMROAM_TRY(store::Snapshot snap, to_snapshot(keys_, range.kvs));
  for (const auto& kv : range.kvs) {
    if (kv.key == keys_.leader())
      leader_ = kv.value;
    else
      mirrored_keys_.insert(kv.key);
  }
  opened_ = std::move(snap);
  opened_revision_ = range.revision;
  watched_revision_ = range.revision;
  const MemberRecord me = own_record();
  cluster::Txn put;
  put.mutations.push_back({false, keys_.member(config_.node), encode(me), lease_});
  VMROAM_TRY(cluster::TxnResult written, etcd_.txn_now(put));
  (void)written;
  published_ = me;
  log_info("cluster_joined", {{"node", config_.node},
                              {"home", keys_.home()},
                              {"revision", std::to_string(range.revision)},
                              {"leader", leader_.empty() ? "none" : leader_}});
  return ok();
}

Result<store::Snapshot> ClusterNode::load() {
  if (!opened_) return fail("cluster_not_open", "ClusterNode::open() first");
  store::Snapshot s = std::move(*opened_);
  opened_.reset();
  return s;
}

void ClusterNode::start(ClusterHooks hooks) {
  hooks_ = std::move(hooks);
  if (state_ == State::connecting) {
    arm_reconnect();
    return;
  }
  watch_from(opened_revision_ + 1);
  arm_keepalive();
  campaign();
}

void ClusterNode::watch_from(std::int64_t revision) {
  etcd_.watch_prefix(
      keys_.home(), revision,
      [this, epoch = epoch_](std::int64_t rev, std::vector<cluster::WatchEvent> events) {
        if (epoch == epoch_) on_events(rev, std::move(events));
      },
      [this, epoch = epoch_](const Error& e) {
        if (epoch == epoch_) lose_etcd(make_error("cluster_watch_ended", e.to_string()));
      });
}

void ClusterNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  keepalive_timer_.cancel();
  lease_deadline_timer_.cancel();
  reconnect_timer_.cancel();
  etcd_.cancel_watch();
  // A clean stop hands over at once instead of after the lease's TTL (connecting: etcd does
  // not answer, and our lease runs out by itself).
  if (lease_ != 0 && state_ != State::deposed && state_ != State::connecting) etcd_.revoke_lease_now(lease_);
}

std::string ClusterNode::role() const {
  switch (state_) {
    case State::connecting:
      return "connecting";
    case State::standby:
      return "standby";
    case State::electing:
      return "electing";
    case State::active:
      return "active";
    case State::deposed:
      return "deposed";
  }
  std::abort();
}

// ---- Losing etcd and finding it again (not active) ------------------------------------------

// An active that loses etcd is deposed (it may no longer act). Anyone else reconnects: it
// has acted on nothing, so it can start afresh from what etcd holds.
void ClusterNode::lose_etcd(const Error& why) {
  if (stopped_ || state_ == State::deposed) return;
  if (state_ == State::active) {
    depose(why);
    return;
  }
  last_error_ = why.to_string();
  if (state_ == State::connecting) return;
  log_warn("cluster_etcd_lost", {{"node", config_.node}, {"reason", last_error_}});
  state_ = State::connecting;
  ++epoch_;  // what is still on its way for the old watch, campaign or lease is stale
  won_revision_ = 0;
  keepalive_timer_.cancel();
  etcd_.cancel_watch();
  backoff_ = kReconnectInitial;
  arm_reconnect();
}

void ClusterNode::arm_reconnect() {
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, kReconnectMax);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) reconnect();
  });
}

// A new lease, the subtree read afresh, then rejoin(). The old lease is revoked once etcd
// answers again: whatever it held (our member record; a leader key whose campaign answer we
// never saw) goes at once instead of after its TTL.
void ClusterNode::reconnect() {
  if (stopped_ || state_ != State::connecting) return;
  reconnect_timer_.cancel();
  ++reconnects_;
  const std::uint64_t epoch = ++epoch_;
  auto retry = [this](const Error& e) {
    last_error_ = e.to_string();
    log_warn(
        "cluster_reconnect_failed",
        {{"node", config_.node}, {"reason", last_error_}, {"retry_ms", std::to_string(backoff_.count())}});
    arm_reconnect();
  };
  etcd_.grant_lease(config_.lease_ttl_s, [this, epoch, retry](const Result<std::int64_t>& lease) {
    if (stopped_ || state_ != State::connecting || epoch != epoch_) return;
    if (!lease) return retry(lease.error());
    if (const std::int64_t old = std::exchange(lease_, *lease); old != 0) etcd_.revoke_lease_now(old);
    confirmed_sent_at_ = clock_.now();
    etcd_.range_prefix(keys_.home(), [this, epoch, retry](const Result<cluster::RangeResult>& range) {
      if (stopped_ || state_ != State::connecting || epoch != epoch_) return;
      if (!range) return retry(range.error());
      resync(range->kvs);
      rejoin(range->revision);
    });
  });
}

// The mirror becomes what etcd holds: removals for records it lost, every record it has.
void ClusterNode::resync(const std::vector<cluster::KeyValue>& kvs) {
  leader_.clear();
  std::unordered_set<std::string> now;
  for (const auto& kv : kvs) {
    if (kv.key == keys_.leader())
      leader_ = kv.value;
    else
      now.insert(kv.key);
  }
  for (const auto& key : mirrored_keys_)
    if (!now.contains(key)) hooks_.on_change(keys_.parse(key), nullptr);
  // In the order they were written, as the watch would have told them: a HoA's replay state
  // is in its binding or its replay key, whichever came last (cluster_records.hpp); one txn
  // writes a replay key after the binding.
  std::vector<std::pair<ClusterKeys::Parsed, const cluster::KeyValue*>> order;
  order.reserve(kvs.size());
  for (const auto& kv : kvs)
    if (kv.key != keys_.leader()) order.emplace_back(keys_.parse(kv.key), &kv);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const bool a_replay = a.first.kind == ClusterKeys::Kind::replay;
    const bool b_replay = b.first.kind == ClusterKeys::Kind::replay;
    return std::tie(a.second->mod_revision, a_replay) < std::tie(b.second->mod_revision, b_replay);
  });
  for (const auto& [parsed, kv] : order) hooks_.on_change(parsed, kv);
  mirrored_keys_ = std::move(now);
}

void ClusterNode::rejoin(std::int64_t revision) {
  state_ = State::standby;
  backoff_ = kReconnectInitial;
  last_error_.clear();
  watched_revision_ = revision;
  log_info("cluster_reconnected", {{"node", config_.node},
                                   {"revision", std::to_string(revision)},
                                   {"attempts", std::to_string(reconnects_)},
                                   {"leader", leader_.empty() ? "none" : leader_}});
  watch_from(revision + 1);
  arm_keepalive();
  published_.reset();
  publish_member();
  campaign();
}

// ---- Election ---------------------------------------------------------------------------

void ClusterNode::campaign() {
  if (stopped_ || state_ != State::standby) return;
  state_ = State::electing;
  cluster::Txn txn;
  txn.compares.push_back({keys_.leader(), 0});
  txn.mutations.push_back({false, keys_.leader(), config_.node, lease_});
  txn.read_on_failure = keys_.leader();
  etcd_.txn(std::move(txn), [this, epoch = epoch_](const Result<cluster::TxnResult>& r) {
    if (epoch == epoch_) on_campaign(r);
  });
}

void ClusterNode::on_campaign(const Result<cluster::TxnResult>& r) {
  if (stopped_ || state_ != State::electing) return;
  if (!r) {
    // Our lease may be gone or etcd out of reach: we cannot know whether we won; reconnect
    // (a new lease; the old one, and a leader key it may hold, revoked).
    lose_etcd(make_error("cluster_campaign_failed", r.error().to_string()));
    return;
  }
  if (!r->succeeded) {
    state_ = State::standby;
    leader_ = r->read.empty() ? "" : r->read.front().value;
    if (r->read.empty()) {
      campaign();  // it went between our compare and our read
      return;
    }
    log_info("cluster_standby", {{"node", config_.node}, {"active", leader_}});
    publish_member();
    return;
  }
  won_revision_ = r->revision;
  leader_ = config_.node;
  log_info("cluster_elected", {{"node", config_.node}, {"revision", std::to_string(won_revision_)}});
  maybe_take_over();
}

// Takes over once the watch has delivered our own leader key (revision won_revision_): the
// mirror then holds every change committed before it.
void ClusterNode::maybe_take_over() {
  if (state_ != State::electing || won_revision_ == 0 || watched_revision_ < won_revision_) return;
  if (auto r = hooks_.on_elected(); !r) {
    depose(make_error("cluster_takeover_failed", r.error().to_string()));
    return;
  }
  state_ = State::active;
  log_info("cluster_active", {{"node", config_.node}, {"home", keys_.home()}});
  arm_lease_deadline();
  publish_member();
  send_next();
}

void ClusterNode::on_events(std::int64_t revision, std::vector<cluster::WatchEvent> events) {
  if (stopped_ || state_ == State::deposed || state_ == State::connecting) return;
  watched_revision_ = std::max(watched_revision_, revision);
  bool leader_gone = false;
  for (const auto& e : events) {
    const auto parsed = keys_.parse(e.kv.key);
    if (parsed.kind == ClusterKeys::Kind::leader) {
      if (e.erased) {
        leader_gone = true;
        if (state_ == State::active) depose(make_error("cluster_lease_lost", "our leader key was deleted"));
      } else {
        leader_ = e.kv.value;
      }
      continue;
    }
    // The active wrote these itself: its memory has them already.
    if (state_ == State::active) continue;
    if (e.erased)
      mirrored_keys_.erase(e.kv.key);
    else
      mirrored_keys_.insert(e.kv.key);
    hooks_.on_change(parsed, e.erased ? nullptr : &e.kv);
  }
  if (state_ == State::deposed) return;
  if (leader_gone && state_ == State::standby) {
    leader_.clear();
    campaign();
  }
  maybe_take_over();
}

// ---- Commits ------------------------------------------------------------------------------

Error ClusterNode::standby_error() const {
  return make_error("cluster_standby", "this home agent is a standby; the active one is " +
                                           (leader_.empty() ? std::string("being elected") : leader_));
}

void ClusterNode::commit(const store::Batch& batch, std::function<void(Result<void>)> done) {
  if (state_ != State::active) {
    done(fail(standby_error()));
    return;
  }
  for (auto& m : to_mutations(keys_, batch)) {
    // A binding put carries its HoA's replay state: a replay put queued before it is stale
    // and stays out of the txn (cluster_records.hpp), so that a replay key in the same txn
    // as a binding is always the later write.
    if (!m.erase) drop_replay_before(m.key);
    // etcd refuses a txn that names one key twice: the later write replaces the earlier.
    auto [it, fresh] = next_index_.try_emplace(m.key, next_.size());
    if (fresh)
      next_.push_back(std::move(m));
    else
      next_[it->second] = std::move(m);
  }
  next_done_.push_back({std::move(done), next_.size()});
  if (!in_flight_) send_next();
}

void ClusterNode::drop_replay_before(const std::string& key) {
  const auto parsed = keys_.parse(key);
  if (parsed.kind != ClusterKeys::Kind::binding) return;
  auto it = next_index_.find(keys_.home() + "replay/" + parsed.name);
  if (it == next_index_.end()) return;
  next_[it->second].key.clear();  // left out when the txn is built (send_next)
  next_index_.erase(it);
}

std::vector<std::function<void(Result<void>)>> ClusterNode::take_next(
    std::vector<cluster::Mutation>& mutations) {
  const std::size_t max = config_.max_txn_ops;
  std::size_t take = 0;
  std::size_t batches = 0;
  for (const auto& w : next_done_) {
    if (w.end > max) break;
    take = w.end;
    ++batches;
  }
  if (batches == 0) take = std::min<std::size_t>(max, next_.size());  // one batch too big for a txn
  mutations.assign(std::make_move_iterator(next_.begin()),
                   std::make_move_iterator(next_.begin() + static_cast<std::ptrdiff_t>(take)));
  next_.erase(next_.begin(), next_.begin() + static_cast<std::ptrdiff_t>(take));
  next_index_.clear();
  for (std::size_t i = 0; i < next_.size(); ++i)
    if (!next_[i].key.empty()) next_index_[next_[i].key] = i;
  std::vector<std::function<void(Result<void>)>> done;
  for (std::size_t i = 0; i < batches; ++i) done.push_back(std::move(next_done_[i].done));
  next_done_.erase(next_done_.begin(), next_done_.begin() + static_cast<std::ptrdiff_t>(batches));
  for (auto& w : next_done_) w.end -= take;
  return done;
}

void ClusterNode::send_next() {
  if (next_done_.empty() || in_flight_ || state_ != State::active) return;
  cluster::Txn txn;
  txn.compares.push_back({keys_.leader(), won_revision_});  // fencing
  auto done = take_next(txn.mutations);
  std::erase_if(txn.mutations, [](const cluster::Mutation& m) { return m.key.empty(); });
  in_flight_ = true;
  ++txns_sent_;
  if (txn.mutations.empty()) {
    // Nothing to write (every batch was empty): still in order behind the one in flight.
    boost::asio::post(io_, [this, done = std::move(done)]() mutable {
      on_committed(cluster::TxnResult{true, 0, {}}, std::move(done));
    });
    return;
  }
  etcd_.txn(std::move(txn), [this, done = std::move(done)](const Result<cluster::TxnResult>& r) mutable {
    on_committed(r, std::move(done));
  });
}

void ClusterNode::on_committed(const Result<cluster::TxnResult>& r,
                               std::vector<std::function<void(Result<void>)>> done) {
  in_flight_ = false;
  Result<void> outcome = ok();
  if (!r)
    outcome = fail("cluster_commit_failed", r.error().to_string());
  else if (!r->succeeded)
    outcome =
        fail("cluster_fenced", "our leadership (revision " + std::to_string(won_revision_) + ") is gone");
  for (auto& d : done) d(outcome);
  if (!outcome) {
    depose(outcome.error());
    return;
  }
  send_next();
}

Result<void> ClusterNode::commit_now(const store::Batch& batch) {
  if (state_ != State::active) return fail(standby_error());
  auto mutations = to_mutations(keys_, batch);
  // In txns of at most max_txn_ops mutations, each fenced (see the overview on splitting).
  for (std::size_t at = 0; at < mutations.size(); at += config_.max_txn_ops) {
    cluster::Txn txn;
    txn.compares.push_back({keys_.leader(), won_revision_});
    const std::size_t end = std::min<std::size_t>(mutations.size(), at + config_.max_txn_ops);
    txn.mutations.assign(mutations.begin() + static_cast<std::ptrdiff_t>(at),
                         mutations.begin() + static_cast<std::ptrdiff_t>(end));
    auto r = etcd_.txn_now(txn);
    if (!r) return fail("cluster_commit_failed", r.error().to_string());
    if (!r->succeeded) {
      Error e = make_error("cluster_fenced", "our leadership is gone");
      // After the caller has its answer: depose() ends the daemon.
      boost::asio::post(io_, [this, e] { depose(e); });
      return fail(e);
    }
  }
  return ok();
}

// ---- Lease ------------------------------------------------------------------------------------

void ClusterNode::arm_keepalive() {
  if (stopped_ || state_ == State::deposed) return;
  keepalive_timer_.expires_after(std::chrono::milliseconds(config_.lease_ttl_s * 1000 / 6));
  keepalive_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    keepalive_tick();
    arm_keepalive();
  });
}

TimePoint ClusterNode::lease_deadline() const {
  return confirmed_sent_at_ + std::chrono::seconds(config_.lease_ttl_s) - kLeaseMargin;
}

// The active's own deadline, on a timer of its own (not on the keepalive tick, which could
// see it up to a tick late, when etcd may already have expired the lease): at TTL − margin
// after the last confirmed keepalive was sent, it steps down unless a later one was confirmed.
void ClusterNode::arm_lease_deadline() {
  if (stopped_ || state_ != State::active) return;
  const Duration in = lease_deadline() - clock_.now();
  lease_deadline_timer_.expires_after(in > Duration::zero() ? in : Duration::zero());
  lease_deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !lease_expired_here()) arm_lease_deadline();
  });
}

// True (and deposed) if we are active and the lease may be gone in etcd by now.
bool ClusterNode::lease_expired_here() {
  if (state_ != State::active || clock_.now() < lease_deadline()) return false;
  depose(make_error("cluster_lease_unconfirmed", "no keepalive confirmed within the lease TTL (" +
                                                     std::to_string(config_.lease_ttl_s) +
                                                     " s) minus 500 ms"));
  return true;
}

void ClusterNode::keepalive_tick() {
  if (stopped_ || state_ == State::deposed || state_ == State::connecting || lease_expired_here()) return;
  const TimePoint now = clock_.now();
  if (now >= lease_deadline()) {  // not active: our lease may be gone, so would a campaign be
    lose_etcd(make_error("cluster_lease_unconfirmed", "no keepalive confirmed within the lease TTL"));
    return;
  }
  publish_member();
  if (keepalives_in_flight_ >= kMaxKeepalivesInFlight) return;  // the deadline above still runs
  ++keepalives_in_flight_;
  etcd_.keep_alive(lease_, [this, sent = now, epoch = epoch_](const Result<std::int64_t>& r) {
    --keepalives_in_flight_;
    if (stopped_ || state_ == State::deposed || epoch != epoch_) return;
    if (!r) {
      log_warn("cluster_keepalive_failed", {{"reason", r.error().to_string()}});
      return;  // the deadline decides
    }
    if (*r <= 0) {
      lose_etcd(make_error("cluster_lease_lost", "etcd says our lease is gone"));
      return;
    }
    confirmed_sent_at_ = std::max(confirmed_sent_at_, sent);
  });
}

// ---- Members --------------------------------------------------------------------------------

MemberRecord ClusterNode::own_record() const {
  return {config_.node,
          home_prefix_.to_string(),
          role(),
          config_.api_address,
          config_.service_address.to_string(),
          watched_revision_};
}

void ClusterNode::publish_member() {
  if (stopped_ || state_ == State::deposed || state_ == State::connecting || publishing_) return;
  MemberRecord me = own_record();
  if (published_ == me) return;
  publishing_ = true;
  etcd_.put({false, keys_.member(config_.node), encode(me), lease_},
            [this, me, epoch = epoch_](const Result<void>& r) {
              publishing_ = false;
              if (epoch != epoch_) return;  // on a lease we have left: the next tick writes it again
              if (!r) {
                log_warn("cluster_member_record_failed", {{"reason", r.error().to_string()}});
                return;  // the next tick tries again
              }
              published_ = me;
            });
}

void ClusterNode::survey(std::function<void(Result<ClusterStatus>)> done) {
  etcd_.range_prefix(keys_.members(), [this, done = std::move(done)](const Result<cluster::RangeResult>& r) {
    if (!r) {
      done(fail("cluster_unreachable", "etcd did not answer: " + r.error().to_string()));
      return;
    }
    auto st = std::make_shared<ClusterStatus>();
    st->node = config_.node;
    st->role = role();
    st->reconnects = reconnects_;
    st->home_prefix = home_prefix_.to_string();
    st->active = leader_;
    st->revision = r->revision;
    st->members = members_from(r->kvs);
    for (auto& m : st->members)  // ours is fresher in memory than in its last report
      if (m.record.node == config_.node && m.record.home_prefix == st->home_prefix) m.record = own_record();
    fill_lag(st->members);
    auto pending = std::make_shared<std::size_t>(st->members.size());
    if (st->members.empty()) {
      done(std::move(*st));
      return;
    }
    for (std::size_t i = 0; i < st->members.size(); ++i)
      etcd_.lease_ttl(st->members[i].lease, [st, pending, i, done](const Result<std::int64_t>& ttl) {
        st->members[i].lease_ttl_s = ttl ? *ttl : -1;
        if (--*pending == 0) done(std::move(*st));
      });
  });
}

void ClusterNode::depose(const Error& why) {
  if (state_ == State::deposed) return;
  const bool was_active = state_ == State::active;
  state_ = State::deposed;
  keepalive_timer_.cancel();
  lease_deadline_timer_.cancel();
  etcd_.cancel_watch();
  log_error(
      "cluster_deposed",
      {{"node", config_.node}, {"was_active", was_active ? "true" : "false"}, {"reason", why.to_string()}});
  // Whatever was queued can no longer be made durable by us.
  auto waiting = std::move(next_done_);
  next_done_.clear();
  next_.clear();
  next_index_.clear();
  for (auto& w : waiting) w.done(fail(why));
  if (hooks_.on_deposed) hooks_.on_deposed(why);
}

}  // namespace vmroam::ha
