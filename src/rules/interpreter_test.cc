#include "rules/interpreter.h"

#include <gtest/gtest.h>

namespace eddy::rules {
namespace {

Pattern P(const std::string& json) {
  auto p = compile_pattern(json);
  EXPECT_TRUE(p.ok()) << json;
  return p.ok() ? *p : Pattern{};
}

constexpr const char* kOrder = R"({"type":"order.created","source":"/shop","data":{"amount":50,
  "currency":"EUR","items":[{"sku":"A","qty":1},{"sku":"B","qty":5}],"customer":{"tier":"gold"}}})";

TEST(Explain, MatchSaysSo) {
  Explanation e = explain(P(R"({"type":["order.created"]})"), kOrder);
  EXPECT_TRUE(e.match);
  EXPECT_TRUE(e.mismatches.empty());
  EXPECT_EQ(e.message, "the event matches the pattern");
}

TEST(Explain, NamesTheFailingFieldAndWhy) {
  Explanation e = explain(P(R"({"type":["order.created"],"data":{"amount":[{"numeric":[">",100]}]}})"), kOrder);
  EXPECT_FALSE(e.match);
  ASSERT_EQ(e.mismatches.size(), 1u);
  EXPECT_EQ(e.mismatches[0].path, "$.data.amount");
  EXPECT_EQ(e.message, "$.data.amount: 50 does not match numeric > 100");
}

TEST(Explain, MissingField) {
  Explanation e = explain(P(R"({"data":{"discount":["x","y"]}})"), kOrder);
  EXPECT_EQ(e.message, "$.data.discount: the field is missing; the pattern expects any of [\"x\", \"y\"]");
}

TEST(Explain, ObjectWhereAValueIsExpected) {
  Explanation e = explain(P(R"({"data":{"customer":["gold"]}})"), kOrder);
  EXPECT_NE(e.message.find("$.data.customer: is an object, not a value"), std::string::npos) << e.message;
}

TEST(Explain, NumberSentAsStringGetsAHint) {
  Explanation e = explain(P(R"({"data":{"n":[{"numeric":[">",1]}]}})"), R"({"data":{"n":"5"}})");
  EXPECT_NE(e.message.find("numeric matching needs a JSON number"), std::string::npos) << e.message;
}

TEST(Explain, AbsentFieldThatIsPresent) {
  Explanation e = explain(P(R"({"data":{"currency":[{"exists":false}]}})"), kOrder);
  EXPECT_EQ(e.message, "$.data.currency: the field must not exist (exists: false) but has the value \"EUR\"");
}

TEST(Explain, AnythingBut) {
  Explanation e = explain(P(R"({"data":{"currency":[{"anything-but":["EUR","USD"]}]}})"), kOrder);
  EXPECT_EQ(e.message, "$.data.currency: \"EUR\" does not match anything-but [\"EUR\", \"USD\"]");
}

TEST(Explain, ListValues) {
  Explanation e = explain(P(R"({"data":{"items":{"sku":["C"]}}})"), kOrder);
  EXPECT_EQ(e.message, "$.data.items.sku: none of [\"A\", \"B\"] matches \"C\"");
}

TEST(Explain, FieldsFromDifferentListElements) {
  Explanation e = explain(P(R"({"data":{"items":{"sku":["A"],"qty":[5]}}})"), kOrder);
  EXPECT_FALSE(e.match);
  ASSERT_EQ(e.mismatches.size(), 1u);
  EXPECT_EQ(e.mismatches[0].path, "$.data.items");
  EXPECT_NE(e.message.find("different elements"), std::string::npos) << e.message;
}

TEST(Explain, EveryOrAlternativeIsReported) {
  Explanation e = explain(P(R"({"$or":[{"type":["x"]},{"source":[{"prefix":"/other"}]}]})"), kOrder);
  EXPECT_FALSE(e.match);
  ASSERT_EQ(e.mismatches.size(), 2u);
  EXPECT_EQ(e.mismatches[0].path, "$.type");
  EXPECT_EQ(e.mismatches[1].path, "$.source");
  EXPECT_EQ(e.message.rfind("none of the pattern's 2 alternatives ($or) matches: (1) $.type:", 0), 0u)
      << e.message;
}

TEST(Explain, BranchesFailingAlikeAreReportedOnce) {
  Explanation e = explain(P(R"({"source":["/other"],"$or":[{"type":["order.created"]},{"type":["x"]}]})"), kOrder);
  ASSERT_EQ(e.mismatches.size(), 1u);
  EXPECT_EQ(e.message, "$.source: \"/shop\" does not match \"/other\"");
}

TEST(Explain, InvalidEvent) {
  Explanation e = explain(P(R"({"type":["x"]})"), "{nope");
  EXPECT_FALSE(e.match);
  EXPECT_EQ(e.message.rfind("$: the event is not valid JSON", 0), 0u) << e.message;
  e = explain(P(R"({"type":["x"]})"), "[1]");
  EXPECT_NE(e.message.find("must be a JSON object"), std::string::npos);
}

TEST(Matches, EmptyPatternMatchesNothing) { EXPECT_FALSE(matches(Pattern{}, kOrder)); }

TEST(AnyBranchMatches, EvaluatesExpandedBranches) {
  Pattern p = P(R"({"$or":[{"type":["x"]},{"data":{"items":{"sku":["B"],"qty":[5]}}}]})");
  EXPECT_TRUE(any_branch_matches(expand_branches(p), kOrder));
  p = P(R"({"data":{"items":{"sku":["A"],"qty":[5]}}})");
  EXPECT_FALSE(any_branch_matches(expand_branches(p), kOrder));
}

}  // namespace
}  // namespace eddy::rules
