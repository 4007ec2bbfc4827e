#include "catalog/catalog.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace eddy::catalog {
namespace {

// Each entry moves the schema from version i to i+1. Append only; never edit a shipped one.
constexpr const char* kMigrations[] = {
    R"sql(
    CREATE TABLE resources (
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      spec TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      updated_ms INTEGER NOT NULL,
      PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;
    CREATE TABLE state (
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      key TEXT NOT NULL,
      value BLOB NOT NULL,
      PRIMARY KEY (kind, name, key)
    ) WITHOUT ROWID;
    )sql",
};

Error sql_error(sqlite3* db, std::string_view what) {
  return make_error(Errc::io_error, fmt::format("catalog: {}: {}", what, sqlite3_errmsg(db)));
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, sqlite3_column_bytes(s_, col)) : std::string();
  }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Catalog>> Catalog::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Error e = sql_error(db, fmt::format("cannot open {}", file.string()));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<Catalog> c(new Catalog(db));
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"}) {
    if (auto s = c->exec(pragma); !s) return std::move(s).error();
  }
  int version = c->schema_version();
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (version > kLatest) {
    return make_error(Errc::conflict,
                      fmt::format("catalog {} has schema version {}, newer than this eddy "
                                  "understands ({}); upgrade eddy",
                                  file.string(), version, kLatest));
  }
  for (int v = version; v < kLatest; ++v) {
    std::string tx = fmt::format("BEGIN; {} PRAGMA user_version={}; COMMIT;", kMigrations[v], v + 1);
    if (auto s = c->exec(tx.c_str()); !s) {
      (void)c->exec("ROLLBACK");
      return std::move(s).error();
    }
  }
  return c;
}

Catalog::Catalog(sqlite3* db) : db_(db) {}
Catalog::~Catalog() { sqlite3_close(db_); }

Status Catalog::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(Errc::io_error, fmt::format("catalog: {}", msg));
  }
  return {};
}

int Catalog::schema_version() const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "PRAGMA user_version");
  return s.ok() && s.step() == SQLITE_ROW ? static_cast<int>(s.int64(0)) : 0;
}

Status Catalog::put(std::string_view kind, std::string_view name, std::string_view spec,
                    int64_t now_ms) {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "INSERT INTO resources(kind, name, spec, created_ms, updated_ms) VALUES(?1,?2,?3,?4,?4) "
         "ON CONFLICT(kind, name) DO UPDATE SET spec=excluded.spec, updated_ms=excluded.updated_ms");
  if (!s.ok()) return sql_error(db_, "prepare put");
  s.bind(1, kind).bind(2, name).bind(3, spec).bind(4, now_ms);
  if (s.step() != SQLITE_DONE) return sql_error(db_, fmt::format("put {} {}", kind, name));
  return {};
}

Result<Resource> Catalog::get(std::string_view kind, std::string_view name) const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT spec, created_ms, updated_ms FROM resources WHERE kind=?1 AND name=?2");
  if (!s.ok()) return sql_error(db_, "prepare get");
  s.bind(1, kind).bind(2, name);
  int rc = s.step();
  if (rc == SQLITE_DONE) {
    return make_error(Errc::not_found, fmt::format("{} '{}' does not exist", kind, name));
  }
  if (rc != SQLITE_ROW) return sql_error(db_, "get");
  return Resource{std::string(kind), std::string(name), s.text(0), s.int64(1), s.int64(2)};
}

Result<std::vector<Resource>> Catalog::list(std::string_view kind) const {
  std::lock_guard lock(mu_);
  Stmt s(db_,
         "SELECT name, spec, created_ms, updated_ms FROM resources WHERE kind=?1 ORDER BY name");
  if (!s.ok()) return sql_error(db_, "prepare list");
  s.bind(1, kind);
  std::vector<Resource> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(Resource{std::string(kind), s.text(0), s.text(1), s.int64(2), s.int64(3)});
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "list");
  return out;
}

Status Catalog::remove(std::string_view kind, std::string_view name) {
  std::lock_guard lock(mu_);
  if (auto st = exec("BEGIN"); !st) return st;
  Stmt del(db_, "DELETE FROM resources WHERE kind=?1 AND name=?2");
  Stmt del_state(db_, "DELETE FROM state WHERE kind=?1 AND name=?2");
  if (!del.ok() || !del_state.ok()) {
    (void)exec("ROLLBACK");
    return sql_error(db_, "prepare remove");
  }
  del.bind(1, kind).bind(2, name);
  del_state.bind(1, kind).bind(2, name);
  if (del.step() != SQLITE_DONE) {
    Error e = sql_error(db_, "remove");
    (void)exec("ROLLBACK");
    return e;
  }
  if (sqlite3_changes(db_) == 0) {
    (void)exec("ROLLBACK");
    return make_error(Errc::not_found, fmt::format("{} '{}' does not exist", kind, name));
  }
  if (del_state.step() != SQLITE_DONE) {
    Error e = sql_error(db_, "remove state");
    (void)exec("ROLLBACK");
    return e;
  }
  return exec("COMMIT");
}

Status Catalog::put_state(std::string_view kind, std::string_view name, std::string_view key,
                          std::string_view value) {
  std::lock_guard lock(mu_);
  Stmt s(db_, "INSERT OR REPLACE INTO state(kind, name, key, value) VALUES(?1,?2,?3,?4)");
  if (!s.ok()) return sql_error(db_, "prepare put_state");
  s.bind(1, kind).bind(2, name).bind(3, key).bind(4, value);
  if (s.step() != SQLITE_DONE) return sql_error(db_, "put_state");
  return {};
}

Result<std::optional<std::string>> Catalog::get_state(std::string_view kind, std::string_view name,
                                                      std::string_view key) const {
  std::lock_guard lock(mu_);
  Stmt s(db_, "SELECT value FROM state WHERE kind=?1 AND name=?2 AND key=?3");
  if (!s.ok()) return sql_error(db_, "prepare get_state");
  s.bind(1, kind).bind(2, name).bind(3, key);
  int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return sql_error(db_, "get_state");
  return std::optional<std::string>(s.text(0));
}

}  // namespace eddy::catalog
