// The migration connection the driver opens itself (Tuning::socket) and hands to QEMU.
#include "migration/tuned_socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vmroam::migration {

Result<int> open_tuned_migration_socket(const std::string& uri) {
  if (!uri.starts_with("tcp:")) return fail("bad_uri", uri + ": --tuning socket needs tcp:HOST:PORT");
  auto rest = uri.substr(4);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return fail("bad_uri", uri);
  auto host = rest.substr(0, colon);
  auto port = rest.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return fail("bad_uri", uri + ": " + gai_strerror(rc));
  }
  std::string err = "no address";
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // Set before connect so the window is sized from the start: bytes QEMU writes then
    // leave promptly, and its per-100 ms bandwidth estimate stays honest (docs/migration.md).
    int lowat = 128 * 1024;
    int sndbuf = 256 * 1024;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) return fail("connect_failed", uri + ": " + err);
  return fd;
}

}  // namespace vmroam::migration
