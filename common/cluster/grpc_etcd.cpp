#include "common/cluster/grpc_etcd.hpp"

#include <grpcpp/grpcpp.h>

#include <mutex>

#include "rpc.grpc.pb.h"

namespace vmroam::cluster {

namespace pb = etcdserverpb;

struct GrpcEtcd::Impl : std::enable_shared_from_this<GrpcEtcd::Impl> {
  boost::asio::io_context& io;
  std::chrono::milliseconds deadline;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Watch::Stub> watch;
  // Loop thread only: false once GrpcEtcd is gone, so late completions are dropped.
  bool alive = true;
  // The watch stream, shared with gRPC's threads (the only lock in this adapter).
  std::mutex watch_mutex;
  grpc::ClientContext* watch_context = nullptr;
  bool watch_cancelled = false;

  Impl(boost::asio::io_context& i, std::chrono::milliseconds d) : io(i), deadline(d) {}

  // Runs `f` on the loop, unless GrpcEtcd is gone by then.
  template <typename F>
  void post(F f) {
    boost::asio::post(io, [self = shared_from_this(), f = std::move(f)]() mutable {
      if (self->alive) f();
    });
  }
  void set_deadline(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  }
};

namespace {

Error from_status(const grpc::Status& s) {
  const bool unavailable = s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  return make_error(unavailable ? "etcd_unavailable" : "etcd_error",
                    std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message());
}

KeyValue from_pb(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.lease()};
}

pb::TxnRequest to_pb(const Txn& txn) {
  pb::TxnRequest req;
  for (const auto& c : txn.compares) {
    auto* cmp = req.add_compare();
    cmp->set_key(c.key);
    cmp->set_target(pb::Compare::CREATE);
    cmp->set_result(pb::Compare::EQUAL);
    cmp->set_create_revision(c.create_revision);
  }
  for (const auto& m : txn.mutations) {
    auto* op = req.add_success();
    if (m.erase) {
      op->mutable_request_delete_range()->set_key(m.key);
    } else {
      auto* put = op->mutable_request_put();
      put->set_key(m.key);
      put->set_value(m.value);
      put->set_lease(m.lease);
    }
  }
  if (!txn.read_on_failure.empty()) req.add_failure()->mutable_request_range()->set_key(txn.read_on_failure);
  return req;
}

TxnResult from_pb(const pb::TxnResponse& resp) {
  TxnResult r{resp.succeeded(), resp.header().revision(), {}};
  if (!r.succeeded)
    for (const auto& op : resp.responses())
      if (op.has_response_range())
        for (const auto& kv : op.response_range().kvs()) r.read.push_back(from_pb(kv));
  return r;
}

// One asynchronous unary call on gRPC's callback API: `issue(ctx, req, resp, on_status)` starts
// it (a stub's async()->Method), `convert(resp)` is its result once the status is OK, and
// `done` gets that, or the status as an error, on the loop. The call's context, request and
// response live until gRPC is done with them.
template <typename Resp, typename Req, typename T, typename Issue, typename Convert>
void unary(const std::shared_ptr<GrpcEtcd::Impl>& impl, Req req, Issue issue, Convert convert,
           std::function<void(Result<T>)> done) {
  struct Call {
    grpc::ClientContext ctx;
    Req req;
    Resp resp;
  };
  auto call = std::make_shared<Call>();
  call->req = std::move(req);
  impl->set_deadline(call->ctx);
  issue(&call->ctx, &call->req, &call->resp,
        [impl, call, convert = std::move(convert), done = std::move(done)](grpc::Status s) mutable {
          Result<T> r = s.ok() ? convert(call->resp) : Result<T>(fail(from_status(s)));
          impl->post([done = std::move(done), r = std::move(r)] { done(r); });
        });
}

// One lease keepalive: a LeaseKeepAlive stream carrying one request and one answer.
class KeepAliveCall final
    : public grpc::ClientBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse> {
 public:
  KeepAliveCall(std::shared_ptr<GrpcEtcd::Impl> impl, std::int64_t lease,
                std::function<void(Result<std::int64_t>)> done)
      : impl_(std::move(impl)), done_(std::move(done)) {
    req_.set_id(lease);
    impl_->set_deadline(ctx_);
    impl_->lease->async()->LeaseKeepAlive(&ctx_, this);
    StartWriteLast(&req_, grpc::WriteOptions());
    StartRead(&resp_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok) ttl_ = resp_.ttl();
  }
  void OnDone(const grpc::Status& s) override {
    Result<std::int64_t> r = ttl_ ? Result<std::int64_t>(*ttl_) : Result<std::int64_t>(fail(from_status(s)));
    if (!ttl_ && s.ok()) r = fail("etcd_error", "keepalive stream ended without an answer");
    impl_->post([done = std::move(done_), r = std::move(r)] { done(r); });
    delete this;
  }

 private:
  std::shared_ptr<GrpcEtcd::Impl> impl_;
  std::function<void(Result<std::int64_t>)> done_;
  grpc::ClientContext ctx_;
  pb::LeaseKeepAliveRequest req_;
  pb::LeaseKeepAliveResponse resp_;
  std::optional<std::int64_t> ttl_;
};

// The prefix watch: one Watch stream; events go to the loop in the order they came.
class WatchCall final : public grpc::ClientBidiReactor<pb::WatchRequest, pb::WatchResponse> {
 public:
  WatchCall(std::shared_ptr<GrpcEtcd::Impl> impl, const std::string& prefix, std::int64_t from,
            Etcd::OnEvents on_events, std::function<void(Error)> ended)
      : impl_(std::move(impl)), on_events_(std::move(on_events)), ended_(std::move(ended)) {
    auto* create = req_.mutable_create_request();
    create->set_key(prefix);
    create->set_range_end(prefix_end(prefix));
    create->set_start_revision(from);
    {
      std::lock_guard lock(impl_->watch_mutex);
      impl_->watch_context = &ctx_;
      impl_->watch_cancelled = false;
    }
    impl_->watch->async()->Watch(&ctx_, this);
    StartWrite(&req_);
    StartRead(&resp_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    if (resp_.canceled() || resp_.compact_revision() != 0) {
      why_ = "watch cancelled by etcd: " + resp_.cancel_reason() +
             (resp_.compact_revision() ? " (compacted at " + std::to_string(resp_.compact_revision()) + ")"
                                       : "");
      ctx_.TryCancel();
      return;
    }
    if (resp_.events_size() > 0) {
      std::vector<WatchEvent> events;
      events.reserve(static_cast<std::size_t>(resp_.events_size()));
      for (const auto& e : resp_.events())
        events.push_back({e.type() == mvccpb::Event::DELETE, from_pb(e.kv())});
      const std::int64_t rev = events.back().kv.mod_revision;
      impl_->post([f = on_events_, rev, events = std::move(events)]() mutable { f(rev, std::move(events)); });
    }
    StartRead(&resp_);
  }
  void OnWriteDone(bool /*ok*/) override {}
  void OnDone(const grpc::Status& s) override {
    bool by_us = false;
    {
      std::lock_guard lock(impl_->watch_mutex);
      if (impl_->watch_context == &ctx_) impl_->watch_context = nullptr;
      by_us = impl_->watch_cancelled;
    }
    if (!by_us) {
      Error e = why_.empty() ? from_status(s) : make_error("etcd_watch_ended", why_);
      impl_->post([f = std::move(ended_), e = std::move(e)] { f(e); });
    }
    delete this;
  }

 private:
  std::shared_ptr<GrpcEtcd::Impl> impl_;
  Etcd::OnEvents on_events_;
  std::function<void(Error)> ended_;
  grpc::ClientContext ctx_;
  pb::WatchRequest req_;
  pb::WatchResponse resp_;
  std::string why_;
};

pb::RangeRequest range_request(const std::string& prefix) {
  pb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(prefix_end(prefix));
  return req;
}

RangeResult from_pb(const pb::RangeResponse& resp) {
  RangeResult r{resp.header().revision(), {}};
  r.kvs.reserve(static_cast<std::size_t>(resp.kvs_size()));
  for (const auto& kv : resp.kvs()) r.kvs.push_back(from_pb(kv));
  return r;
}

std::string channel_target(const std::vector<std::string>& endpoints) {
  std::string t = "ipv4:";
  for (std::size_t i = 0; i < endpoints.size(); ++i) t += (i ? "," : "") + endpoints[i];
  return t;
}

}  // namespace

GrpcEtcd::GrpcEtcd(boost::asio::io_context& io, const std::vector<std::string>& endpoints,
                   std::chrono::milliseconds deadline)
    : impl_(std::make_shared<Impl>(io, deadline)) {
  grpc::ChannelArguments args;
  // A member that goes away: try the next one soon, not after gRPC's default 1 s … 120 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A member gone silent: pings find it (see the header for the values and etcd's limit).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(kKeepaliveTime.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(kKeepaliveTimeout.count()));
  // Only while calls are open (the watch always is): etcd counts pings on an idle
  // connection as abuse (its keepalive policy does not permit them without a stream).
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  // A watch that sees no change for minutes sends no data: keep pinging all the same.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetLoadBalancingPolicyName("pick_first");
  impl_->channel =
      grpc::CreateCustomChannel(channel_target(endpoints), grpc::InsecureChannelCredentials(), args);
  impl_->kv = pb::KV::NewStub(impl_->channel);
  impl_->lease = pb::Lease::NewStub(impl_->channel);
  impl_->watch = pb::Watch::NewStub(impl_->channel);
}

GrpcEtcd::~GrpcEtcd() {
  cancel_watch();
  impl_->alive = false;
}

Result<std::int64_t> GrpcEtcd::grant_lease_now(std::int64_t ttl_s) {
  grpc::ClientContext ctx;
  impl_->set_deadline(ctx);
  pb::LeaseGrantRequest req;
  req.set_ttl(ttl_s);
  pb::LeaseGrantResponse resp;
  auto s = impl_->lease->LeaseGrant(&ctx, req, &resp);
  if (!s.ok()) return fail(from_status(s));
  if (!resp.error().empty()) return fail("etcd_error", resp.error());
  return resp.id();
}

void GrpcEtcd::revoke_lease_now(std::int64_t lease) {
  grpc::ClientContext ctx;
  impl_->set_deadline(ctx);
  pb::LeaseRevokeRequest req;
  req.set_id(lease);
  pb::LeaseRevokeResponse resp;
  (void)impl_->lease->LeaseRevoke(&ctx, req, &resp);
}

Result<RangeResult> GrpcEtcd::range_prefix_now(const std::string& prefix) {
  grpc::ClientContext ctx;
  impl_->set_deadline(ctx);
  pb::RangeResponse resp;
  auto s = impl_->kv->Range(&ctx, range_request(prefix), &resp);
  if (!s.ok()) return fail(from_status(s));
  return from_pb(resp);
}

void GrpcEtcd::put(Mutation m, std::function<void(Result<void>)> done) {
  pb::PutRequest req;
  req.set_key(m.key);
  req.set_value(m.value);
  req.set_lease(m.lease);
  unary<pb::PutResponse>(
      impl_, std::move(req), [kv = impl_->kv.get()](auto... a) { kv->async()->Put(a...); },
      [](const pb::PutResponse&) { return Result<void>(ok()); }, std::move(done));
}

void GrpcEtcd::range_prefix(const std::string& prefix, std::function<void(Result<RangeResult>)> done) {
  unary<pb::RangeResponse>(
      impl_, range_request(prefix), [kv = impl_->kv.get()](auto... a) { kv->async()->Range(a...); },
      [](const pb::RangeResponse& resp) { return Result<RangeResult>(from_pb(resp)); }, std::move(done));
}

void GrpcEtcd::lease_ttl(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) {
  pb::LeaseTimeToLiveRequest req;
  req.set_id(lease);
  unary<pb::LeaseTimeToLiveResponse>(
      impl_, std::move(req), [l = impl_->lease.get()](auto... a) { l->async()->LeaseTimeToLive(a...); },
      [](const pb::LeaseTimeToLiveResponse& resp) { return Result<std::int64_t>(resp.ttl()); },
      std::move(done));
}

Result<TxnResult> GrpcEtcd::txn_now(const Txn& txn) {
  grpc::ClientContext ctx;
  impl_->set_deadline(ctx);
  pb::TxnResponse resp;
  auto s = impl_->kv->Txn(&ctx, to_pb(txn), &resp);
  if (!s.ok()) return fail(from_status(s));
  return from_pb(resp);
}

void GrpcEtcd::txn(Txn txn, std::function<void(Result<TxnResult>)> done) {
  unary<pb::TxnResponse>(
      impl_, to_pb(txn), [kv = impl_->kv.get()](auto... a) { kv->async()->Txn(a...); },
      [](const pb::TxnResponse& resp) { return Result<TxnResult>(from_pb(resp)); }, std::move(done));
}

void GrpcEtcd::grant_lease(std::int64_t ttl_s, std::function<void(Result<std::int64_t>)> done) {
  pb::LeaseGrantRequest req;
  req.set_ttl(ttl_s);
  unary<pb::LeaseGrantResponse>(
      impl_, std::move(req), [l = impl_->lease.get()](auto... a) { l->async()->LeaseGrant(a...); },
      [](const pb::LeaseGrantResponse& resp) {
        // etcd reports some refusals in the answer, not the status.
        if (!resp.error().empty()) return Result<std::int64_t>(fail("etcd_error", resp.error()));
        return Result<std::int64_t>(resp.id());
      },
      std::move(done));
}

void GrpcEtcd::keep_alive(std::int64_t lease, std::function<void(Result<std::int64_t>)> done) {
  new KeepAliveCall(impl_, lease, std::move(done));  // deletes itself when done
}

void GrpcEtcd::watch_prefix(const std::string& prefix, std::int64_t from, OnEvents on_events,
                            std::function<void(Error)> ended) {
  cancel_watch();
  new WatchCall(impl_, prefix, from, std::move(on_events), std::move(ended));  // deletes itself when done
}

void GrpcEtcd::cancel_watch() {
  std::lock_guard lock(impl_->watch_mutex);
  if (!impl_->watch_context) return;
  impl_->watch_cancelled = true;
  impl_->watch_context->TryCancel();
}

}  // namespace vmroam::cluster
