#include "sources/http/route_table.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace eddy::sources::http {
namespace {

namespace json = boost::json;

std::shared_ptr<const Route> route(const std::string& id, const std::string& method,
                                   const std::string& path) {
  auto r = Route::parse(id, json::object{{"method", method}, {"path", path}, {"function", "f"}});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return *r;
}

std::vector<std::string> segs(std::initializer_list<const char*> s) {
  return std::vector<std::string>(s.begin(), s.end());
}

TEST(PathTemplateTest, ParsesLiteralsParametersAndGreedy) {
  auto t = PathTemplate::parse("/orders/{id}/files/{proxy+}");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->segments().size(), 4u);
  EXPECT_EQ(t->segments()[1].kind, PathTemplate::Kind::param);
  EXPECT_EQ(t->segments()[1].text, "id");
  EXPECT_EQ(t->segments()[3].kind, PathTemplate::Kind::greedy);
  EXPECT_EQ(t->segments()[3].text, "proxy");
  EXPECT_EQ(t->text(), "/orders/{id}/files/{proxy+}");
  EXPECT_EQ(t->shape(), "/orders/{}/files/{+}");
}

TEST(PathTemplateTest, RootAndTrailingSlash) {
  EXPECT_EQ(PathTemplate::parse("/")->segments().size(), 0u);
  EXPECT_EQ(PathTemplate::parse("/")->text(), "/");
  EXPECT_EQ(PathTemplate::parse("/a/")->text(), "/a");
}

TEST(PathTemplateTest, RefusesMalformedTemplates) {
  for (const char* bad : {"", "orders", "/a//b", "/{proxy+}/x", "/{}", "/{a b}", "/{id}/{id}",
                          "/x{id}", "/a%20b", "/{id", "/{+}"}) {
    EXPECT_FALSE(PathTemplate::parse(bad).ok()) << bad;
  }
}

TEST(RouteTest, RefusesEddysOwnPrefixes) {
  for (const char* p : {"/v1/x", "/hooks/x", "/_eddy", "/healthz", "/2015-03-31/functions"}) {
    auto r = Route::parse("r", json::object{{"path", p}, {"function", "f"}});
    EXPECT_FALSE(r.ok()) << p;
  }
}

TEST(RouteTest, DefaultsAndRouteKey) {
  auto r = Route::parse("r", json::object{{"path", "/a/{b}"}, {"function", "f"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->method, "ANY");
  EXPECT_EQ((*r)->payload_version, PayloadVersion::v2);
  EXPECT_EQ((*r)->route_key, "ANY /a/{b}");
  auto g = Route::parse(
      "r", json::object{
               {"method", "get"}, {"path", "/a"}, {"function", "f"}, {"payload_version", "1.0"}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->method, "GET");
  EXPECT_EQ((*g)->payload_version, PayloadVersion::v1);
  EXPECT_FALSE(Route::parse("r", json::object{{"path", "/a"}}).ok());
  EXPECT_FALSE(Route::parse("r", json::object{{"path", "/a"}, {"function", "f"}, {"x", 1}}).ok());
  EXPECT_FALSE(Route::parse("bad id", json::object{{"path", "/a"}, {"function", "f"}}).ok());
  // What GET shows can be PUT back; an id that contradicts the path cannot.
  auto again = Route::parse("r", (*g)->to_json(true));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->route_key, "GET /a");
  EXPECT_FALSE(Route::parse("other", (*g)->to_json(true)).ok());
  EXPECT_FALSE(
      Route::parse("r", json::object{{"path", "/a"}, {"function", "f"}, {"payload_version", "3"}})
          .ok());
}

TEST(RouteTableTest, LiteralBeatsParameterBeatsGreedy) {
  auto table = RouteTable::build({route("greedy", "GET", "/files/{proxy+}"),
                                  route("param", "GET", "/files/{name}"),
                                  route("literal", "GET", "/files/readme")});
  ASSERT_TRUE(table.ok());
  auto m = (*table)->match("GET", segs({"files", "readme"}));
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.route->id, "literal");
  EXPECT_TRUE(m.params.empty());

  m = (*table)->match("GET", segs({"files", "other"}));
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.route->id, "param");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], std::make_pair(std::string("name"), std::string("other")));

  m = (*table)->match("GET", segs({"files", "a", "b", "c"}));
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.route->id, "greedy");
  EXPECT_EQ(m.params[0].second, "a/b/c");
}

