// FakeEtcd: an in-memory etcd behind the cluster::Etcd seam — revisions, create revisions,
// leases (expired by hand), guarded txns, one watch per client. Several clients (one per
// home agent under test) share one FakeEtcdStore.
//
// Asynchronous txns are decided when released: hold_txns = true keeps them in `held` until
// the test calls release_one(), so a test can see what is in flight. Callbacks and watch
// events are posted to the io_context, as the real client does.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <vector>

#include "common/cluster/etcd.hpp"
#include "common/core/asio.hpp"

namespace vmroam::test {

struct FakeEtcdStore {
  std::map<std::string, cluster::KeyValue> kvs;
  std::int64_t revision = 1;
  std::int64_t next_lease = 100;
  std::set<std::int64_t> leases;
  std::int64_t max_ops = 128;       // etcd's --max-txn-ops
  std::int64_t lease_ttl_left = 2;  // what LeaseTimeToLive answers for a live lease
  // Every client's watch: prefix and where to post its events.
  struct Watcher {
    std::string prefix;
    std::function<void(std::int64_t, std::vector<cluster::WatchEvent>)> deliver;
  };
  std::map<int, Watcher> watchers;
  int next_watcher = 0;

  void notify(std::int64_t rev, const std::vector<cluster::WatchEvent>& events) {
    for (auto& [id, w] : watchers) {
      std::vector<cluster::WatchEvent> mine;
      for (const auto& e : events)
        if (e.kv.key.rfind(w.prefix, 0) == 0) mine.push_back(e);
      if (!mine.empty()) w.deliver(rev, mine);
    }
  }

  Result<cluster::TxnResult> apply(const cluster::Txn& txn) {
    // As etcd: each of the compare, success and failure lists is bounded by --max-txn-ops.
    if (static_cast<std::int64_t>(txn.compares.size()) > max_ops ||
        static_cast<std::int64_t>(txn.mutations.size()) > max_ops)
      return fail("etcd_error", "etcdserver: too many operations in txn request");
    for (const auto& m : txn.mutations)
      if (m.lease != 0 && !leases.contains(m.lease)) return fail("etcd_error", "lease not found");
    std::set<std::string> seen;
    for (const auto& m : txn.mutations)
      if (!seen.insert(m.key).second) return fail("etcd_error", "duplicate key given in txn request");
    bool ok = true;
    for (const auto& c : txn.compares) {
      auto it = kvs.find(c.key);
      const std::int64_t cr = it == kvs.end() ? 0 : it->second.create_revision;
      ok = ok && cr == c.create_revision;
    }
    cluster::TxnResult r;
    r.succeeded = ok;
    if (!ok) {
      if (auto it = kvs.find(txn.read_on_failure); it != kvs.end()) r.read.push_back(it->second);
      r.revision = revision;
      return r;
    }
    if (txn.mutations.empty()) {
      r.revision = revision;
      return r;
    }
    ++revision;
    std::vector<cluster::WatchEvent> events;
    for (const auto& m : txn.mutations) {
      if (m.erase) {
        if (kvs.erase(m.key)) events.push_back({true, {m.key, {}, 0, revision, 0}});
        continue;
      }
      auto it = kvs.find(m.key);
      const std::int64_t created = it == kvs.end() ? revision : it->second.create_revision;
      kvs[m.key] = {m.key, m.value, created, revision, m.lease};
      events.push_back({false, kvs[m.key]});
    }
    r.revision = revision;
    notify(revision, events);
    return r;
  }

  // The lease runs out: its keys go, at one new revision.
  void expire_lease(std::int64_t lease) {
    leases.erase(lease);
    std::vector<cluster::WatchEvent> events;
    bool bumped = false;
    for (auto it = kvs.begin(); it != kvs.end();) {
      if (it->second.lease == lease) {
        if (!bumped) ++revision, bumped = true;
        events.push_back({true, {it->first, {}, 0, revision, 0}});
        it = kvs.erase(it);
      } else {
        ++it;
      }
    }
    if (!events.empty()) notify(revision, events);
  }
};

class FakeEtcd final : public cluster::Etcd {
 public:
  FakeEtcd(boost::asio::io_context& io, FakeEtcdStore& store) : io_(io), store_(store) {}
  ~FakeEtcd() override { cancel_watch(); }

  bool hold_txns = false;
  bool unavailable = false;
  std::deque<std::pair<cluster::Txn, std::function<void(Result<cluster::TxnResult>)>>> held;
  std::vector<cluster::Txn> sent;  // every async txn, in order
  std::int64_t lease = 0;
  int grants = 0;  // asynchronous lease grants (reconnects)

