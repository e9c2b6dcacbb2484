// AF_PACKET port; see packet_port.hpp.
#include "tools/wanem/packet_port.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace vmroam::wanem {
namespace {

// The virtio-net header (virtio spec 1.2 §5.1.6, struct virtio_net_hdr without num_buffers).
// <linux/virtio_net.h> itself does not compile as C++ (a member named `class`).
struct VnetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(VnetHeader) == PacketPort::kVnetHeaderBytes);
constexpr std::uint8_t kVnetFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID

// Large buffers absorb bursts (a TCP window of GSO frames) while the loop is busy, and keep
// sends that wait in a tc qdisc (tbf) from blocking the socket. Root may exceed rmem_max.
constexpr int kSocketBufferBytes = 16 << 20;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void set_buffer(int fd, int force_opt, int opt) {
  if (setsockopt(fd, SOL_SOCKET, force_opt, &kSocketBufferBytes, sizeof kSocketBufferBytes) != 0)
    (void)setsockopt(fd, SOL_SOCKET, opt, &kSocketBufferBytes, sizeof kSocketBufferBytes);
}

}  // namespace

void FileDescriptor::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<PacketPort> PacketPort::open(const std::string& ifname) {
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) return fail("no_such_interface", ifname + ": " + std::strerror(errno));

  FileDescriptor fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return fail("socket_failed", errno_text("socket(AF_PACKET)"));

  const int one = 1;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0)
    return fail("socket_failed", ifname + ": " + errno_text("PACKET_VNET_HDR"));
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
    return fail("socket_failed", ifname + ": " + errno_text("PACKET_IGNORE_OUTGOING"));
  set_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF);
  set_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sll), sizeof sll) != 0)
    return fail("socket_failed", ifname + ": " + errno_text("bind"));

  packet_mreq mreq{};
  mreq.mr_ifindex = static_cast<int>(ifindex);
  mreq.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
    return fail("socket_failed", ifname + ": " + errno_text("PACKET_MR_PROMISC"));

  return PacketPort(std::move(fd), ifname, static_cast<int>(ifindex));
}

Result<std::size_t> PacketPort::receive(std::span<std::uint8_t> buf) {
  for (;;) {
    sockaddr_ll from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::size_t{0};
      if (errno == EINTR) continue;
      return fail("receive_failed", name_ + ": " + std::strerror(errno));
    }
    // PACKET_IGNORE_OUTGOING already hides these; keep the check so a loop can never form.
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    if (static_cast<std::size_t>(n) > buf.size()) {
      ++truncated_;
      continue;
    }
    if (static_cast<std::size_t>(n) < kVnetHeaderBytes + ETH_HLEN) continue;
    // DATA_VALID describes the checksum state on our receive side only; on send the kernel
    // takes NEEDS_CSUM (partial checksum to fill in) and GSO fields, which pass unchanged.
    buf[offsetof(VnetHeader, flags)] &= static_cast<std::uint8_t>(~kVnetFlagDataValid);
    return static_cast<std::size_t>(n);
  }
}

bool PacketPort::send(std::span<const std::uint8_t> frame) {
  if (frame.size() < kVnetHeaderBytes + ETH_HLEN) return false;
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = ifindex_;
  // The frame's own EtherType (bytes 12–13 of the Ethernet header) as skb->protocol.
  std::memcpy(&to.sll_protocol, frame.data() + kVnetHeaderBytes + 12, 2);
  for (;;) {
    const ssize_t n =
        ::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    last_send_errno_ = errno;
    return false;
  }
}

std::uint64_t PacketPort::kernel_drops() {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  // Reading the statistics resets them in the kernel; keep the running total here.
  if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops_ += st.tp_drops;
  return drops_;
}

}  // namespace vmroam::wanem
