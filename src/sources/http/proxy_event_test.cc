#include "sources/http/proxy_event.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace eddy::sources::http {
namespace {

namespace json = boost::json;

struct Fixture {
  std::vector<std::pair<std::string, std::string>> path_params{{"id", "a b"}};
  ProxyRequest req;
  ProxyRoute route;
  Fixture() {
    req.method = "POST";
    req.target = "/orders/a%20b?x=1&y=two&x=3&flag&enc=%2Fslash+plus";
    req.headers = {{"Host", "api.example.com:8400"},
                   {"X-Multi", "one"},
                   {"Content-Type", "application/json"},
                   {"x-multi", "two"},
                   {"Cookie", "a=1; b=2"},
                   {"Cookie", "c=3"},
                   {"User-Agent", "curl/8"}};
    req.body = R"({"hello":"world"})";
    req.source_ip = "10.0.0.7";
    req.time_ms = 1583348638390;
    req.request_id = "req-1";
    route.resource = "/orders/{id}";
    route.route_key = "POST /orders/{id}";
    route.path_params = &path_params;
  }
};

json::object event(PayloadVersion v, const Fixture& f) {
  auto text = build_proxy_event(v, f.req, f.route);
  json::error_code ec;
  auto parsed = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return parsed.as_object();
}

TEST(ProxyEventV1Test, HeadersKeepTheLastValueAndMultiValueHeadersAll) {
  Fixture f;
  auto e = event(PayloadVersion::v1, f);
  EXPECT_EQ(e["version"], "1.0");
  EXPECT_EQ(e["resource"], "/orders/{id}");
  EXPECT_EQ(e["path"], "/orders/a%20b");
  EXPECT_EQ(e["httpMethod"], "POST");
  auto& h = e["headers"].as_object();
  EXPECT_EQ(h["X-Multi"], "two");  // first spelling, last value
  EXPECT_FALSE(h.contains("x-multi"));
  EXPECT_EQ(h["Cookie"], "c=3");
  auto& mh = e["multiValueHeaders"].as_object();
  EXPECT_EQ(mh["X-Multi"], (json::array{"one", "two"}));
  EXPECT_EQ(mh["Cookie"], (json::array{"a=1; b=2", "c=3"}));
}

TEST(ProxyEventV1Test, QueryPathParametersContextAndBody) {
  Fixture f;
  auto e = event(PayloadVersion::v1, f);
  auto& q = e["queryStringParameters"].as_object();
  EXPECT_EQ(q["x"], "3");
  EXPECT_EQ(q["y"], "two");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["enc"], "/slash+plus");
  EXPECT_EQ(e["multiValueQueryStringParameters"].as_object()["x"], (json::array{"1", "3"}));
  EXPECT_EQ(e["pathParameters"], (json::object{{"id", "a b"}}));
  EXPECT_TRUE(e["stageVariables"].is_null());
  EXPECT_EQ(e["body"], R"({"hello":"world"})");
  EXPECT_EQ(e["isBase64Encoded"], false);
  auto& rc = e["requestContext"].as_object();
  EXPECT_EQ(rc["httpMethod"], "POST");
  EXPECT_EQ(rc["resourcePath"], "/orders/{id}");
  EXPECT_EQ(rc["requestId"], "req-1");
  EXPECT_EQ(rc["domainName"], "api.example.com");
  EXPECT_EQ(rc["domainPrefix"], "api");
  EXPECT_EQ(rc["stage"], "$default");
  EXPECT_EQ(rc["requestTimeEpoch"], 1583348638390);
  EXPECT_EQ(rc["requestTime"], "04/Mar/2020:19:03:58 +0000");
  EXPECT_EQ(rc["identity"].as_object()["sourceIp"], "10.0.0.7");
  EXPECT_EQ(rc["identity"].as_object()["userAgent"], "curl/8");
}

TEST(ProxyEventV1Test, AbsentPartsAreNull) {
  Fixture f;
  f.req.target = "/plain";
  f.req.body = "";
  f.route.path_params = nullptr;
  auto e = event(PayloadVersion::v1, f);
  EXPECT_TRUE(e["queryStringParameters"].is_null());
  EXPECT_TRUE(e["multiValueQueryStringParameters"].is_null());
  EXPECT_TRUE(e["pathParameters"].is_null());
  EXPECT_TRUE(e["body"].is_null());
}