  // Decides the oldest held txn now and posts its answer.
  void release_one() {
    auto [txn, done] = std::move(held.front());
    held.pop_front();
    finish(txn, std::move(done));
  }

  Result<std::int64_t> grant_lease_now(std::int64_t) override {
    if (unavailable) return fail("etcd_unavailable", "fake");
    lease = store_.next_lease++;
    store_.leases.insert(lease);
    return lease;
  }
  void revoke_lease_now(std::int64_t l) override { store_.expire_lease(l); }
  Result<cluster::RangeResult> range_prefix_now(const std::string& prefix) override {
    if (unavailable) return fail("etcd_unavailable", "fake");
    cluster::RangeResult r{store_.revision, {}};
    for (const auto& [k, kv] : store_.kvs)
      if (k.rfind(prefix, 0) == 0) r.kvs.push_back(kv);
    return r;
  }
  Result<cluster::TxnResult> txn_now(const cluster::Txn& txn) override {
    if (unavailable) return fail("etcd_unavailable", "fake");
    return store_.apply(txn);
  }
  void txn(cluster::Txn txn, std::function<void(Result<cluster::TxnResult>)> done) override {
    sent.push_back(txn);
    if (hold_txns) {
      held.emplace_back(std::move(txn), std::move(done));
      return;
    }
    finish(txn, std::move(done));
  }
  void grant_lease(std::int64_t ttl_s, std::function<void(Result<std::int64_t>)> done) override {
    ++grants;
    auto r = grant_lease_now(ttl_s);
    boost::asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
  }
  // Not recorded in `sent` nor held: only the commit pipeline's txns are.
  void put(cluster::Mutation m, std::function<void(Result<void>)> done) override {
    Result<void> r = ok();
    if (unavailable)
      r = fail("etcd_unavailable", "fake");
    else if (auto t = store_.apply(cluster::Txn{{}, {std::move(m)}, {}}); !t)
      r = fail(t.error());
    boost::asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
  }
  void range_prefix(const std::string& prefix,
                    std::function<void(Result<cluster::RangeResult>)> done) override {
    auto r = range_prefix_now(prefix);
    boost::asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
  }
  void lease_ttl(std::int64_t l, std::function<void(Result<std::int64_t>)> done) override {
    const std::int64_t ttl = store_.leases.contains(l) ? store_.lease_ttl_left : -1;
    boost::asio::post(io_, [done = std::move(done), ttl, u = unavailable] {
      done(u ? Result<std::int64_t>(fail("etcd_unavailable", "fake")) : Result<std::int64_t>(ttl));
    });
  }
  void keep_alive(std::int64_t l, std::function<void(Result<std::int64_t>)> done) override {
    const std::int64_t ttl = store_.leases.contains(l) ? 2 : 0;
    boost::asio::post(io_, [done = std::move(done), ttl, u = unavailable] {
      done(u ? Result<std::int64_t>(fail("etcd_unavailable", "fake")) : Result<std::int64_t>(ttl));
    });
  }
  void watch_prefix(const std::string& prefix, std::int64_t from, OnEvents on_events,
                    std::function<void(Error)> ended) override {
    cancel_watch();
    ++watches;
    ended_ = std::move(ended);
    watcher_ = store_.next_watcher++;
    // Events the fake has already moved past `from` are not replayed: tests start watches
    // at the revision they read.
    (void)from;
    store_.watchers[watcher_] = {
        prefix, [this, on_events](std::int64_t rev, std::vector<cluster::WatchEvent> ev) {
          boost::asio::post(
              io_, [on_events, rev, ev = std::move(ev)]() mutable { on_events(rev, std::move(ev)); });
        }};
  }
  void cancel_watch() override {
    if (watcher_ >= 0) store_.watchers.erase(watcher_);
    watcher_ = -1;
    ended_ = nullptr;
  }
  // The watch stream breaks (etcd went away): `ended` is posted, as the real client does.
  void end_watch(Error why) {
    auto ended = std::move(ended_);
    cancel_watch();
    if (ended) boost::asio::post(io_, [ended = std::move(ended), why = std::move(why)] { ended(why); });
  }
  [[nodiscard]] bool watching() const { return watcher_ >= 0; }
  int watches = 0;  // watch_prefix calls

 private:
  void finish(const cluster::Txn& txn, std::function<void(Result<cluster::TxnResult>)> done) {
    Result<cluster::TxnResult> r =
        unavailable ? Result<cluster::TxnResult>(fail("etcd_unavailable", "fake")) : store_.apply(txn);
    boost::asio::post(io_, [done = std::move(done), r = std::move(r)] { done(r); });
  }

  boost::asio::io_context& io_;
  FakeEtcdStore& store_;
  int watcher_ = -1;
  std::function<void(Error)> ended_;
};

}  // namespace vmroam::test