TEST(RouteTableTest, SpecificityIsDecidedFromTheLeft) {
  auto table =
      RouteTable::build({route("a", "GET", "/{x}/literal"), route("b", "GET", "/users/{y}")});
  ASSERT_TRUE(table.ok());
  // "users" is a literal in b's first segment, so b wins although a has a literal later.
  EXPECT_EQ((*table)->match("GET", segs({"users", "literal"})).route->id, "b");
  EXPECT_EQ((*table)->match("GET", segs({"teams", "literal"})).route->id, "a");
}

TEST(RouteTableTest, BacktracksWhenTheLiteralBranchDeadEnds) {
  auto table =
      RouteTable::build({route("deep", "GET", "/a/b/c"), route("param", "GET", "/a/{x}/d")});
  ASSERT_TRUE(table.ok());
  auto m = (*table)->match("GET", segs({"a", "b", "d"}));
  ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
  EXPECT_EQ(m.route->id, "param");
  EXPECT_EQ(m.params[0].second, "b");
}

TEST(RouteTableTest, ExactMethodBeatsAnyAndOtherMethodsAre405) {
  auto table =
      RouteTable::build({route("get", "GET", "/orders/{id}"),
                         route("del", "DELETE", "/orders/{id}"), route("any", "ANY", "/things")});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->match("GET", segs({"orders", "1"})).route->id, "get");
  auto m = (*table)->match("POST", segs({"orders", "1"}));
  EXPECT_EQ(m.outcome, RouteMatch::Outcome::method_not_allowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET"}));
  EXPECT_EQ((*table)->match("PATCH", segs({"things"})).route->id, "any");
  EXPECT_EQ((*table)->match("GET", segs({"nothing"})).outcome, RouteMatch::Outcome::not_found);
  EXPECT_EQ((*table)->match("GET", segs({"orders"})).outcome, RouteMatch::Outcome::not_found);
}

TEST(RouteTableTest, MethodSpecificGreedyBeatsALessSpecificMethodMismatch) {
  // POST /a/b exists only for POST; a GET falls through to the greedy GET route.
  auto table =
      RouteTable::build({route("post", "POST", "/a/b"), route("proxy", "GET", "/a/{proxy+}")});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->match("GET", segs({"a", "b"})).route->id, "proxy");
  EXPECT_EQ((*table)->match("POST", segs({"a", "b"})).route->id, "post");
  EXPECT_EQ((*table)->match("PUT", segs({"a", "b"})).allowed,
            (std::vector<std::string>{"GET", "POST"}));
}

TEST(RouteTableTest, GreedyNeedsAtLeastOneSegmentAndParamsNoEmptyOne) {
  auto table =
      RouteTable::build({route("proxy", "ANY", "/{proxy+}"), route("p", "GET", "/x/{id}/y")});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)->match("GET", segs({})).outcome, RouteMatch::Outcome::not_found);
  EXPECT_EQ((*table)->match("GET", segs({"x", "", "y"})).route->id, "proxy");
  auto root = RouteTable::build({route("root", "GET", "/")});
  EXPECT_EQ((*root)->match("GET", segs({})).route->id, "root");
}

TEST(RouteTableTest, RoutesThatMatchTheSameRequestsConflict) {
  auto table =
      RouteTable::build({route("a", "GET", "/orders/{id}"), route("b", "GET", "/orders/{oid}")});
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().code, Errc::conflict);
  EXPECT_TRUE(
      RouteTable::build({route("a", "GET", "/orders/{id}"), route("b", "ANY", "/orders/{oid}")})
          .ok());
}

TEST(RouteTableTest, LiteralsAreCaseSensitive) {
  auto table = RouteTable::build({route("a", "GET", "/Orders")});
  EXPECT_EQ((*table)->match("GET", segs({"orders"})).outcome, RouteMatch::Outcome::not_found);
  EXPECT_EQ((*table)->match("GET", segs({"Orders"})).route->id, "a");
}

}  // namespace
}  // namespace eddy::sources::http
