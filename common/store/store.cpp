// SQLite implementation of the durable store (store.hpp). One connection, used from the
// daemon's one thread. Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT)
// and reused. The schema and its migrations are in schema.*, records to and from rows in
// record_codec.*, SQLite handles, errors and cursors in sqlite.*.
#include "common/store/store.hpp"

#include <sqlite3.h>

#include <string_view>
#include <variant>

#include "common/store/record_codec.hpp"
#include "common/store/schema.hpp"
#include "common/store/sqlite.hpp"

namespace vmroam::store {

static_assert(kSchemaVersion == schema::kVersion);

using sqlite::Binder;
using sqlite::Db;
using sqlite::db_fail;
using sqlite::Row;
using sqlite::step_done;
using sqlite::Stmt;

// ---- Store ----------------------------------------------------------------------------------

struct Store::Impl {
  std::string path;
  Db db;
  int version = 0;
  bool poisoned = false;
  struct TableStmts {
    Stmt upsert, remove, select;
  };
  TableStmts vms, bindings, replay, visitors, revocations;
  Stmt begin, commit, rollback;

  // Binds one batch mutation to its cached statement; the caller steps it.
  struct OpBinder {
    Impl& impl;
    sqlite3_stmt* stmt = nullptr;
    int rc = SQLITE_OK;
    const char* what = "";

    template <typename Record>
    void put(TableStmts& t, const char* w, const Record& r) {
      stmt = t.upsert.get();
      what = w;
      Binder b(stmt);
      codec::bind(b, r);
      rc = b.rc();
    }
    void del(TableStmts& t, const char* w, std::string_view id) {
      stmt = t.remove.get();
      what = w;
      rc = Binder(stmt).text(id).rc();
    }
    void del(TableStmts& t, const char* w, std::uint32_t n) {
      stmt = t.remove.get();
      what = w;
      rc = Binder(stmt).i64(n).rc();
    }
    void del(TableStmts& t, const char* w, Ipv4 a) {
      stmt = t.remove.get();
      what = w;
      rc = Binder(stmt).ipv4(a).rc();
    }
    void operator()(const VmRecord& r) { put(impl.vms, "put_vm", r); }
    void operator()(const Batch::DeleteVm& d) { del(impl.vms, "delete_vm", d.id); }
    void operator()(const BindingRecord& r) { put(impl.bindings, "put_binding", r); }
    void operator()(const Batch::DeleteBinding& d) { del(impl.bindings, "delete_binding", d.home_address); }
    void operator()(const ReplayRecord& r) { put(impl.replay, "put_replay", r); }
    void operator()(const Batch::DeleteReplay& d) { del(impl.replay, "delete_replay", d.home_address); }
    void operator()(const VisitorRecord& r) { put(impl.visitors, "put_visitor", r); }
    void operator()(const Batch::DeleteVisitor& d) { del(impl.visitors, "delete_visitor", d.id); }
    void operator()(const RevocationRecord& r) { put(impl.revocations, "put_revocation", r); }
    void operator()(const Batch::DeleteRevocation& d) {
      del(impl.revocations, "delete_revocation", d.revocation_id);
    }
  };

  Result<TableStmts> prepare_table(const schema::Table& t) {
    TableStmts ts;
    VMROAM_TRY(ts.upsert, sqlite::prepare(db.get(), schema::upsert_sql(t)));
    VMROAM_TRY(ts.remove, sqlite::prepare(db.get(), schema::delete_sql(t)));
    VMROAM_TRY(ts.select, sqlite::prepare(db.get(), schema::select_sql(t)));
    return ts;
  }
  template <typename Record, typename Read>
  Result<std::vector<Record>> load_table(sqlite3_stmt* s, const char* table, Read read) {
    std::vector<Record> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Row row(s);
      out.push_back(read(row));
      if (!row.ok()) {
        sqlite3_reset(s);
        return fail("store_corrupt", std::string(table) + ": bad " + row.bad());
      }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db_fail(db.get(), rc, std::string("load ") + table);
    return out;
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() { close(); }

void Store::close() {
  if (!impl_) return;
  // Statements first: sqlite3_close_v2 would otherwise defer closing until they are gone.
  impl_->vms = {};
  impl_->bindings = {};
  impl_->replay = {};
  impl_->visitors = {};
  impl_->revocations = {};
  impl_->begin.reset();
  impl_->commit.reset();
  impl_->rollback.reset();
  impl_->db.reset();
  impl_.reset();
}

int Store::schema_version() const { return impl_ ? impl_->version : 0; }
const std::string& Store::path() const {
  static const std::string kNone;
  return impl_ ? impl_->path : kNone;
}

Result<Store> Store::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXRESCODE, nullptr);
  impl->db.reset(raw);  // closed on every path, even when open failed
  if (rc != SQLITE_OK) {
    auto e = db_fail(raw, rc, "open " + path);
    e.error.code = "store_open_failed";
    return e;
  }
  sqlite3* db = raw;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 1000);

