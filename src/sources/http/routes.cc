#include "sources/http/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

#include <algorithm>

#include "catalog/catalog.h"
#include "common/json_util.h"

namespace eddy::sources::http {
namespace json = boost::json;

namespace {
constexpr std::string_view kKind = "route";
}

RouteManager::RouteManager(catalog::Catalog& catalog, const Clock& clock)
    : catalog_(catalog), clock_(clock), table_(std::make_shared<RouteTable>()) {}

Status RouteManager::open_all() {
  std::lock_guard admin(admin_mu_);
  auto rows = catalog_.list(kKind);
  if (!rows) return std::move(rows).error();
  std::vector<std::shared_ptr<const Route>> routes;
  for (const auto& row : *rows) {
    auto spec = parse_json_object(row.spec);
    auto route =
        spec ? Route::parse(row.name, *spec) : Result<std::shared_ptr<const Route>>(spec.error());
    if (!route) {
      // A spec this version cannot read is skipped, not fatal: the rest still serve.
      spdlog::error("route '{}' in the catalog is invalid and is not served: {}", row.name,
                    route.error().message);
      continue;
    }
    routes.push_back(std::move(*route));
  }
  auto table = RouteTable::build(std::move(routes));
  if (!table) return std::move(table).error();
  std::lock_guard lock(mu_);
  table_ = std::move(*table);
  return {};
}

Result<std::pair<json::object, bool>> RouteManager::put(std::string_view id,
                                                        const json::object& body) {
  auto route = Route::parse(id, body);
  if (!route) return std::move(route).error();
  std::lock_guard admin(admin_mu_);
  auto current = table();
  std::vector<std::shared_ptr<const Route>> routes;
  bool created = true;
  for (const auto& r : current->routes()) {
    if (r->id == id) {
      created = false;
    } else {
      routes.push_back(r);
    }
  }
  routes.push_back(*route);
  auto table = RouteTable::build(std::move(routes));
  if (!table) return std::move(table).error();
  json::object spec = (*route)->to_json(false);
  spec.erase("id");
  if (auto s = catalog_.put(kKind, id, json_text(spec), clock_.now_ms()); !s) {
    return std::move(s).error();
  }
  {
    std::lock_guard lock(mu_);
    table_ = std::move(*table);
  }
  return std::pair{(*route)->to_json(true), created};
}

Result<json::object> RouteManager::describe(std::string_view id) const {
  for (const auto& r : table()->routes()) {
    if (r->id == id) return r->to_json(true);
  }
  return make_error(Errc::not_found, fmt::format("route '{}' does not exist", id));
}

json::array RouteManager::list() const {
  json::array out;
  for (const auto& r : table()->routes()) out.push_back(r->to_json(true));
  return out;
}

Status RouteManager::remove(std::string_view id) {
  std::lock_guard admin(admin_mu_);
  auto current = table();
  std::vector<std::shared_ptr<const Route>> routes;
  bool found = false;
  for (const auto& r : current->routes()) {
    if (r->id == id) {
      found = true;
    } else {
      routes.push_back(r);
    }
  }
  if (!found) return make_error(Errc::not_found, fmt::format("route '{}' does not exist", id));
  if (auto s = catalog_.remove(kKind, id); !s) return s;
  auto table = RouteTable::build(std::move(routes));
  if (!table) return std::move(table).error();  // cannot happen: a subset of a valid table
  std::lock_guard lock(mu_);
  table_ = std::move(*table);
  return {};
}

std::shared_ptr<const RouteTable> RouteManager::table() const {
  std::lock_guard lock(mu_);
  return table_;
}

}  // namespace eddy::sources::http
