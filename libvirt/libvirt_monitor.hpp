// The connection to libvirtd (the OS seam of vmroam-libvirt; docs/decisions/0003).
//
// libvirt's default event loop runs on one thread of its own (virEventRunDefaultImpl): it
// reads libvirtd's socket and calls our callbacks, which only copy what they were given and
// post it to the daemon's io_context. Everything else — decisions, HTTP calls to the agents,
// libvirt API calls (domain XML, reconnecting) — runs on the io_context's thread.
//
// Connection lifetime: open the URI, register the close callback, a lifecycle callback and a
// QEMU monitor event callback (every event: STOP, RESUME and MIGRATION are used), enable
// keepalive (5 s, 3 misses). When libvirtd goes away (close callback, or the first connect
// fails) it reconnects with backoff (initial doubling to max) and registers again; events
// that happened meanwhile are lost, and a migration in flight then proceeds without us.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/core/asio.hpp"
#include "common/core/result.hpp"
#include "libvirt/coupling.hpp"

namespace vmroam::virt {

struct DomainEvent {
  std::string uuid;
  std::string name;
  std::string what;  // for logs: "STARTED/1", "STOP", "MIGRATION active"
  CouplingEvent event;
};

// What the coupler asks of the hypervisor, behind a seam so tests can fake it.
class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  // The domain's XML (virDomainGetXMLDesc) and vmroam's metadata element, or errors.
  [[nodiscard]] virtual Result<std::string> domain_xml(const std::string& uuid) = 0;
  [[nodiscard]] virtual Result<std::string> domain_metadata(const std::string& uuid) = 0;
};

class LibvirtMonitor final : public Hypervisor {
 public:
  using Sink = std::function<void(DomainEvent)>;
  LibvirtMonitor(boost::asio::io_context& io, std::string uri, std::chrono::milliseconds backoff_initial,
                 std::chrono::milliseconds backoff_max, Sink sink);
  ~LibvirtMonitor() override;
  LibvirtMonitor(const LibvirtMonitor&) = delete;
  LibvirtMonitor& operator=(const LibvirtMonitor&) = delete;

  // Starts the event thread and the first connection attempt (retried until stop()).
  [[nodiscard]] Result<void> start();
  void stop();
  [[nodiscard]] bool connected() const { return conn_ != nullptr; }

  Result<std::string> domain_xml(const std::string& uuid) override;
  Result<std::string> domain_metadata(const std::string& uuid) override;

  // libvirt callbacks (C linkage trampolines call these on the event thread).
  void from_event_thread(DomainEvent e);
  void connection_closed(int reason);

 private:
  void connect();
  void disconnect();
  void schedule_reconnect();
  bool register_callbacks();

  boost::asio::io_context& io_;
  std::string uri_;
  std::chrono::milliseconds backoff_initial_, backoff_max_, backoff_;
  Sink sink_;
  boost::asio::steady_timer reconnect_timer_;
  void* conn_ = nullptr;  // virConnectPtr; only the io thread changes it
  int lifecycle_id_ = -1;
  int qemu_id_ = -1;
  std::atomic<std::uint64_t> generation_{0};  // bumps per connection, so late closes of old ones are ignored
  std::thread event_thread_;
  std::atomic<bool> running_{false};
  int wake_timer_ = -1;
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace vmroam::virt