  // WAL: a commit appends to the log and fsyncs it once (synchronous=FULL), readers never
  // block the writer, and a torn tail is discarded on recovery (checksummed frames).
  auto mode = sqlite::query_text(db, "PRAGMA journal_mode = WAL");
  if (!mode) return fail(mode.error().code, path + ": " + mode.error().context);
  if (*mode != "wal")
    return fail("store_error", path + ": cannot use WAL journal mode (got '" + *mode + "')");
  VMROAM_TRY_VOID(sqlite::exec(db, "PRAGMA synchronous = FULL", "synchronous"));
  auto check = sqlite::query_text(db, "PRAGMA quick_check");
  if (!check) return fail(check.error().code, path + ": " + check.error().context);
  if (*check != "ok") return fail("store_corrupt", path + ": quick_check: " + *check);
  VMROAM_TRY(impl->version, schema::migrate(db, path));

  VMROAM_TRY(impl->vms, impl->prepare_table(schema::kVms));
  VMROAM_TRY(impl->bindings, impl->prepare_table(schema::kBindings));
  VMROAM_TRY(impl->replay, impl->prepare_table(schema::kReplay));
  VMROAM_TRY(impl->visitors, impl->prepare_table(schema::kVisitors));
  VMROAM_TRY(impl->revocations, impl->prepare_table(schema::kRevocations));
  // IMMEDIATE: take the write lock at BEGIN, so a busy database fails before any work.
  VMROAM_TRY(impl->begin, sqlite::prepare(db, "BEGIN IMMEDIATE"));
  VMROAM_TRY(impl->commit, sqlite::prepare(db, "COMMIT"));
  VMROAM_TRY(impl->rollback, sqlite::prepare(db, "ROLLBACK"));
  return Store(std::move(impl));
}

Result<void> Store::commit(const Batch& batch) {
  if (!impl_) return fail("store_closed");
  if (impl_->poisoned)
    return fail("store_poisoned", impl_->path + ": an earlier commit failed with an I/O error");
  if (batch.empty()) return ok();
  sqlite3* db = impl_->db.get();

  int rc = step_done(impl_->begin.get());
  if (rc != SQLITE_DONE) return db_fail(db, rc, "begin");

  auto abandon = [&](int err, const std::string& what) -> Unexpected {
    auto e = db_fail(db, err, what);
    if (!sqlite3_get_autocommit(db)) step_done(impl_->rollback.get());
    // After an I/O error the on-disk outcome of this transaction is unknown (the kernel may
    // have dropped dirty pages, cf. "fsyncgate"); stop writing and let a restart recover.
    if ((err & 0xff) == SQLITE_IOERR || (err & 0xff) == SQLITE_CORRUPT) impl_->poisoned = true;
    return e;
  };

  for (std::size_t i = 0; i < batch.ops().size(); ++i) {
    Impl::OpBinder ob{*impl_};
    std::visit(ob, batch.ops()[i]);
    sqlite3_stmt* s = ob.stmt;
    int bind_rc = ob.rc;
    const char* what = ob.what;
    std::string where = "mutation " + std::to_string(i) + " (" + what + ")";
    if (bind_rc != SQLITE_OK) {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      return abandon(bind_rc, where);
    }
    rc = step_done(s);
    if (rc != SQLITE_DONE) return abandon(rc, where);
  }
  rc = step_done(impl_->commit.get());
  if (rc != SQLITE_DONE) return abandon(rc, "commit");
  return ok();
}

Result<std::vector<VmRecord>> Store::load_vms() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<VmRecord>(impl_->vms.select.get(), schema::kVms.name, codec::read_vm);
}
Result<std::vector<BindingRecord>> Store::load_bindings() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<BindingRecord>(impl_->bindings.select.get(), schema::kBindings.name,
                                          codec::read_binding);
}
Result<std::vector<ReplayRecord>> Store::load_replay() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<ReplayRecord>(impl_->replay.select.get(), schema::kReplay.name,
                                         codec::read_replay);
}
Result<std::vector<VisitorRecord>> Store::load_visitors() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<VisitorRecord>(impl_->visitors.select.get(), schema::kVisitors.name,
                                          codec::read_visitor);
}

Result<std::vector<RevocationRecord>> Store::load_revocations() {
  if (!impl_) return fail("store_closed");
  return impl_->load_table<RevocationRecord>(impl_->revocations.select.get(), schema::kRevocations.name,
                                             codec::read_revocation);
}

Result<Snapshot> Store::load() {
  Snapshot s;
  VMROAM_TRY(s.vms, load_vms());
  VMROAM_TRY(s.bindings, load_bindings());
  VMROAM_TRY(s.replay, load_replay());
  VMROAM_TRY(s.visitors, load_visitors());
  VMROAM_TRY(s.revocations, load_revocations());
  return s;
}

}  // namespace vmroam::store
