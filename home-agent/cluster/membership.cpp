#include "home-agent/cluster/membership.hpp"

#ifdef VMROAM_HAVE_CLUSTER
#include "common/cluster/grpc_etcd.hpp"
#include "common/core/log.hpp"
#include "common/wire/ethernet.hpp"
#include "home-agent/cluster/cluster_node.hpp"
#include "home-agent/cluster/service_address.hpp"
#include "home-agent/home_agent.hpp"
#endif

namespace vmroam::ha {

#ifdef VMROAM_HAVE_CLUSTER
namespace {

// The cluster section with the API address to publish filled in (docs/configuration.md
// "cluster.api_address").
ClusterConfig advertised(const HaConfig& config) {
  ClusterConfig c = *config.cluster;
  if (c.api_address.empty())
    c.api_address =
        config.api_tcp ? (config.api_tls ? "https://" : "http://") + *config.api_tcp : config.api_socket;
  return c;
}

class GrpcMembership final : public ClusterMembership {
 public:
  GrpcMembership(boost::asio::io_context& io, const HaConfig& config, const dataplane::LinkInfo& home_link,
                 const Clock& clock, ServiceAddress address)
      : config_(config),
        home_mac_(home_link.mac),
        etcd_(io, config.cluster->etcd, std::chrono::milliseconds(config.cluster->request_timeout_ms)),
        node_(io, etcd_, advertised(config), config.home_prefix, clock),
        address_(std::move(address)),
        announce_timer_(io) {}
  ~GrpcMembership() override { stop(); }

  Result<void> open() { return node_.open(); }
  ClusterLink& link() override { return node_; }

  void start(HomeAgent& agent, std::function<void(ByteView)> send_home_frame,
             std::function<void(const Error&)> on_fatal) override {
    agent_ = &agent;
    send_frame_ = std::move(send_home_frame);
    ClusterHooks hooks;
    hooks.on_change = [this](const ClusterKeys::Parsed& key, const cluster::KeyValue* kv) {
      agent_->mirror(key, kv ? &kv->value : nullptr);
    };
    hooks.on_elected = [this]() -> Result<void> {
      VMROAM_TRY_VOID(address_.claim());
      VMROAM_TRY_VOID(agent_->take_over());
      announce(2);
      return ok();
    };
    hooks.on_deposed = [this, on_fatal = std::move(on_fatal)](const Error& why) {
      stop();
      if (on_fatal) on_fatal(why);
    };
    node_.start(std::move(hooks));
  }

  void stop() override {
    announce_timer_.cancel();
    node_.stop();
  }

 private:
  // Gratuitous ARP for the service address and every away VM's home address, `more` times
  // again a second apart.
  void announce(int more) {
    if (send_frame_) {
      send_frame_(wire::build_gratuitous_arp(home_mac_, config_.address));
      agent_->bindings().for_each([&](const binding::Binding& b) {
        send_frame_(wire::build_gratuitous_arp(home_mac_, b.home_address));
      });
    }
    if (more <= 0) return;
    announce_timer_.expires_after(std::chrono::seconds(1));
    announce_timer_.async_wait([this, more](const boost::system::error_code& ec) {
      if (!ec && node_.active()) announce(more - 1);
    });
  }

  const HaConfig config_;
  MacAddress home_mac_;
  cluster::GrpcEtcd etcd_;
  ClusterNode node_;
  ServiceAddress address_;
  boost::asio::steady_timer announce_timer_;
  HomeAgent* agent_ = nullptr;
  std::function<void(ByteView)> send_frame_;
};

}  // namespace
#endif

Result<std::unique_ptr<ClusterMembership>> ClusterMembership::open(boost::asio::io_context& io,
                                                                   const HaConfig& config,
                                                                   const dataplane::LinkInfo& home_link,
                                                                   const Clock& clock) {
#ifdef VMROAM_HAVE_CLUSTER
  VMROAM_TRY(ServiceAddress address,
             ServiceAddress::open(home_link.ifindex, config.cluster->service_address));
  VMROAM_TRY_VOID(address.remove_stale());
  auto m = std::make_unique<GrpcMembership>(io, config, home_link, clock, std::move(address));
  VMROAM_TRY_VOID(m->open());
  return std::unique_ptr<ClusterMembership>(std::move(m));
#else
  (void)io;
  (void)config;
  (void)home_link;
  (void)clock;
  return fail("cluster_unsupported",
              "this vmroam-ha was built without the `cluster` feature (grpc++, etcd protos)");
#endif
}

}  // namespace vmroam::ha
