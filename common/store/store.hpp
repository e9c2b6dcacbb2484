// Durable state of the agents, in one SQLite file (docs/decisions/0001-durable-store.md).
//
// The daemon gathers the mutations of one event-loop turn into a Batch and calls
// commit(batch) once: one transaction, fsync'd before commit() returns (WAL mode,
// synchronous=FULL). So "acknowledged" means "on disk": the HA sends a Registration Reply
// only after the binding it grants has been committed (docs/home-agent.md,
// "Forward before durable"; docs/decisions/0001-durable-store.md).
// A failed commit applies nothing and returns a named error. At start-up load() returns
// everything for restore.
//
// The store knows tables and columns, not Mobile IP: records are plain values, enum-like
// fields are stored as the text the caller gives (e.g. "ipip", "active"), times are
// wall-clock unix milliseconds (monotonic time does not survive a restart; the daemon
// converts), 64-bit unsigned values are stored bit-for-bit in SQLite's signed integers, and
// each row has a `params` JSON object for fields later versions add.
//
// Error codes: store_open_failed, store_corrupt, store_not_ours (tables but no schema_version),
// store_schema_too_new, store_constraint (a UNIQUE/CHECK violated: bad JSON, duplicate MAC …),
// store_busy, store_full, store_io, store_poisoned (an earlier I/O error during commit left
// the on-disk outcome unknown: restart), store_error (anything else), store_closed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/core/address.hpp"
#include "common/core/bytes.hpp"
#include "common/core/result.hpp"

namespace vmroam::store {

inline constexpr int kSchemaVersion = 1;

// Home agent: a VM the operator registered (docs/api.md POST /v1/vms).
struct VmRecord {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  std::vector<Ipv4> allowed_fas;
  std::uint32_t spi = 0;
  std::string algorithm;
  Bytes key;
  std::optional<std::uint32_t> fa_ha_spi;
  std::string params = "{}";  // JSON object: fields not yet given a column
  friend bool operator==(const VmRecord&, const VmRecord&) = default;
};

// Home agent: one binding, all of binding::Binding's fields with wall-clock times.
struct BindingRecord {
  Ipv4 home_address;
  Ipv4 care_of_address;
  Ipv4 foreign_agent;
  std::uint16_t lifetime_granted = 0;
  std::uint8_t flags = 0;
  std::string encapsulation = "ipip";
  std::int64_t registered_at_unix_ms = 0;
  std::optional<std::int64_t> expires_at_unix_ms;  // nullopt: infinite lifetime
  std::uint64_t identification = 0;
  std::uint64_t move_seq = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t bytes_out = 0;
  std::string params = "{}";
  friend bool operator==(const BindingRecord&, const BindingRecord&) = default;
};

// Home agent: replay protection per home address (last accepted Identification).
struct ReplayRecord {
  Ipv4 home_address;
  std::uint64_t last_identification = 0;
  friend bool operator==(const ReplayRecord&, const ReplayRecord&) = default;
};

// Foreign agent: one visitor, all of binding::Visitor's fields with wall-clock times.
struct VisitorRecord {
  std::string id;
  Ipv4 home_address;
  MacAddress mac;
  Ipv4 home_gateway;
  MacAddress home_gateway_mac;
  Ipv4 home_agent;
  std::uint32_t spi = 0;
  std::string algorithm;
  Bytes key;
  std::uint16_t lifetime_requested = 0;
  std::string encapsulation = "ipip";
  std::string state;
  std::optional<std::uint8_t> last_reply_code;
  std::string reason;
  std::uint64_t identification_sent = 0;
  std::optional<std::int64_t> expires_at_unix_ms;
  std::int64_t created_at_unix_ms = 0;
  std::uint64_t packets_in = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t bytes_out = 0;
  std::string params = "{}";
  friend bool operator==(const VisitorRecord&, const VisitorRecord&) = default;
};

// Mutations gathered during one event-loop turn, applied in order by Store::commit().
// A put replaces the row with the same key (id or home address); a delete of a missing row
// is not an error.
class Batch {
 public:
  void put_vm(VmRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_vm(std::string id) { ops_.emplace_back(DeleteVm{std::move(id)}); }
  void put_binding(BindingRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_binding(Ipv4 home_address) { ops_.emplace_back(DeleteBinding{home_address}); }
  void put_replay(ReplayRecord r) { ops_.emplace_back(r); }
  void delete_replay(Ipv4 home_address) { ops_.emplace_back(DeleteReplay{home_address}); }
  void put_visitor(VisitorRecord r) { ops_.emplace_back(std::move(r)); }
  void delete_visitor(std::string id) { ops_.emplace_back(DeleteVisitor{std::move(id)}); }

  [[nodiscard]] std::size_t size() const { return ops_.size(); }
  [[nodiscard]] bool empty() const { return ops_.empty(); }
  void clear() { ops_.clear(); }
  // Calls `f` with each mutation in order (a record, or one of the Delete* below): for a
  // store other than SQLite, such as the home agents' etcd (home-agent/cluster/).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& op : ops_) std::visit(f, op);
  }

  // The mutation kinds besides the records themselves (public for the store's visitor).
  struct DeleteVm {
    std::string id;
  };
  struct DeleteBinding {
    Ipv4 home_address;
  };
  struct DeleteReplay {
    Ipv4 home_address;
  };
  struct DeleteVisitor {
    std::string id;
  };

 private:
  friend class Store;
  using Op = std::variant<VmRecord, DeleteVm, BindingRecord, DeleteBinding, ReplayRecord, DeleteReplay,
                          VisitorRecord, DeleteVisitor>;
  std::vector<Op> ops_;
};

// Everything in the store, each table ordered by its key.
struct Snapshot {
  std::vector<VmRecord> vms;
  std::vector<BindingRecord> bindings;
  std::vector<ReplayRecord> replay;
  std::vector<VisitorRecord> visitors;
};

class Store {
 public:
  // Opens (creating if absent) the database at `path`, checks it (quick_check), and
  // migrates its schema to kSchemaVersion. Start-up only.
  [[nodiscard]] static Result<Store> open(const std::string& path);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  // Applies every mutation of `batch` in one transaction and returns once it is durable.
  // On error nothing is applied; the error names the failing mutation by index.
  [[nodiscard]] Result<void> commit(const Batch& batch);

  [[nodiscard]] Result<Snapshot> load();
  [[nodiscard]] Result<std::vector<VmRecord>> load_vms();
  [[nodiscard]] Result<std::vector<BindingRecord>> load_bindings();
  [[nodiscard]] Result<std::vector<ReplayRecord>> load_replay();
  [[nodiscard]] Result<std::vector<VisitorRecord>> load_visitors();

  [[nodiscard]] int schema_version() const;
  [[nodiscard]] const std::string& path() const;

  // Closes the database (also done by the destructor); later calls fail with store_closed.
  void close();

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vmroam::store
