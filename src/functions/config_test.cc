#include "functions/config.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace eddy::functions {
namespace {

namespace json = boost::json;

Result<FunctionConfig> parse(std::string_view body, const FunctionConfig* prev = nullptr) {
  return parse_function_config("f", json::parse(body).as_object(), FunctionDefaults{}, prev);
}

TEST(FunctionConfigTest, DefaultsMatchTheContract) {
  auto c = parse(R"({"runtime":"nodejs","handler":"index.handler","code":{"path":"/srv/f"}})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->memory_mb, 128);
  EXPECT_EQ(c->timeout_ms, 3000);
  EXPECT_EQ(c->max_concurrency, 8);
  EXPECT_EQ(c->min_instances, 0);
  EXPECT_EQ(c->idle_timeout_ms, 60000);
  EXPECT_EQ(c->retry.max_attempts, 3);
  EXPECT_EQ(c->retry.initial_backoff_ms, 1000);
  EXPECT_EQ(c->retry.max_backoff_ms, 60000);
  EXPECT_EQ(c->retry.max_age_ms, 21600000);
}

TEST(FunctionConfigTest, RejectsBadFieldsWithTheirNames) {
  struct Case {
    const char* body;
    const char* mentions;
  } cases[] = {
      {R"({"handler":"a.b","code":{"path":"/x"}})", "runtime"},
      {R"({"runtime":"ruby","handler":"a.b","code":{"path":"/x"}})", "ruby"},
      {R"({"runtime":"nodejs","handler":"nodot","code":{"path":"/x"}})", "handler"},
      {R"({"runtime":"nodejs","handler":"a.b"})", "code"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"rel"}})", "absolute"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"memory_mb":0})", "memory_mb"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"timeout_ms":"3"})", "timeout_ms"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"min_instances":9})", "min_instances"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"env":{"1X":"y"}})", "1X"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"env":{"_HANDLER":"y"}})", "_HANDLER"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"env":{"A":1}})", "A"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"on_failure":{"queue":"q"}})", "on_failure"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"retry":{"max_attempts":0}})", "max_attempts"},
      {R"({"runtime":"nodejs","handler":"a.b","code":{"path":"/x"},"bogus":1})", "bogus"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.body);
    ASSERT_FALSE(r) << c.body;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find(c.mentions), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
}

TEST(FunctionConfigTest, ProvidedNeedsNoHandlerAndLambdaRuntimeNamesAreAccepted) {
  EXPECT_TRUE(parse(R"({"runtime":"provided.al2023","code":{"path":"/x"}})"));
  auto c = parse(R"({"runtime":"nodejs20.x","handler":"a.b","code":{"path":"/x"}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->runtime, Runtime::nodejs);
}

TEST(FunctionConfigTest, StoredFormRoundTrips) {
  auto c = parse(R"({"runtime":"python","handler":"app.main","code":{"path":"/srv/f"},
                    "memory_mb":256,"env":{"A":"1"},"retry":{"max_attempts":2},
                    "on_success":{"topic":"ok"},"on_failure":{"function":"dlq"}})");
  ASSERT_TRUE(c) << c.error().message;
  c->version = 4;
  auto text = json::serialize(to_json(*c));
  auto back = from_stored_json("f", text, FunctionDefaults{});
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(json::serialize(to_json(*back)), text);
  EXPECT_EQ(back->version, 4);
  EXPECT_EQ(back->on_failure->kind, Destination::Kind::function);
}

TEST(FunctionConfigTest, CodeIsKeptFromThePreviousVersionWhenLeftOut) {
  FunctionConfig prev;
  prev.code_upload = 3;
  auto c = parse(R"({"runtime":"nodejs","handler":"a.b"})", &prev);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->code_upload, 3);
}

TEST(FunctionConfigTest, BackoffDoublesUpToTheCap) {
  RetryPolicy r{5, 1000, 3000, 100000};
  EXPECT_EQ(r.backoff_ms(2), 1000);
  EXPECT_EQ(r.backoff_ms(3), 2000);
  EXPECT_EQ(r.backoff_ms(4), 3000);
  EXPECT_EQ(r.backoff_ms(9), 3000);
}

TEST(FunctionConfigTest, NamesFollowLambdaRules) {
  EXPECT_TRUE(validate_function_name("hello-world_2"));
  EXPECT_FALSE(validate_function_name(""));
  EXPECT_FALSE(validate_function_name("a/b"));
  EXPECT_FALSE(validate_function_name(std::string(65, 'a')));
}

}  // namespace
}  // namespace eddy::functions
