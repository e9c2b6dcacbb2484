// See libvirt_monitor.hpp. Timers: reconnect backoff (initial, doubling, capped at max);
// libvirt keepalive 5 s × 3 detects a libvirtd that hangs.
#include "libvirt/libvirt_monitor.hpp"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/core/log.hpp"
#include "libvirt/domain_xml.hpp"
#include "libvirt/events.hpp"

namespace vmroam::virt {

namespace {

virConnectPtr as_conn(void* p) { return static_cast<virConnectPtr>(p); }

std::string last_libvirt_error() {
  const virError* e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}

// Name and UUID are local to the domain object: no call to libvirtd on the event thread.
bool identify(virDomainPtr dom, DomainEvent& out) {
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(dom, uuid) != 0) return false;
  out.uuid = uuid;
  const char* name = virDomainGetName(dom);
  out.name = name ? name : "";
  return true;
}

int on_lifecycle(virConnectPtr, virDomainPtr dom, int event, int detail, void* opaque) {
  auto ev = from_lifecycle(event, detail);
  if (!ev) return 0;
  DomainEvent e{{}, {}, lifecycle_name(event, detail), *ev};
  if (identify(dom, e)) static_cast<LibvirtMonitor*>(opaque)->from_event_thread(std::move(e));
  return 0;
}

void on_qemu_event(virConnectPtr, virDomainPtr dom, const char* event, long long seconds, unsigned int micros,
                   const char* details, void* opaque) {
  if (!event) return;
  auto ev = from_qemu_event(event, seconds, micros, details ? details : "");
  if (!ev) return;
  DomainEvent e{{}, {}, ev->status.empty() ? event : std::string(event) + " " + ev->status, *ev};
  if (identify(dom, e)) static_cast<LibvirtMonitor*>(opaque)->from_event_thread(std::move(e));
}

void on_close(virConnectPtr, int reason, void* opaque) {
  static_cast<LibvirtMonitor*>(opaque)->connection_closed(reason);
}

void on_wake(int, void*) {}

// libvirt prints every error to stderr by default; ours are logged where they matter.
void quiet_errors(void*, virErrorPtr) {}

}  // namespace

LibvirtMonitor::LibvirtMonitor(boost::asio::io_context& io, std::string uri,
                               std::chrono::milliseconds backoff_initial,
                               std::chrono::milliseconds backoff_max, Sink sink)
    : io_(io),
      uri_(std::move(uri)),
      backoff_initial_(backoff_initial),
      backoff_max_(backoff_max),
      backoff_(backoff_initial),
      sink_(std::move(sink)),
      reconnect_timer_(io) {}

LibvirtMonitor::~LibvirtMonitor() { stop(); }

Result<void> LibvirtMonitor::start() {
  // Once per process, before any connection: the default implementation, run on our thread.
  virSetErrorFunc(nullptr, quiet_errors);
  static const int registered = virEventRegisterDefaultImpl();
  if (registered != 0) return fail("libvirt_event_loop", last_libvirt_error());
  // A disabled timer: stop() arms it so that the blocked loop returns and sees running_ false.
  wake_timer_ = virEventAddTimeout(-1, on_wake, nullptr, nullptr);
  running_ = true;
  event_thread_ = std::thread([this] {
    while (running_)
      if (virEventRunDefaultImpl() < 0) log_error("libvirt_event_loop", {{"error", last_libvirt_error()}});
  });
  connect();
  return ok();
}

void LibvirtMonitor::stop() {
  if (!running_.exchange(false)) return;
  *alive_ = false;
  reconnect_timer_.cancel();
  disconnect();
  if (wake_timer_ >= 0) virEventUpdateTimeout(wake_timer_, 0);
  if (event_thread_.joinable()) event_thread_.join();
  if (wake_timer_ >= 0) virEventRemoveTimeout(wake_timer_);
  wake_timer_ = -1;
}

void LibvirtMonitor::from_event_thread(DomainEvent e) {
  // Event thread → io thread; nothing else is touched here.
  boost::asio::post(io_, [this, alive = alive_, e = std::move(e)]() mutable {
    if (*alive) sink_(std::move(e));
  });
}

