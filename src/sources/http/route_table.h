// The route table: an immutable trie of routes, built once per change and shared by every
// request (readers hold a shared_ptr, so a change never blocks or disturbs a lookup).
//
// Matching picks the most specific route, segment by segment from the left: a literal
// segment beats a parameter, which beats a greedy parameter; among routes with the same
// template the exact method beats ANY. A path that some route matches, but not with this
// method, is "method not allowed" (405, with the methods that would be); otherwise "not
// found" (404).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "sources/http/route.h"

namespace eddy::sources::http {

struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed };
  Outcome outcome = Outcome::not_found;
  std::shared_ptr<const Route> route;                       // found
  std::vector<std::pair<std::string, std::string>> params;  // found: name -> decoded value
  std::vector<std::string> allowed;                         // method_not_allowed, sorted
};

class RouteTable {
 public:
  // Fails with conflict when two routes have the same method and template shape
  // (e.g. "GET /a/{x}" and "GET /a/{y}").
  static Result<std::shared_ptr<const RouteTable>> build(
      std::vector<std::shared_ptr<const Route>> routes);
  RouteTable();
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // `segments` are the request path's percent-decoded segments ("/a/b" -> {"a","b"}; "/"
  // -> {}). `method` is as received (methods are case-sensitive).
  RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;

  const std::vector<std::shared_ptr<const Route>>& routes() const { return routes_; }

 private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::vector<std::shared_ptr<const Route>> routes_;
};

}  // namespace eddy::sources::http
