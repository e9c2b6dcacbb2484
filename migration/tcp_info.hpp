// TCP_INFO of the migration connection (the driver's own socket, --tuning socket): the OS
// seam under BandwidthGovernor. Linux ≥ 4.9 for the delivery rate (tcp(7), linux/tcp.h).
#pragma once

#include "common/core/result.hpp"
#include "migration/bandwidth.hpp"

namespace vmroam::migration {

// One reading; `t_s` is left 0 for the caller to stamp. Errors: "tcp_info" (not a TCP socket,
// closed), with errno's text.
[[nodiscard]] Result<TcpSample> read_tcp_info(int fd);

// SO_SNDBUF and TCP_NOTSENT_LOWAT of the migration connection. Errors: "sockopt", with errno's
// text.
[[nodiscard]] Result<void> apply_socket_budget(int fd, const SocketBudget& b);

}  // namespace vmroam::migration