void LibvirtMonitor::connection_closed(int reason) {
  const std::uint64_t gen = generation_;
  boost::asio::post(io_, [this, alive = alive_, reason, gen] {
    if (!*alive || gen != generation_ || !conn_) return;
    log_warn("libvirt_disconnected", {{"uri", uri_}, {"reason", std::to_string(reason)}});
    disconnect();
    schedule_reconnect();
  });
}

void LibvirtMonitor::connect() {
  if (!running_) return;
  virConnectPtr c = virConnectOpen(uri_.c_str());
  if (!c) {
    log_warn(
        "libvirt_connect_failed",
        {{"uri", uri_}, {"error", last_libvirt_error()}, {"retry_ms", std::to_string(backoff_.count())}});
    return schedule_reconnect();
  }
  conn_ = c;
  ++generation_;
  if (!register_callbacks()) {
    log_warn("libvirt_register_failed", {{"uri", uri_}, {"error", last_libvirt_error()}});
    disconnect();
    return schedule_reconnect();
  }
  backoff_ = backoff_initial_;
  log_info("libvirt_connected", {{"uri", uri_}});
}

bool LibvirtMonitor::register_callbacks() {
  virConnectPtr c = as_conn(conn_);
  if (virConnectRegisterCloseCallback(c, on_close, this, nullptr) != 0) return false;
  // Keepalive needs the event loop (it runs); a libvirtd that stops answering closes us.
  if (virConnectSetKeepAlive(c, 5, 3) < 0)
    log_warn("libvirt_keepalive_off", {{"error", last_libvirt_error()}});
  lifecycle_id_ = virConnectDomainEventRegisterAny(c, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), this, nullptr);
  if (lifecycle_id_ < 0) return false;
  // Every QEMU event of every domain; the translation keeps STOP, RESUME and MIGRATION.
  qemu_id_ = virConnectDomainQemuMonitorEventRegister(c, nullptr, nullptr, on_qemu_event, this, nullptr, 0);
  return qemu_id_ >= 0;
}

void LibvirtMonitor::disconnect() {
  if (!conn_) return;
  virConnectPtr c = as_conn(conn_);
  // On a dead connection these fail harmlessly; on a live one they must precede the close.
  if (qemu_id_ >= 0) virConnectDomainQemuMonitorEventDeregister(c, qemu_id_);
  if (lifecycle_id_ >= 0) virConnectDomainEventDeregisterAny(c, lifecycle_id_);
  virConnectUnregisterCloseCallback(c, on_close);
  virConnectClose(c);
  qemu_id_ = lifecycle_id_ = -1;
  conn_ = nullptr;
  ++generation_;
}

void LibvirtMonitor::schedule_reconnect() {
  if (!running_) return;
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, backoff_max_);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) connect();
  });
}

namespace {
struct DomainRef {
  virDomainPtr dom = nullptr;
  ~DomainRef() {
    if (dom) virDomainFree(dom);
  }
};
}  // namespace

Result<std::string> LibvirtMonitor::domain_xml(const std::string& uuid) {
  if (!conn_) return fail("libvirt_disconnected", uri_);
  DomainRef d{virDomainLookupByUUIDString(as_conn(conn_), uuid.c_str())};
  if (!d.dom) return fail("no_domain", uuid + ": " + last_libvirt_error());
  char* xml = virDomainGetXMLDesc(d.dom, 0);
  if (!xml) return fail("no_domain_xml", uuid + ": " + last_libvirt_error());
  std::string out(xml);
  free(xml);  // NOLINT(cppcoreguidelines-no-malloc): libvirt's allocation
  return out;
}

Result<std::string> LibvirtMonitor::domain_metadata(const std::string& uuid) {
  if (!conn_) return fail("libvirt_disconnected", uri_);
  DomainRef d{virDomainLookupByUUIDString(as_conn(conn_), uuid.c_str())};
  if (!d.dom) return fail("no_domain", uuid + ": " + last_libvirt_error());
  const std::string ns(kMetadataNamespace);
  char* xml = virDomainGetMetadata(d.dom, VIR_DOMAIN_METADATA_ELEMENT, ns.c_str(), VIR_DOMAIN_AFFECT_CURRENT);
  if (!xml) return fail("no_metadata", uuid);
  std::string out(xml);
  free(xml);  // NOLINT(cppcoreguidelines-no-malloc): libvirt's allocation
  return out;
}

}  // namespace vmroam::virt
