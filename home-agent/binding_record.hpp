// Bindings to and from their durable records (common/store): the store keeps wall-clock unix
// milliseconds (monotonic time does not survive a restart), the cache monotonic time.
//
// The record carries the tunnel endpoint in its params when it differs from the care-of
// address on port 434 (RFC 3519 through a NAT: the NAT's address and port), so that a restart
// rebuilds the tunnel where it really goes.
#pragma once

#include "common/binding/binding_cache.hpp"
#include "common/core/clock.hpp"
#include "common/dataplane/tunnel_driver.hpp"
#include "common/store/store.hpp"

namespace vmroam::ha {

[[nodiscard]] store::BindingRecord to_record(const binding::Binding& b, const dataplane::TunnelEndpoint& ep,
                                             const Clock& clock);
[[nodiscard]] binding::Binding from_record(const store::BindingRecord& r, const Clock& clock);
// The endpoint a restored binding's tunnel goes to: its care-of address on 434, unless the
// record's params say otherwise (malformed params are ignored).
[[nodiscard]] dataplane::TunnelEndpoint endpoint_from_record(const store::BindingRecord& r,
                                                             const binding::Binding& b);

}  // namespace vmroam::ha
