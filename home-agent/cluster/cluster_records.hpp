// How a home network's state lies in etcd (pure: keys and JSON values, no I/O).
//
//   <prefix>/homes/<net>_<len>/leader          the active HA's node name, on its lease
//   <prefix>/homes/<net>_<len>/bindings/<hoa>  store::BindingRecord as JSON
//   <prefix>/homes/<net>_<len>/replay/<hoa>    store::ReplayRecord as JSON
//   <prefix>/homes/<net>_<len>/vms/<id>        store::VmRecord as JSON (its key in hex)
//   <prefix>/homes/<net>_<len>/revocations/<id> store::RevocationRecord as JSON (the signed
//                                              message in hex): sent, not yet acknowledged
//   <prefix>/members/<net>_<len>/<node>        MemberRecord (cluster_status.hpp), on the
//                                              node's lease: who serves, where its API is
//
// One key per registration: while a binding exists its record's Identification is the HoA's
// replay state (the registrar accepts exactly that Identification), so a batch that puts a
// binding does not also put replay/<hoa> with the same value (to_mutations); replay/<hoa> is
// written when the replay state moves without a binding put (deregistration, expiry, a
// denial that moves it). Readers take whichever of the two was written last: the higher
// mod_revision, and replay/<hoa> when both were written by one txn (the commit pipeline keeps
// a replay put that precedes a binding put of the same HoA out of their txn,
// ClusterNode::commit, so one in the same txn is the later). etcd's work per registration is
// halved: it writes, replicates and fsyncs per key.
//
// One home prefix, one subtree: one watch covers everything a standby mirrors, and one
// election key per home prefix. Member records lie outside the home subtree: a standby
// reporting how far its mirror has got must not itself move what it mirrors. Values carry the same fields as
// the SQLite rows, so a binding means the same in both stores (home-agent/binding_record.hpp converts).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cluster/etcd.hpp"
#include "common/core/address.hpp"
#include "common/store/store.hpp"

namespace vmroam::ha {

class ClusterKeys {
 public:
  ClusterKeys(const std::string& prefix, Ipv4Prefix home_prefix);
  [[nodiscard]] const std::string& home() const { return home_; }  // ends with '/'
  [[nodiscard]] std::string leader() const { return home_ + "leader"; }
  [[nodiscard]] std::string binding(Ipv4 hoa) const { return home_ + "bindings/" + hoa.to_string(); }
  [[nodiscard]] std::string replay(Ipv4 hoa) const { return home_ + "replay/" + hoa.to_string(); }
  [[nodiscard]] std::string vm(const std::string& id) const { return home_ + "vms/" + id; }
  [[nodiscard]] std::string revocation(std::uint32_t id) const {
    return home_ + "revocations/" + std::to_string(id);
  }
  // Every home prefix's member records, and this node's own.
  [[nodiscard]] const std::string& members() const { return members_; }  // ends with '/'
  [[nodiscard]] std::string member(const std::string& node) const { return members_ + home_id_ + "/" + node; }

  enum class Kind { leader, binding, replay, vm, revocation, unknown };
  struct Parsed {
    Kind kind = Kind::unknown;
    std::string name;  // the HoA, VM id or revocation id
  };
  [[nodiscard]] Parsed parse(std::string_view key) const;

 private:
  std::string home_;
  std::string members_;
  std::string home_id_;  // "<net>_<len>"
};

[[nodiscard]] std::string encode(const store::BindingRecord& r);
[[nodiscard]] std::string encode(const store::ReplayRecord& r);
[[nodiscard]] std::string encode(const store::VmRecord& r);
[[nodiscard]] std::string encode(const store::RevocationRecord& r);
[[nodiscard]] Result<store::BindingRecord> decode_binding(std::string_view json);
[[nodiscard]] Result<store::ReplayRecord> decode_replay(std::string_view json);
[[nodiscard]] Result<store::VmRecord> decode_vm(std::string_view json);
[[nodiscard]] Result<store::RevocationRecord> decode_revocation(std::string_view json);

// A store batch as etcd mutations, in order; a replay put followed in the batch by a put of
// the same HoA's binding with that Identification is left out (see the overview).
[[nodiscard]] std::vector<cluster::Mutation> to_mutations(const ClusterKeys& keys, const store::Batch& batch);

// Everything under keys.home() as a store snapshot (the leader key is skipped), each HoA's
// replay state from its binding or its replay key, whichever is later (see the overview). A
// value that does not decode is an error naming its key: we never guess at a binding.
[[nodiscard]] Result<store::Snapshot> to_snapshot(const ClusterKeys& keys,
                                                  const std::vector<cluster::KeyValue>& kvs);

}  // namespace vmroam::ha
