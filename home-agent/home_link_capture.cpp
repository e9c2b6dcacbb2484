// HomeLinkCapture: see home_link_capture.hpp.
#include "home-agent/home_link_capture.hpp"

#include <pcap/pcap.h>

namespace vmroam::ha {

HomeLinkCapture::HomeLinkCapture(boost::asio::io_context& io, std::string ifname, FrameHandler on_frame)
    : io_(io), ifname_(std::move(ifname)), on_frame_(std::move(on_frame)) {}

HomeLinkCapture::~HomeLinkCapture() { close(); }

Result<void> HomeLinkCapture::watch(Ipv4 hoa, const std::vector<Ipv6>& v6, bool on) {
  bool changed = false;
  if (on) {
    auto [it, added] = watched_.try_emplace(hoa, v6);
    changed = added || it->second != v6;
    it->second = v6;
  } else {
    changed = watched_.erase(hoa) > 0;
  }
  if (!changed) return ok();
  if (watched_.empty()) {
    close();
    return ok();
  }
  if (!pcap_) VMROAM_TRY_VOID(open());
  const std::string filter = home_link_filter(watched_);
  bpf_program prog{};
  if (pcap_compile(pcap_, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0)
    return fail("pcap_failed", ifname_ + ": compile \"" + filter + "\": " + pcap_geterr(pcap_));
  const int set = pcap_setfilter(pcap_, &prog);
  pcap_freecode(&prog);
  if (set < 0) return fail("pcap_failed", ifname_ + ": setfilter: " + pcap_geterr(pcap_));
  return ok();
}

Result<void> HomeLinkCapture::open() {
  char err[PCAP_ERRBUF_SIZE] = {};
  ::pcap* p = pcap_create(ifname_.c_str(), err);
  if (!p) return fail("pcap_failed", ifname_ + ": " + err);
  auto bail = [&](const std::string& what) {
    std::string reason = ifname_ + ": " + what + ": " + pcap_geterr(p);
    pcap_close(p);
    return fail("pcap_failed", reason);
  };
  // pcap_set_*() fail only on an activated handle, which this one is not yet.
  (void)pcap_set_snaplen(p, 65535);     // whole packets: they are sent again
  (void)pcap_set_immediate_mode(p, 1);  // the stop is judged on what arrived by then
  (void)pcap_set_buffer_size(p, 4 << 20);
  (void)pcap_set_promisc(p, 0);
  // Stamps from the kernel at transmission, in microseconds of the wall clock.
  (void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_MICRO);
  if (pcap_activate(p) < 0) return bail("activate");
  // What the router sends towards the VM, not what the VM sends.
  if (pcap_setdirection(p, PCAP_D_OUT) < 0) return bail("setdirection");
  if (pcap_setnonblock(p, 1, err) < 0) return bail("setnonblock");
  const int fd = pcap_get_selectable_fd(p);
  if (fd < 0) return bail("selectable_fd");
  pcap_ = p;
  sd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  arm();
  return ok();
}

void HomeLinkCapture::close() {
  if (!pcap_) return;
  // libpcap owns the fd: release it from Asio before pcap_close closes it.
  boost::system::error_code ec;
  sd_->cancel(ec);
  (void)sd_->release();
  sd_.reset();
  pcap_close(pcap_);
  pcap_ = nullptr;
}

void HomeLinkCapture::arm() {
  sd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this](const boost::system::error_code& ec) {
                    if (ec || !pcap_) return;
                    dispatch(256);
                    arm();
                  });
}

void HomeLinkCapture::dispatch(int max) {
  // A read error leaves the handle as it was: the next readiness event tries again, and what
  // was not read is only a copy (the original went onto the link).
  (void)pcap_dispatch(
      pcap_, max,
      [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
        auto* self = reinterpret_cast<HomeLinkCapture*>(user);
        const auto at = WallTime(std::chrono::duration_cast<WallTime::duration>(
            std::chrono::seconds(h->ts.tv_sec) + std::chrono::microseconds(h->ts.tv_usec)));
        self->on_frame_(at, ByteView(bytes, h->caplen));
      },
      reinterpret_cast<u_char*>(this));
}

void HomeLinkCapture::drain() {
  if (!pcap_) return;
  // -1: everything in the buffer now (non-blocking, so it returns when empty).
  dispatch(-1);
}

}  // namespace vmroam::ha
