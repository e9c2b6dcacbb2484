// Each store record to and from one row of its table, columns in the order schema.hpp lists
// them. A column that does not parse (an address, a MAC, a number out of range, a bad
// allowed_fas list) marks the Row bad, naming the column and its value.
#pragma once

#include "common/store/records.hpp"
#include "common/store/sqlite.hpp"

namespace vmroam::store::codec {

void bind(sqlite::Binder& b, const VmRecord& r);
void bind(sqlite::Binder& b, const BindingRecord& r);
void bind(sqlite::Binder& b, const ReplayRecord& r);
void bind(sqlite::Binder& b, const VisitorRecord& r);
void bind(sqlite::Binder& b, const RevocationRecord& r);

VmRecord read_vm(sqlite::Row& row);
BindingRecord read_binding(sqlite::Row& row);
ReplayRecord read_replay(sqlite::Row& row);
VisitorRecord read_visitor(sqlite::Row& row);
RevocationRecord read_revocation(sqlite::Row& row);

}  // namespace vmroam::store::codec
