// VisitorBuffer: packets for visitors that do not run here yet, held until they do.
//
// While a visitor is prepared (or registering) its HoA routes to the buffer TUN (Delivery);
// the packets the kernel hands us there are queued per visitor, bounded by age
// (delivery.buffer_ms) and size (delivery.buffer_bytes). The oldest go first when too old, the
// newest are refused when the queue is full; every drop is counted. When the VM is seen on the link or
// `resumed` is called, flush() hands the queue back in order (the reinject seam writes it into
// the kernel, which now routes the HoA to the VM link).
//
// Pure: no sockets, timers or logging; time is a parameter.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"

namespace vmroam::fa {

struct BufferLimits {
  std::uint64_t bytes = 0;  // 0: nothing is buffered
  std::chrono::milliseconds age{0};
};

struct BufferStats {
  bool buffering = false;
  std::size_t packets = 0;
  std::size_t bytes = 0;
  std::uint64_t overflow_packets = 0;  // dropped: queue full or too old
  std::uint64_t flushed_packets = 0;   // delivered at resume
};

class VisitorBuffer {
 public:
  explicit VisitorBuffer(BufferLimits limits) : limits_(limits) {}
  void set_limits(BufferLimits limits) { limits_ = limits; }

  // Packets for `id` are held from now on.
  void start(const std::string& id);

  struct Pushed {
    bool buffering = false;     // false: not buffering (any more); deliver the packet at once
    bool queued = false;        // held
    std::uint64_t dropped = 0;  // this packet (full) and older ones (too old)
  };
  [[nodiscard]] Pushed push(const std::string& id, ByteView packet, TimePoint now);

  struct Flushed {
    bool was_buffering = false;
    std::size_t delivered = 0;
    std::uint64_t expired = 0;  // too old by now: dropped, counted as overflow
  };
  // Stops buffering `id` and hands every packet still young enough to `deliver`, in order.
  Flushed flush(const std::string& id, TimePoint now, const std::function<void(ByteView)>& deliver);

  // Forgets `id` and whatever it held.
  void erase(const std::string& id) { queues_.erase(id); }
  [[nodiscard]] BufferStats stats(const std::string& id) const;

 private:
  struct Held {
    Bytes packet;
    TimePoint at;
  };
  struct Queue {
    bool buffering = false;
    std::deque<Held> held;
    std::size_t bytes = 0;
    std::uint64_t overflow = 0;
    std::uint64_t flushed = 0;
  };
  BufferLimits limits_;
  std::map<std::string, Queue, std::less<>> queues_;
};

}  // namespace vmroam::fa
