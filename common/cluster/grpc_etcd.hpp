// GrpcEtcd: the Etcd seam over etcd's gRPC API (stubs generated at build time from etcd's
// rpc.proto, kv.proto and auth.proto; common/cluster/meson.build).
//
// One channel to every endpoint ("ipv4:a:p,b:p,…", pick_first: a member that goes away is
// replaced by the next one that answers). Asynchronous calls use gRPC's callback API: the
// completion runs on a gRPC thread, which only posts the result to the daemon's io_context,
// so everything vmroam decides stays on its one loop. Every call has a deadline: that is how a
// call that went unanswered (a partition) is noticed.
//
// HTTP/2 keepalive: a member that went silent without closing the connection (a partition
// that drops packets, a host that died) is found by pings, not by a call's deadline (which
// fails the call but keeps the connection, so the channel would go on using it, and a watch
// has no deadline at all). A ping every kKeepaliveTime (6 s: etcd's default
// --grpc-keepalive-min-time is 5 s, and it closes a connection that pings more often), the
// connection declared dead kKeepaliveTimeout (2 s) after a ping went unanswered; the channel
// then connects to the next member, and a watch on the dead connection ends (the home
// agent re-reads and watches again). Reconnects back off from 100 ms to at most 1 s, so a
// channel made before etcd listens connects within a second of it coming up.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/cluster/etcd.hpp"
#include "common/core/asio.hpp"

namespace vmroam::cluster {

class GrpcEtcd final : public Etcd {
 public:
  // `endpoints`: "host:port" each (IPv4 literal or name). Never fails: the channel connects
  // lazily; the first call says whether etcd answers.
  GrpcEtcd(boost::asio::io_context& io, const std::vector<std::string>& endpoints,
           std::chrono::milliseconds deadline);
  ~GrpcEtcd() override;
  GrpcEtcd(const GrpcEtcd&) = delete;
  GrpcEtcd& operator=(const GrpcEtcd&) = delete;

  Result<std::int64_t> grant_lease_now(std::int64_t ttl_s) override;
  void revoke_lease_now(std::int64_t lease) override;
  Result<RangeResult> range_prefix_now(const std::string& prefix) override;
  Result<TxnResult> txn_now(const Txn& txn) override;
  void txn(Txn txn, std::function<void(Result<TxnResult>)> done) override;
  void grant_lease(std::int64_t ttl_s, std::function<void(Result<std::int64_t>)> done) override;
  void put(Mutation m, std::function<void(Result<void>)> done) override;
  void range_prefix(const std::string& prefix, std::function<void(Result<RangeResult>)> done) override;
  void lease_ttl(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) override;
  void keep_alive(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) override;
  void watch_prefix(const std::string& prefix, std::int64_t from, OnEvents on_events,
                    std::function<void(Error)> ended) override;
  void cancel_watch() override;

  static constexpr std::chrono::milliseconds kKeepaliveTime{6000};
  static constexpr std::chrono::milliseconds kKeepaliveTimeout{2000};

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmroam::cluster
