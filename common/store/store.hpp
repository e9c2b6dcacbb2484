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

#include <memory>
#include <string>
#include <vector>

#include "common/core/result.hpp"
#include "common/store/records.hpp"

namespace vmroam::store {

inline constexpr int kSchemaVersion = 3;  // schema.hpp builds it

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
  [[nodiscard]] Result<std::vector<RevocationRecord>> load_revocations();

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
