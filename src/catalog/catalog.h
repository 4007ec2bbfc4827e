// The catalog: all of eddy's metadata in one SQLite database (WAL mode) at
// <data-dir>/catalog.db. Resources (topics, subscriptions, functions, routes, webhooks, ...)
// are stored as JSON specs keyed by (kind, name); each subsystem owns the shape of its own
// spec. Small per-resource state that changes often (cursors, ack sets) lives in `state`.
//
// Threading: thread-safe; calls are serialized on one connection. Durability: every write
// is a committed transaction (synchronous=FULL) when it returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

struct sqlite3;

namespace eddy::catalog {

struct Resource {
  std::string kind;
  std::string name;
  std::string spec;  // JSON text
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

class Catalog {
 public:
  // Opens or creates the database and applies pending schema migrations.
  static Result<std::unique_ptr<Catalog>> open(const std::filesystem::path& file);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // Inserts or replaces a resource's spec. Keeps created_ms of an existing one.
  Status put(std::string_view kind, std::string_view name, std::string_view spec, int64_t now_ms);
  Result<Resource> get(std::string_view kind, std::string_view name) const;
  // All resources of a kind, ordered by name.
  Result<std::vector<Resource>> list(std::string_view kind) const;
  // Deletes a resource and its state rows; not_found if it did not exist.
  Status remove(std::string_view kind, std::string_view name);

  // Opaque per-resource state blobs (keyed by kind, name and a sub-key).
  Status put_state(std::string_view kind, std::string_view name, std::string_view key,
                   std::string_view value);
  Result<std::optional<std::string>> get_state(std::string_view kind, std::string_view name,
                                               std::string_view key) const;

  // The schema version after migrations (for tests and `eddy version`).
  int schema_version() const;

 private:
  explicit Catalog(sqlite3* db);
  Status exec(const char* sql);

  sqlite3* db_;
  mutable std::mutex mu_;
};

}  // namespace eddy::catalog
