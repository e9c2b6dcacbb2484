// The home agent as the migration driver sees it: the handover hold (docs/api.md "POST
// /v1/vms/{id}/handover"; docs/home-agent.md "Handover hold"). The driver tells the HA that a
// VM is about to move (prepare), that the source has stopped (stopped, with QEMU's STOP
// timestamp) and, if the move is off, cancel. Asynchronous on the driver's io_context; every
// call completes exactly once. A failure here never stops a migration: the hold is what turns
// "a packet or two lost at the stop" into "none lost", not a precondition of the move.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::migration {

class HomeAgentControl {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  enum class Phase { prepare, stopped, cancel };
  virtual ~HomeAgentControl() = default;
  // `stopped_at` only with Phase::stopped: the source's STOP event time.
  virtual void handover(const std::string& vm_id, Phase phase, std::optional<WallTime> stopped_at,
                        Done<nlohmann::json> done) = 0;
  // For logs and the summary: "http unix:/run/vmroam/ha.sock".
  [[nodiscard]] virtual std::string describe() const = 0;
};

[[nodiscard]] constexpr const char* to_string(HomeAgentControl::Phase p) {
  switch (p) {
    case HomeAgentControl::Phase::prepare:
      return "prepare";
    case HomeAgentControl::Phase::stopped:
      return "stopped";
    case HomeAgentControl::Phase::cancel:
      return "cancel";
  }
  return "?";
}

}  // namespace vmroam::migration
