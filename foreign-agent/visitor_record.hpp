// A visitor as the store keeps it: wall-clock times on disk, monotonic ones in memory.
//
// Pure: the clock is a parameter (it converts between the two time bases). A record whose
// state or encapsulation the parser does not know comes back as `failed` / IP-in-IP, so a
// store written by a newer version still loads (and the visitor is re-registered by hand).
#pragma once

#include <optional>
#include <string>

#include "common/binding/visitor_list.hpp"
#include "common/core/clock.hpp"
#include "common/store/store.hpp"

namespace vmroam::fa {

// One visitor's change in a commit: its new record, or nullopt for a deletion.
struct VisitorChange {
  std::string id;
  std::optional<store::VisitorRecord> record;
};
// The change that makes the store hold what `visitors` holds for `id`.
[[nodiscard]] VisitorChange change_of(const binding::VisitorList& visitors, const std::string& id,
                                      const Clock& clock);

[[nodiscard]] store::VisitorRecord to_record(const binding::Visitor& v, const Clock& clock);
[[nodiscard]] binding::Visitor from_record(const store::VisitorRecord& r, const Clock& clock);

}  // namespace vmroam::fa
