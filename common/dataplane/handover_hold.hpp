// The handover hold: what keeps the packets that would otherwise die with a paused VM.
//
// A live migration stops the guest at the source (QEMU's STOP) well before the new binding
// reaches the home agent: the FA's registration crosses the WAN and the HA commits it. Until
// then the HA keeps sending the VM's traffic where it used to go — onto the home link or into
// the tunnel to the FA the VM is leaving — and there it queues in the paused source's tap and
// is lost with it. Two pure pieces close that gap (docs/dataplane.md "Handover hold"):
//
//   * PacketRecorder: from the migration's start, copies of the packets sent towards a
//     watched HoA, with their wall-clock time (WallTime: QEMU's QMP events carry it, and the
//     capture of the home link stamps frames with it), for a bounded window. At the stop, the copies
//     sent at or after the source's STOP (minus a margin for what sat unread in the tap) are
//     the ones the guest never saw; they are recovered and sent again to the new place.
//   * HoldQueue: from the stop until the binding changes, the HoA's packets are queued here
//     instead of being sent anywhere (bounded: tail drop, counted), then released in order to
//     the new care-of address, or back to the kernel when the VM came home.
//
// A recovered packet that the guest did read just before STOP reaches it twice: duplicates
// are what IP allows and TCP absorbs; a loss is what we promise not to cause.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"

namespace vmroam::dataplane {

class PacketRecorder {
 public:
  struct Limits {
    std::chrono::milliseconds window{2000};  // older copies are forgotten
    std::size_t max_bytes = 4u << 20;        // per HoA; the oldest go first
  };
  PacketRecorder() : PacketRecorder(Limits{}) {}
  explicit PacketRecorder(Limits limits) : limits_(limits) {}

  void watch(Ipv4 hoa) { (void)rings_[hoa]; }
  void unwatch(Ipv4 hoa) { rings_.erase(hoa); }
  [[nodiscard]] bool watching(Ipv4 hoa) const { return rings_.contains(hoa); }
  [[nodiscard]] bool empty() const { return rings_.empty(); }
  [[nodiscard]] std::size_t recorded(Ipv4 hoa) const;

  // Keeps a copy if `hoa` is watched; `at` must not go backwards by more than the window.
  void record(Ipv4 hoa, WallTime at, ByteView packet);
  // The copies recorded at or after `since`, oldest first; the HoA stays watched, emptied.
  [[nodiscard]] std::vector<Bytes> take_since(Ipv4 hoa, WallTime since);

 private:
  struct Entry {
    WallTime at;
    Bytes packet;
  };
  struct Ring {
    std::deque<Entry> entries;
    std::size_t bytes = 0;
  };
  Limits limits_;
  std::unordered_map<Ipv4, Ring> rings_;
};

class HoldQueue {
 public:
  struct Limits {
    std::size_t max_packets = 4096;  // per HoA: ~5 s of a 10 ms ping, ~0.5 s at 100 Mbit/s
    std::size_t max_bytes = 8u << 20;
  };
  HoldQueue() : HoldQueue(Limits{}) {}
  explicit HoldQueue(Limits limits) : limits_(limits) {}

  void hold(Ipv4 hoa) { (void)queues_[hoa]; }
  [[nodiscard]] bool holding(Ipv4 hoa) const { return queues_.contains(hoa); }
  [[nodiscard]] bool empty() const { return queues_.empty(); }
  [[nodiscard]] std::size_t queued(Ipv4 hoa) const;
  // False when the HoA is not held or its queue is full (the packet is dropped and counted).
  [[nodiscard]] bool push(Ipv4 hoa, ByteView packet);
  // Stops holding; the queued packets in arrival order.
  [[nodiscard]] std::vector<Bytes> release(Ipv4 hoa);
  [[nodiscard]] std::uint64_t overflowed() const { return overflowed_; }

 private:
  struct Queue {
    std::vector<Bytes> packets;
    std::size_t bytes = 0;
  };
  Limits limits_;
  std::unordered_map<Ipv4, Queue> queues_;
  std::uint64_t overflowed_ = 0;
};

}  // namespace vmroam::dataplane
