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
// HandoverHold puts them together over a data plane's HoldPort (hold_port.hpp): record(hoa)
// taps what is tunnelled to the HoA into the recorder; hold() diverts the HoA's packets into
// the queue, with the recovered copies first; release() stops the diversion and reinjects the
// queue in order, so the port sends it per the binding as it is now. The HA decides when
// (home-agent/handover.hpp); this unit only keeps the packets and their order.
//
// A recovered packet that the guest did read just before STOP reaches it twice: duplicates
// are what IP allows and TCP absorbs; a loss is what we promise not to cause.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/dataplane/hold_port.hpp"

namespace vmroam::dataplane {

class PacketRecorder {
 public:
  struct Limits {
    std::chrono::milliseconds window{2000};  // older copies are forgotten
    std::size_t max_bytes = 4u << 20;        // per HoA; the oldest go first
  };
  PacketRecorder() : PacketRecorder(Limits{}) {}
  explicit PacketRecorder(Limits limits) : limits_(limits) {}

  void watch(Ipv4 hoa) { rings_.try_emplace(hoa); }
  void unwatch(Ipv4 hoa) { rings_.erase(hoa); }
  [[nodiscard]] bool watching(Ipv4 hoa) const { return rings_.contains(hoa); }
  [[nodiscard]] bool empty() const { return rings_.empty(); }
  [[nodiscard]] std::size_t recorded(Ipv4 hoa) const;
  [[nodiscard]] std::vector<Ipv4> hoas() const;

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

  void hold(Ipv4 hoa) { queues_.try_emplace(hoa); }
  [[nodiscard]] bool holding(Ipv4 hoa) const { return queues_.contains(hoa); }
  [[nodiscard]] bool empty() const { return queues_.empty(); }
  [[nodiscard]] std::size_t queued(Ipv4 hoa) const;
  [[nodiscard]] std::vector<Ipv4> hoas() const;
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

class HandoverHold {
 public:
  struct Limits {
    PacketRecorder::Limits recorder;
    HoldQueue::Limits queue;
  };
  // Takes the port's sink for as long as it lives.
  explicit HandoverHold(HoldPort& port) : HandoverHold(port, Limits{}) {}
  HandoverHold(HoldPort& port, Limits limits);
  // Releases what is still held and stops every tap: nothing stays diverted behind us.
  ~HandoverHold();
  HandoverHold(const HandoverHold&) = delete;
  HandoverHold& operator=(const HandoverHold&) = delete;

  // From now on keep copies of what the port tunnels to the HoA. Errors: the port's tap.
  [[nodiscard]] Result<void> record(Ipv4 hoa);
  // Stops that and forgets the copies. Errors: the port's tap (the copies are forgotten anyway).
  [[nodiscard]] Result<void> stop_recording(Ipv4 hoa);
  // Copies taken elsewhere (e.g. the HA's home-link capture), asked for once the divert is in
  // place: everything sent before it is in that capture, everything after it is diverted.
  using Recover = std::function<std::vector<Bytes>()>;
  // Diverts the HoA's packets into the queue (nothing is sent to it any more). With
  // `recover_since`, the recorded copies tunnelled at or after that moment join the queue
  // first, then what `recover` returns (called after the divert); recording stops.
  // Holding an already held HoA only adds the copies. Returns how many copies were queued.
  // Errors: the port's divert (e.g. "not_supported"); then nothing is held.
  [[nodiscard]] Result<std::size_t> hold_and_recover(Ipv4 hoa, std::optional<WallTime> recover_since,
                                                     const Recover& recover);
  // The same with copies already taken.
  [[nodiscard]] Result<std::size_t> hold(Ipv4 hoa, std::optional<WallTime> recover_since,
                                         std::vector<Bytes> recovered) {
    return hold_and_recover(hoa, recover_since, [&recovered] { return std::move(recovered); });
  }
  // Ends the hold: the diversion stops, then the queue is reinjected in arrival order (the
  // port sends each packet per the HoA's binding now, or hands it to the kernel). Returns how
  // many the port took. Errors: "not_holding"; the port's undivert (the queue was released
  // all the same).
  [[nodiscard]] Result<std::size_t> release(Ipv4 hoa);

  [[nodiscard]] bool holding(Ipv4 hoa) const { return queue_.holding(hoa); }
  [[nodiscard]] bool recording(Ipv4 hoa) const { return recorder_.watching(hoa); }
  [[nodiscard]] std::size_t queued(Ipv4 hoa) const { return queue_.queued(hoa); }
  // Packets lost to a full queue (DropReason::hold_full).
  [[nodiscard]] std::uint64_t dropped() const { return queue_.overflowed(); }

 private:
  void on_packet(HoldPort::Seen what, Ipv4 hoa, WallTime at, ByteView packet);

  HoldPort& port_;
  PacketRecorder recorder_;
  HoldQueue queue_;
};

}  // namespace vmroam::dataplane
