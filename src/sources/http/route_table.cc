#include "sources/http/route_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace eddy::sources::http {

struct RouteTable::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::unique_ptr<Node> greedy;  // a leaf: the greedy parameter ends the template
  std::map<std::string, std::shared_ptr<const Route>, std::less<>> methods;  // routes ending here
};

RouteTable::RouteTable() : root_(std::make_unique<Node>()) {}
RouteTable::~RouteTable() = default;

Result<std::shared_ptr<const RouteTable>> RouteTable::build(
    std::vector<std::shared_ptr<const Route>> routes) {
  auto table = std::make_shared<RouteTable>();
  std::sort(routes.begin(), routes.end(),
            [](const auto& a, const auto& b) { return a->id < b->id; });
  for (const auto& r : routes) {
    Node* node = table->root_.get();
    for (const auto& seg : r->path.segments()) {
      std::unique_ptr<Node>* next = nullptr;
      switch (seg.kind) {
        case PathTemplate::Kind::literal: {
          auto it = node->literals.find(seg.text);
          if (it == node->literals.end()) it = node->literals.emplace(seg.text, nullptr).first;
          next = &it->second;
          break;
        }
        case PathTemplate::Kind::param:
          next = &node->param;
          break;
        case PathTemplate::Kind::greedy:
          next = &node->greedy;
          break;
      }
      if (!*next) *next = std::make_unique<Node>();
      node = next->get();
    }
    auto [it, inserted] = node->methods.emplace(r->method, r);
    if (!inserted) {
      return make_error(Errc::conflict,
                        fmt::format("route '{}' ({} {}) matches the same requests as route '{}' "
                                    "({} {}); change its method or path, or delete the other",
                                    r->id, r->method, r->path.text(), it->second->id,
                                    it->second->method, it->second->path.text()));
    }
  }
  table->routes_ = std::move(routes);
  return std::shared_ptr<const RouteTable>(std::move(table));
}

namespace {

struct Search {
  std::string_view method;
  const std::vector<std::string>& segments;
  std::shared_ptr<const Route> found;
  std::set<std::string> allowed;  // methods of path matches, in case nothing takes `method`
};

template <class NodeT>
const std::shared_ptr<const Route>* pick(const NodeT& node, Search& s) {
  if (node.methods.empty()) return nullptr;
  if (auto it = node.methods.find(s.method); it != node.methods.end()) return &it->second;
  if (auto it = node.methods.find(std::string_view("ANY")); it != node.methods.end()) {
    return &it->second;
  }
  for (const auto& [m, r] : node.methods) s.allowed.insert(m);
  return nullptr;
}

// Depth-first in order of specificity; the first route that takes the method wins.
template <class NodeT>
bool walk(const NodeT& node, size_t i, Search& s) {
  if (i == s.segments.size()) {
    if (auto r = pick(node, s)) {
      s.found = *r;
      return true;
    }
    return false;
  }
  const std::string& seg = s.segments[i];
  if (auto it = node.literals.find(seg); it != node.literals.end()) {
    if (walk(*it->second, i + 1, s)) return true;
  }
  if (node.param && !seg.empty()) {
    if (walk(*node.param, i + 1, s)) return true;
  }
  if (node.greedy) {
    if (auto r = pick(*node.greedy, s)) {
      s.found = *r;
      return true;
    }
  }
  return false;
}

}  // namespace

RouteMatch RouteTable::match(std::string_view method,
                             const std::vector<std::string>& segments) const {
  Search s{method, segments, nullptr, {}};
  RouteMatch m;
  if (!walk(*root_, 0, s)) {
    if (!s.allowed.empty()) {
      m.outcome = RouteMatch::Outcome::method_not_allowed;
      m.allowed.assign(s.allowed.begin(), s.allowed.end());
    }
    return m;
  }
  m.outcome = RouteMatch::Outcome::found;
  m.route = std::move(s.found);
  const auto& tmpl = m.route->path.segments();
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i].kind == PathTemplate::Kind::param) {
      m.params.emplace_back(tmpl[i].text, segments[i]);
    } else if (tmpl[i].kind == PathTemplate::Kind::greedy) {
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) rest += '/';
        rest += segments[j];
      }
      m.params.emplace_back(tmpl[i].text, std::move(rest));
    }
  }
  return m;
}

}  // namespace eddy::sources::http