TEST(ProxyEventV2Test, HeadersLowerCasedAndCommaJoinedCookiesSeparate) {
  Fixture f;
  auto e = event(PayloadVersion::v2, f);
  EXPECT_EQ(e["version"], "2.0");
  EXPECT_EQ(e["routeKey"], "POST /orders/{id}");
  EXPECT_EQ(e["rawPath"], "/orders/a%20b");
  EXPECT_EQ(e["rawQueryString"], "x=1&y=two&x=3&flag&enc=%2Fslash+plus");
  auto& h = e["headers"].as_object();
  EXPECT_EQ(h["x-multi"], "one,two");
  EXPECT_EQ(h["host"], "api.example.com:8400");
  EXPECT_FALSE(h.contains("cookie"));
  EXPECT_EQ(e["cookies"], (json::array{"a=1", "b=2", "c=3"}));
  auto& q = e["queryStringParameters"].as_object();
  EXPECT_EQ(q["x"], "1,3");
  EXPECT_EQ(e["pathParameters"], (json::object{{"id", "a b"}}));
  auto& http = e["requestContext"].as_object()["http"].as_object();
  EXPECT_EQ(http["method"], "POST");
  EXPECT_EQ(http["path"], "/orders/a%20b");
  EXPECT_EQ(http["sourceIp"], "10.0.0.7");
  EXPECT_EQ(http["protocol"], "HTTP/1.1");
  EXPECT_EQ(e["requestContext"].as_object()["timeEpoch"], 1583348638390);
  EXPECT_EQ(e["requestContext"].as_object()["routeKey"], "POST /orders/{id}");
  EXPECT_EQ(e["body"], R"({"hello":"world"})");
}

TEST(ProxyEventV2Test, AbsentPartsAreLeftOut) {
  Fixture f;
  f.req.target = "/plain";
  f.req.body = "";
  f.req.headers = {{"Host", "h"}};
  f.route.path_params = nullptr;
  auto e = event(PayloadVersion::v2, f);
  EXPECT_EQ(e["rawQueryString"], "");
  for (const char* k : {"queryStringParameters", "pathParameters", "cookies", "body"}) {
    EXPECT_FALSE(e.contains(k)) << k;
  }
  EXPECT_EQ(e["isBase64Encoded"], false);
}

TEST(ProxyEventTest, BinaryBodiesAreBase64) {
  Fixture f;
  std::string bytes("\x00\xff\x10png", 6);
  f.req.body = bytes;
  f.req.headers = {{"Content-Type", "image/png"}};
  for (auto v : {PayloadVersion::v1, PayloadVersion::v2}) {
    auto e = event(v, f);
    EXPECT_EQ(e["isBase64Encoded"], true);
    EXPECT_EQ(e["body"], "AP8QcG5n");
  }
  // Text content types that are not UTF-8 are binary too.
  f.req.headers = {{"Content-Type", "text/plain"}};
  f.req.body = std::string_view("caf\xe9", 4);
  EXPECT_EQ(event(PayloadVersion::v2, f)["isBase64Encoded"], true);
}

TEST(ProxyEventTest, NonUtf8HeaderBytesStillGiveValidJson) {
  Fixture f;
  f.req.headers = {{"X-Latin", std::string_view("caf\xe9", 4)}};
  auto e = event(PayloadVersion::v2, f);
  EXPECT_EQ(e["headers"].as_object()["x-latin"], "caf\xc3\xa9");
}

TEST(ProxyEventTest, JwtClaimsReachTheAuthorizer) {
  Fixture f;
  Principal p;
  p.kind = Principal::Kind::jwt;
  p.claims = json::object{{"sub", "u1"}, {"exp", 1700000000}, {"aud", json::array{"a", "b"}}};
  p.scopes = {"read", "write"};
  f.route.principal = &p;
  auto v2 = event(PayloadVersion::v2, f);
  auto& jwt = v2["requestContext"].as_object()["authorizer"].as_object()["jwt"].as_object();
  EXPECT_EQ(jwt["claims"].as_object()["sub"], "u1");
  EXPECT_EQ(jwt["claims"].as_object()["exp"], "1700000000");
  EXPECT_EQ(jwt["claims"].as_object()["aud"], "[a b]");
  EXPECT_EQ(jwt["scopes"], (json::array{"read", "write"}));
  auto v1 = event(PayloadVersion::v1, f);
  EXPECT_EQ(v1["requestContext"].as_object()["authorizer"].as_object()["claims"].as_object()["sub"],
            "u1");
}

