#include "rules/pattern.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy::rules {
namespace {

// The error for `pattern`, which must fail to compile.
std::string error_of(const std::string& pattern, const PatternLimits& limits = {}) {
  auto p = compile_pattern(pattern, limits);
  if (p.ok()) return "<compiled>";
  EXPECT_EQ(p.error().code, Errc::invalid_pattern);
  return p.error().message;
}

void expect_error(const std::string& pattern, const std::string& starts_with, const std::string& contains) {
  std::string e = error_of(pattern);
  EXPECT_EQ(e.rfind(starts_with, 0), 0u) << pattern << "\n  gave: " << e;
  EXPECT_NE(e.find(contains), std::string::npos) << pattern << "\n  gave: " << e;
}

TEST(CompilePattern, RejectsWhatIsNotAnObject) {
  expect_error("[]", "$: ", "must be a JSON object");
  expect_error("\"x\"", "$: ", "must be a JSON object");
  expect_error("{}", "$: ", "at least one field");
}

TEST(CompilePattern, InvalidJsonSaysWhere) {
  expect_error(R"({"a": [1,)", "$: ", "not valid JSON at byte");
  expect_error("", "$: ", "not valid JSON");
}

TEST(CompilePattern, FieldValueMustBeListOrObject) {
  expect_error(R"({"a": "x"})", "$.a: ", "list of values");
  expect_error(R"({"data": {"b": 5}})", "$.data.b: ", "got a number");
  expect_error(R"({"a": []})", "$.a: ", "empty list");
  expect_error(R"({"a": [[1]]})", "$.a: ", "cannot be nested");
  expect_error(R"({"a": {}})", "$.a: ", "empty object");
}

TEST(CompilePattern, NumericRangeErrorsNameTheField) {
  expect_error(R"({"data":{"amount":[{"numeric":[">",0,"<"]}]}})", "$.data.amount: ",
               "numeric range needs an even list of operators");
  expect_error(R"({"data":{"amount":[{"numeric":[">"]}]}})", "$.data.amount: ", "even list");
  expect_error(R"({"data":{"amount":[{"numeric":5}]}})", "$.data.amount: ", "even list");
  expect_error(R"({"data":{"amount":[{"numeric":[">",0,"<",1,">",2]}]}})", "$.data.amount: ", "even list");
  expect_error(R"({"a":[{"numeric":["!=",1]}]})", "$.a: ", "unknown numeric operator \"!=\"");
  expect_error(R"({"a":[{"numeric":[">",1,">=",2]}]})", "$.a: ", "two lower bounds");
  expect_error(R"({"a":[{"numeric":["<",1,"<=",2]}]})", "$.a: ", "two upper bounds");
  expect_error(R"({"a":[{"numeric":["=",1,"<",2]}]})", "$.a: ", "stands alone");
  expect_error(R"({"a":[{"numeric":[">",5,"<",5]}]})", "$.a: ", "range is empty");
  expect_error(R"({"a":[{"numeric":[">",6,"<=",5]}]})", "$.a: ", "range is empty");
  expect_error(R"({"a":[{"numeric":[">","5"]}]})", "$.a: ", "must be followed by a number");
  expect_error(R"({"a":[{"numeric":[1,">"]}]})", "$.a: ", "must be an operator");
}

TEST(CompilePattern, StringOperatorErrors) {
  expect_error(R"({"a":[{"prefix":1}]})", "$.a: ", "prefix takes a string");
  expect_error(R"({"a":[{"prefix":{"equals-ignore-case":1}}]})", "$.a: ", "prefix takes a string");
  expect_error(R"({"a":[{"suffix":{"other":"x"}}]})", "$.a: ", "suffix takes a string");
  expect_error(R"({"a":[{"equals-ignore-case":["x"]}]})", "$.a: ", "equals-ignore-case takes a string");
  expect_error(R"({"a":[{"wildcard":"a**b"}]})", "$.a: ", "consecutive '*'");
  expect_error(R"({"a":[{"wildcard":"a\\xb"}]})", "$.a: ", "backslash");
  expect_error(R"({"a":[{"wildcard":"a\\"}]})", "$.a: ", "backslash");
  expect_error(R"({"a":[{"wildcard":5}]})", "$.a: ", "wildcard takes a string");
}

TEST(CompilePattern, AnythingButErrors) {
  expect_error(R"({"a":[{"anything-but":true}]})", "$.a: ", "anything-but takes");
  expect_error(R"({"a":[{"anything-but":null}]})", "$.a: ", "anything-but takes");
  expect_error(R"({"a":[{"anything-but":["x",1]}]})", "$.a: ", "only strings or only numbers");
  expect_error(R"({"a":[{"anything-but":[]}]})", "$.a: ", "at least one value");
  expect_error(R"({"a":[{"anything-but":[{"prefix":"x"}]}]})", "$.a: ", "anything-but takes");
  expect_error(R"({"a":[{"anything-but":{"prefix":1}}]})", "$.a: ", "takes a string or a list of strings");
  expect_error(R"({"a":[{"anything-but":{"numeric":[">",1]}}]})", "$.a: ", "anything-but takes");
  expect_error(R"({"a":[{"anything-but":{"prefix":"a","suffix":"b"}}]})", "$.a: ", "anything-but takes");
  expect_error(R"({"a":[{"anything-but":{"wildcard":"a**"}}]})", "$.a: ", "consecutive");
}

TEST(CompilePattern, ExistsAndCidrErrors) {
  expect_error(R"({"a":[{"exists":"yes"}]})", "$.a: ", "exists takes true or false");
  expect_error(R"({"ip":[{"cidr":"10.0.0.0"}]})", "$.ip: ", "needs a prefix length");
  expect_error(R"({"ip":[{"cidr":"10.0.0.0/33"}]})", "$.ip: ", "from 0 to 32");
  expect_error(R"({"ip":[{"cidr":"2001:db8::/129"}]})", "$.ip: ", "from 0 to 128");
  expect_error(R"({"ip":[{"cidr":"300.0.0.0/8"}]})", "$.ip: ", "not an IPv4 or IPv6 address");
  expect_error(R"({"ip":[{"cidr":"10.0.0.0/x"}]})", "$.ip: ", "prefix length");
  expect_error(R"({"ip":[{"cidr":5}]})", "$.ip: ", "cidr takes a string");
}

TEST(CompilePattern, UnknownOperatorSuggestsNesting) {
  std::string e = error_of(R"({"data":{"order":[{"status":["paid"]}]}})");
  EXPECT_NE(e.find("$.data.order: unknown operator \"status\""), std::string::npos) << e;
  EXPECT_NE(e.find("$.data.order.status"), std::string::npos) << e;
  expect_error(R"({"a":[{"contains":"x"}]})", "$.a: ", "unknown operator \"contains\"");
  expect_error(R"({"a":[{"prefix":"x","suffix":"y"}]})", "$.a: ", "exactly one operator");
  expect_error(R"({"a":[{}]})", "$.a: ", "exactly one operator");
}

TEST(CompilePattern, OrErrors) {
  expect_error(R"({"$or":{"a":[1]}})", "$.$or: ", "at least two objects");
  expect_error(R"({"$or":[{"a":[1]}]})", "$.$or: ", "at least two objects");
  expect_error(R"({"$or":[{"a":[1]},[1]]})", "$.$or[1]: ", "must be an object");
  expect_error(R"({"$or":[{},{"a":[1]}]})", "$.$or[0]: ", "empty object");
  expect_error(R"({"data":{"$or":[{"a":[1]},{"b":"x"}]}})", "$.data.$or[1].b: ", "list of values");
}

TEST(CompilePattern, DuplicateFieldIsAnError) {
  expect_error(R"({"a":[1],"a":[2]})", "$.a: ", "appears twice");
}

TEST(CompilePattern, PathsUseBracketsForUnusualKeys) {
  expect_error(R"({"data":{"a.b":{"c d":[{"numeric":["x"]}]}}})", "$.data['a.b']['c d']: ", "even list");
  expect_error(R"({"detail":{"x-limit":[{"numeric":[1]}]}})", "$.detail.x-limit: ", "even list");
  expect_error(R"({"it's":[]})", "$['it\\'s']: ", "empty list");
}

TEST(CompilePattern, EnforcesSizeLimits) {
  PatternLimits small;
  small.max_bytes = 20;
  std::string e = error_of(R"({"type":["order.created"]})", small);
  EXPECT_NE(e.find("the limit is 20"), std::string::npos) << e;

  std::string deep = R"({"a":[1]})";
  for (int i = 0; i < 20; ++i) deep = R"({"n":)" + deep + "}";
  e = error_of(deep);
  EXPECT_NE(e.find("nest at most 16 levels"), std::string::npos) << e;

  std::string many = R"({"a":[)";
  for (int i = 0; i < 1001; ++i) many += (i ? "," : "") + std::to_string(i);
  many += "]}";
  e = error_of(many);
  EXPECT_NE(e.find("1001 values; the limit is 1000"), std::string::npos) << e;
}

TEST(CompilePattern, ReportsComplexityAndRejectsExplosiveOr) {
  auto p = compile_pattern(R"({"a":[1,2,3]})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->complexity(), 3u);
  EXPECT_EQ(p->branch_count(), 1u);

  p = compile_pattern(R"({"a":[{"wildcard":"a*b*c"}]})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->complexity(), 3u);  // three literal parts

  p = compile_pattern(R"({"$or":[{"a":[1]},{"b":[1,2]}],"c":[1]})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->branch_count(), 2u);
  EXPECT_EQ(p->complexity(), 5u);  // (a, c) + (b|b, c)

  p = compile_pattern(R"({"a":["x",{"exists":false}]})");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->branch_count(), 2u);

  // Nine $or groups of two alternatives: 512 branches.
  std::string big = "{";
  for (int i = 0; i < 9; ++i) {
    big += (i ? "," : "") + std::string("\"f") + std::to_string(i) + "\":{\"$or\":[{\"x\":[1]},{\"y\":[2]}]}";
  }
  big += "}";
  std::string e = error_of(big);
  EXPECT_NE(e.find("512 branches (limit 256)"), std::string::npos) << e;
  EXPECT_NE(e.find("complexity 4608"), std::string::npos) << e;

  PatternLimits generous;
  generous.max_branches = 1000;
  generous.max_complexity = 10000;
  p = compile_pattern(big, generous);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->branch_count(), 512u);
  EXPECT_EQ(expand_branches(*p).size(), 512u);
}

TEST(CompilePattern, KeepsMinifiedJson) {
  auto p = compile_pattern(R"({ "type" : [ "a" ] ,
      "data": {"n": [ 1 ]} })");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->json(), R"({"type":["a"],"data":{"n":[1]}})");
}

TEST(ExpandBranches, MultipliesOutOrAndAbsentAlternatives) {
  auto p = compile_pattern(R"({"s":["x"],"$or":[{"a":[1]},{"b":[{"exists":false},"y"]}]})");
  ASSERT_TRUE(p.ok());
  auto branches = expand_branches(*p);
  ASSERT_EQ(branches.size(), 3u);
  size_t absent = 0;
  for (const Branch& b : branches) {
    ASSERT_EQ(b.size(), 2u);
    for (const Condition& c : b) absent += c.absent();
  }
  EXPECT_EQ(absent, 1u);
}

TEST(ExpandBranches, DropsDuplicateConditionsAndSortsAlternatives) {
  auto p = compile_pattern(R"({"a":["y","x","y"],"$or":[{"a":["x","y"]},{"b":[1]}]})");
  ASSERT_TRUE(p.ok());
  auto branches = expand_branches(*p);
  ASSERT_EQ(branches.size(), 2u);
  // {a in [x,y]} and {a in [y,x]} are one condition.
  EXPECT_EQ(branches[0].size() + branches[1].size(), 3u);
  for (const Branch& b : branches) {
    for (const Condition& c : b) {
      if (c.path.back() == "a") {
        EXPECT_EQ(c.alternatives.size(), 2u);
      }
    }
  }
}

}  // namespace
}  // namespace eddy::rules
