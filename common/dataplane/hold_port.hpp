// HoldPort: what the handover hold (handover_hold.hpp) needs from a data plane, and nothing
// more. A driver that can show the agent a HoA's packets offers one beside its TunnelDriver
// (TunnelDriver::hold_port()); one that cannot (the kernel's ipip devices) offers none, and
// the hold is then "not_supported".
//
// Four verbs, all for the destination lookup (the HA):
//   * divert(hoa, true): stop sending the HoA's packets anywhere and hand each one to the
//     sink instead, as `diverted` (a HoA with no route, the VM at home, is steered to the port
//     for this); divert(hoa, false) stops that (and undoes such steering);
//   * tap(hoa, on): hand the sink a copy of every packet tunnelled to the HoA, as `tapped`,
//     stamped with the wall-clock time it left (the migration's STOP is a wall-clock moment);
//   * reinject(packet): send one inner packet as if the kernel had just routed it: encapsulated
//     per the current binding of its destination, or, with no route (the VM is home, or the
//     move was cancelled there), handed to the kernel, which delivers it on the home link.
// The sink runs on the loop, from inside the driver's receive path: it must not call back
// into the port.
//
// How the two drivers do it (docs/dataplane.md "Handover hold"):
//   * userspace: the TUN read path checks the divert and tap sets per packet; reinject
//     encapsulates and sends at once, or writes the packet back into the TUN once the steering
//     is gone;
//   * eBPF (a tc program on the TUN/egress): a per-HoA flag in a BPF map redirects the HoA's
//     packets to a TUN the agent drains (divert) or clones them there (tap); reinject writes
//     into that TUN, where the program encapsulates with the binding now in its map.
// FakeHoldPort in tests/fakes records the calls and lets tests play the data plane's part.
#pragma once

#include <cstdint>
#include <functional>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace vmroam::dataplane {

class HoldPort {
 public:
  enum class Seen : std::uint8_t {
    diverted,  // the packet itself: the port will not send it (divert is on)
    tapped,    // a copy of a packet the port has just tunnelled
  };
  using Sink = std::function<void(Seen what, Ipv4 hoa, WallTime at, ByteView packet)>;

  virtual ~HoldPort() = default;
  // One sink per port (the handover hold's); an empty one discards.
  virtual void set_sink(Sink sink) = 0;
  // Errors: "not_supported" (the port cannot see this HoA's packets), the steering's own.
  virtual Result<void> divert(Ipv4 hoa, bool on) = 0;
  virtual Result<void> tap(Ipv4 hoa, bool on) = 0;
  // Errors: the send's or the delivery's (already counted in the driver's TunnelStats).
  virtual Result<void> reinject(ByteView packet) = 0;
};

}  // namespace vmroam::dataplane