TEST(TextualContentTypeTest, Classification) {
  for (const char* t : {"", "text/html", "application/json; charset=utf-8", "application/ld+json",
                        "application/xml", "application/x-www-form-urlencoded", "TEXT/PLAIN"}) {
    EXPECT_TRUE(is_textual_content_type(t)) << t;
  }
  for (const char* t : {"image/png", "application/octet-stream", "application/pdf"}) {
    EXPECT_FALSE(is_textual_content_type(t)) << t;
  }
}

// ---- replies ----

std::string header(const ProxyReply& r, std::string_view name) {
  std::string out;
  for (const auto& [k, v] : r.headers) {
    if (k == name) out += (out.empty() ? "" : "|") + v;
  }
  return out;
}

TEST(ProxyReplyTest, V1MergesHeadersAndMultiValueHeaders) {
  auto r = map_proxy_reply(PayloadVersion::v1, R"({"statusCode":201,
      "headers":{"X-One":"1","X-Both":"h","X-Num":5,"Content-Length":"999"},
      "multiValueHeaders":{"x-both":["m1","m2"],"Set-Cookie":["a=1","b=2"]},
      "body":"created"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(header(*r, "X-One"), "1");
  EXPECT_EQ(header(*r, "X-Num"), "5");
  EXPECT_EQ(header(*r, "X-Both"), "");  // multiValueHeaders win
  EXPECT_EQ(header(*r, "x-both"), "m1|m2");
  EXPECT_EQ(header(*r, "Set-Cookie"), "a=1|b=2");
  EXPECT_EQ(header(*r, "Content-Length"), "");  // hop-by-hop/framing headers are eddy's
  EXPECT_EQ(r->body, "created");
}

TEST(ProxyReplyTest, V1NeedsTheProxyShape) {
  for (const char* bad : {R"({"body":"x"})", R"("hello")", "not json", R"({"statusCode":"abc"})",
                          R"({"statusCode":700})", R"({"statusCode":200,"body":{"a":1}})",
                          R"({"statusCode":200,"headers":{"X":["a"]}})",
                          R"({"statusCode":200,"headers":{"X":"a\r\nInjected: 1"}})",
                          R"({"statusCode":200,"headers":{"Bad Name":"a"}})",
                          R"({"statusCode":200,"isBase64Encoded":true,"body":"***"})"}) {
    auto r = map_proxy_reply(PayloadVersion::v1, bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ProxyReplyTest, Base64BodiesAreDecoded) {
  auto r = map_proxy_reply(PayloadVersion::v2,
                           R"({"statusCode":200,"isBase64Encoded":true,"body":"AP8QcG5n",
                               "headers":{"content-type":"image/png"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, std::string("\x00\xff\x10png", 6));
}

TEST(ProxyReplyTest, V2CookiesBecomeSetCookieHeaders) {
  auto r = map_proxy_reply(PayloadVersion::v2,
                           R"({"statusCode":"302","cookies":["s=1; HttpOnly","t=2"],
                               "headers":{"location":"/next"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(header(*r, "Set-Cookie"), "s=1; HttpOnly|t=2");
  EXPECT_EQ(header(*r, "location"), "/next");
  EXPECT_EQ(r->body, "");
}

TEST(ProxyReplyTest, V2AnythingElseIsA200JsonBody) {
  for (const char* payload :
       {R"({"hello":"world"})", R"("just a string")", "42", "[1,2]", "null"}) {
    auto r = map_proxy_reply(PayloadVersion::v2, payload);
    ASSERT_TRUE(r.ok()) << payload;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(header(*r, "Content-Type"), "application/json");
    EXPECT_EQ(r->body, payload);
  }
}

TEST(PercentDecodeTest, DecodesEscapesAndKeepsMalformedOnes) {
  EXPECT_EQ(percent_decode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

}  // namespace
}  // namespace eddy::sources::http
