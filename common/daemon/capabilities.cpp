#include "common/daemon/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vmroam::daemon {

namespace {
constexpr cap_value_t kKeep[] = {CAP_NET_ADMIN, CAP_NET_RAW};
}

Result<void> keep_only_network_capabilities() {
  cap_t current = cap_get_proc();
  if (!current) return fail("capabilities_failed", std::string("cap_get_proc: ") + std::strerror(errno));
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(current, CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
  cap_free(current);
  if (setpcap != CAP_SET) return fail("not_privileged", "no CAP_SETPCAP: running unprivileged already");

  // The bounding set first (dropping needs CAP_SETPCAP, which goes last).
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    if (c == CAP_NET_ADMIN || c == CAP_NET_RAW) continue;
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
      return fail("capabilities_failed",
                  "PR_CAPBSET_DROP " + std::to_string(c) + ": " + std::strerror(errno));
  }
  // Keep the two across a uid change, should the service manager ever set one.
  prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
  cap_t caps = cap_init();
  if (!caps) return fail("capabilities_failed", "cap_init");
  const int n = static_cast<int>(sizeof kKeep / sizeof kKeep[0]);
  bool ok = cap_set_flag(caps, CAP_PERMITTED, n, kKeep, CAP_SET) == 0 &&
            cap_set_flag(caps, CAP_EFFECTIVE, n, kKeep, CAP_SET) == 0 && cap_set_proc(caps) == 0;
  const int e = errno;
  cap_free(caps);
  if (!ok) return fail("capabilities_failed", std::string("cap_set_proc: ") + std::strerror(e));
  return {};
}

bool holds_only_network_capabilities() {
  cap_t caps = cap_get_proc();
  if (!caps) return false;
  bool only = true;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    cap_flag_value_t v = CAP_CLEAR;
    cap_get_flag(caps, c, CAP_EFFECTIVE, &v);
    const bool want = c == CAP_NET_ADMIN || c == CAP_NET_RAW;
    if ((v == CAP_SET) != want) only = false;
  }
  cap_free(caps);
  return only;
}

}  // namespace vmroam::daemon
