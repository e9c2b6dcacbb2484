// A visitor as the store keeps it: wall-clock times on disk, monotonic ones in memory.
//
// Pure: the clock is a parameter (it converts between the two time bases). A record whose
// state or encapsulation the parser does not know comes back as `failed` / IP-in-IP, so a
// store written by a newer version still loads (and the visitor is re-registered by hand).
#pragma once

#include "common/binding/visitor_list.hpp"
#include "common/core/clock.hpp"
#include "common/store/store.hpp"

namespace vmroam::fa {

[[nodiscard]] store::VisitorRecord to_record(const binding::Visitor& v, const Clock& clock);
[[nodiscard]] binding::Visitor from_record(const store::VisitorRecord& r, const Clock& clock);

}  // namespace vmroam::fa
