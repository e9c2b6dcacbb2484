// vmroam-libvirt's executor: domain events in (from the LibvirtMonitor), one DomainCoupling
// per domain decides, the Coupler carries the actions out through the agents' API clients
// (migration/home_agent_control.hpp, foreign_agent_control.hpp), all on one io_context.
//
// Nothing here ever blocks or fails a migration: libvirt does not wait for us; an agent call
// that fails is logged (event=*_failed) and the move goes on.
//
// Timers: finding the destination FA: every 250 ms while migrating (GET the visitor at each
// other site's FA; the one in state `prepared` is the destination). Confirming a registration
// at the destination: long-poll 3 s; not active → activate again (prepare first when the FA
// cannot show the visitor: it was unreachable at libvirt's Prepare), 200 ms doubling to 5 s,
// for at most 60 s; a visitor not yet `resumed` (the FA missed the RESUME) is told again.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/core/asio.hpp"
#include "libvirt/config.hpp"
#include "libvirt/coupling.hpp"
#include "libvirt/libvirt_monitor.hpp"
#include "migration/foreign_agent_control.hpp"
#include "migration/home_agent_control.hpp"

namespace vmroam::virt {

using migration::ForeignAgentControl;
using migration::HomeAgentControl;

class Coupler {
 public:
  struct Timing {
    std::chrono::milliseconds find_interval{250};
    std::chrono::milliseconds confirm_wait{3'000};
    std::chrono::milliseconds retry_initial{200};
    std::chrono::milliseconds retry_max{5'000};
    std::chrono::milliseconds retry_deadline{60'000};
  };
  // `ha` may be null (no handover hold); `fas` holds a client per site that has an FA.
  Coupler(boost::asio::io_context& io, const Config& config, Hypervisor& hypervisor, HomeAgentControl* ha,
          std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas, Timing timing);
  Coupler(boost::asio::io_context& io, const Config& config, Hypervisor& hypervisor, HomeAgentControl* ha,
          std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas)
      : Coupler(io, config, hypervisor, ha, std::move(fas), Timing{}) {}

  void on_domain_event(const DomainEvent& e);

  // For tests: the phase of a domain's coupling (idle if unknown).
  [[nodiscard]] DomainCoupling::Phase phase(const std::string& uuid) const;

 private:
  struct Domain {
    std::string uuid, name;
    const VmConfig* vm = nullptr;
    DomainCoupling coupling;
    std::unique_ptr<boost::asio::steady_timer> timer;  // finding / confirming
    std::uint64_t round = 0;                           // bumps to forget stale replies
  };

  Domain* domain_for(const DomainEvent& e);
  const VmConfig* resolve_vm(const std::string& uuid);
  void feed(Domain& d, const CouplingEvent& ev);
  void run(Domain& d, const CouplingAction& a);
  void run_fa(Domain& d, const CouplingAction& a);
  void ha_call(Domain& d, HomeAgentControl::Phase phase, std::optional<WallTime> at);
  void find_destination(const std::string& uuid, std::uint64_t round);
  void confirm(const std::string& uuid, std::uint64_t round, std::chrono::milliseconds backoff,
               std::chrono::steady_clock::time_point deadline);
  void resume_if_buffering(const std::string& id, const migration::RegistrationOutcome& o);
  void abort_local(const Domain& d);
  ForeignAgentControl* local_fa() const;

  boost::asio::io_context& io_;
  const Config& config_;
  Hypervisor& hypervisor_;
  HomeAgentControl* ha_;
  std::map<std::string, std::unique_ptr<ForeignAgentControl>> fas_;
  Timing timing_;
  std::map<std::string, Domain> domains_;
};

}  // namespace vmroam::virt
