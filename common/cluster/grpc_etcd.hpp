// GrpcEtcd: the Etcd seam over etcd's gRPC API (stubs generated at build time from etcd's
// rpc.proto, kv.proto and auth.proto; common/cluster/meson.build).
//
// One channel to every endpoint ("ipv4:a:p,b:p,…", pick_first: a member that goes away is
// replaced by the next one that answers). Asynchronous calls use gRPC's callback API: the
// completion runs on a gRPC thread, which only posts the result to the daemon's io_context,
// so everything vmroam decides stays on its one loop. HTTP/2 keepalive pings (1 s) notice a
// member that went silent (a partition) within about two seconds; every call has a deadline.
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
  void put(Mutation m, std::function<void(Result<void>)> done) override;
  void range_prefix(const std::string& prefix, std::function<void(Result<RangeResult>)> done) override;
  void lease_ttl(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) override;
  void keep_alive(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) override;
  void watch_prefix(const std::string& prefix, std::int64_t from, OnEvents on_events,
                    std::function<void(Error)> ended) override;
  void cancel_watch() override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace vmroam::cluster
