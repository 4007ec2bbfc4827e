// RouteManager: the user HTTP routes (`/v1/routes`), stored in the catalog (kind "route")
// and served from an immutable RouteTable that is rebuilt on every change. Lookups take a
// snapshot (a shared_ptr copy under a mutex) and never wait for a change to finish.
//
// Threading: thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <mutex>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/error.h"
#include "sources/http/route_table.h"

namespace eddy::catalog {
class Catalog;
}

namespace eddy::sources::http {

class RouteManager {
 public:
  RouteManager(catalog::Catalog& catalog, const Clock& clock);

  // Loads every route the catalog holds.
  Status open_all();

  // Creates or replaces a route from a request body. A route that would match exactly the
  // requests of another (same method and template shape) is a conflict. Returns the
  // route's description (secrets redacted) and whether it was created.
  Result<std::pair<boost::json::object, bool>> put(std::string_view id,
                                                   const boost::json::object& body);
  Result<boost::json::object> describe(std::string_view id) const;
  boost::json::array list() const;
  Status remove(std::string_view id);

  // The current table.
  std::shared_ptr<const RouteTable> table() const;

 private:
  catalog::Catalog& catalog_;
  const Clock& clock_;
  mutable std::mutex mu_;  // guards table_; admin_mu_ serializes changes
  std::mutex admin_mu_;
  std::shared_ptr<const RouteTable> table_;
};

}  // namespace eddy::sources::http
