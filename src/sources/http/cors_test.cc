#include "sources/http/cors.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace eddy::sources::http {
namespace {

namespace json = boost::json;

std::string get(const HeaderList& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(CorsTest, TrueAllowsAnyOriginMethodAndHeader) {
  auto p = CorsPolicy::parse(json::value(true));
  ASSERT_TRUE(p.ok());
  auto h = p->preflight("https://app.example", "PUT", "Content-Type, X-Custom");
  EXPECT_EQ(get(h, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(get(h, "Access-Control-Allow-Methods"), "PUT");
  EXPECT_EQ(get(h, "Access-Control-Allow-Headers"), "content-type, x-custom");
  EXPECT_EQ(get(h, "Vary"), "<absent>");
}

TEST(CorsTest, ListedOriginsAreEchoedWithVaryAndCredentials) {
  auto p = CorsPolicy::parse(json::parse(R"({"allow_origins":["https://a.example"],
      "allow_methods":["get","post"],"allow_headers":["Authorization"],
      "expose_headers":["X-Request-Id"],"max_age":600,"allow_credentials":true})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto h = p->preflight("https://a.example", "POST", "authorization");
  EXPECT_EQ(get(h, "Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(get(h, "Vary"), "Origin");
  EXPECT_EQ(get(h, "Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(get(h, "Access-Control-Allow-Methods"), "GET, POST");
  EXPECT_EQ(get(h, "Access-Control-Allow-Headers"), "authorization");
  EXPECT_EQ(get(h, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(get(h, "Access-Control-Expose-Headers"), "<absent>");

  EXPECT_TRUE(p->preflight("https://b.example", "POST", "").empty());         // origin
  EXPECT_TRUE(p->preflight("https://a.example", "DELETE", "").empty());       // method
  EXPECT_TRUE(p->preflight("https://a.example", "POST", "x-other").empty());  // header

  auto r = p->response_headers("https://a.example");
  EXPECT_EQ(get(r, "Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(get(r, "Access-Control-Expose-Headers"), "X-Request-Id");
  EXPECT_TRUE(p->response_headers("https://b.example").empty());
  EXPECT_TRUE(p->response_headers("").empty());
}

TEST(CorsTest, WildcardWithCredentialsEchoesTheOrigin) {
  auto p = CorsPolicy::parse(json::parse(R"({"allow_origins":["*"],"allow_credentials":true})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(get(p->response_headers("https://x.example"), "Access-Control-Allow-Origin"),
            "https://x.example");
}

TEST(CorsTest, RefusesBadPolicies) {
  for (const char* bad :
       {"false", "3", R"({})", R"({"allow_origins":[]})", R"({"allow_origins":["example.com"]})",
        R"({"allow_origins":["*"],"max_age":-1})", R"({"allow_origins":["*"],"bogus":1})"}) {
    EXPECT_FALSE(CorsPolicy::parse(json::parse(bad)).ok()) << bad;
  }
}

TEST(CorsTest, PreflightNeedsOriginAndRequestMethod) {
  EXPECT_TRUE(is_preflight("OPTIONS", "https://a", "GET"));
  EXPECT_FALSE(is_preflight("OPTIONS", "", "GET"));
  EXPECT_FALSE(is_preflight("OPTIONS", "https://a", ""));
  EXPECT_FALSE(is_preflight("GET", "https://a", "GET"));
}

}  // namespace
}  // namespace eddy::sources::http
