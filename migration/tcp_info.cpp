// TCP_INFO reading (tcp_info.hpp). linux/tcp.h, not netinet/tcp.h: glibc's struct tcp_info
// stops before the delivery-rate fields.
#include "migration/tcp_info.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace vmroam::migration {

Result<TcpSample> read_tcp_info(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
    return fail("tcp_info", std::string("getsockopt(TCP_INFO): ") + std::strerror(errno));
  // An older kernel fills less: without the delivery rate there is nothing to learn from.
  if (len < offsetof(tcp_info, tcpi_delivery_rate) + sizeof ti.tcpi_delivery_rate)
    return fail("tcp_info", "the kernel's TCP_INFO has no delivery rate (Linux < 4.9)");
  TcpSample s;
  s.bytes_acked = ti.tcpi_bytes_acked;
  s.delivery_rate = ti.tcpi_delivery_rate;
  s.app_limited = ti.tcpi_delivery_rate_app_limited != 0;
  s.rtt_us = ti.tcpi_rtt;
  s.notsent_bytes = ti.tcpi_notsent_bytes;
  s.unacked_bytes = static_cast<std::uint64_t>(ti.tcpi_unacked) * ti.tcpi_snd_mss;
  s.min_rtt_us = ti.tcpi_min_rtt;
  return s;
}

Result<void> apply_socket_budget(int fd, const SocketBudget& b) {
  const int sndbuf = static_cast<int>(b.sndbuf);
  const int lowat = static_cast<int>(b.notsent_lowat);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf) != 0)
    return fail("sockopt", std::string("setsockopt(SO_SNDBUF): ") + std::strerror(errno));
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat) != 0)
    return fail("sockopt", std::string("setsockopt(TCP_NOTSENT_LOWAT): ") + std::strerror(errno));
  return ok();
}

}  // namespace vmroam::migration
