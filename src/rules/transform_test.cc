#include "rules/transform.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace eddy::rules {
namespace {

constexpr const char* kEvent = R"({"id":"e1","source":"/shop","type":"order.created",
  "data":{"order":{"id":"o-7","total":12.50,"items":[{"sku":"A"},{"sku":"B"}],"note":"say \"hi\""},
          "instance":"i-123","status":"running","flag":true,"nothing":null,"weird key":"w"}})";

Transform T(const std::string& spec) {
  auto t = compile_transform(boost::json::parse(spec));
  EXPECT_TRUE(t.ok()) << spec << ": " << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : Transform{};
}

std::string Apply(const std::string& spec, const std::string& event = kEvent) {
  auto out = rules::apply(T(spec), event);
  EXPECT_TRUE(out.ok());
  return out.ok() ? *out : "<error>";
}

std::string CompileError(const std::string& spec) {
  auto t = compile_transform(boost::json::parse(spec));
  return t.ok() ? "<compiled>" : t.error().message;
}

TEST(Transform, SelectReturnsTheValueAsJson) {
  EXPECT_EQ(Apply(R"({"select":"$.data.order.id"})"), R"("o-7")");
  EXPECT_EQ(Apply(R"({"select":"$.data.order.total"})"), "12.50");  // the event's own text
  EXPECT_EQ(Apply(R"({"select":"$.data.order.items[1]"})"), R"({"sku":"B"})");
  EXPECT_EQ(Apply(R"({"select":"$.data.order.items[1].sku"})"), R"("B")");
  EXPECT_EQ(Apply(R"({"select":"$.data['weird key']"})"), R"("w")");
  EXPECT_EQ(Apply(R"({"select":"$.data.flag"})"), "true");
  EXPECT_EQ(Apply(R"({"select":"$.data.missing"})"), "null");
  EXPECT_EQ(Apply(R"({"select":"$.data.order.items[5]"})"), "null");
  EXPECT_EQ(Apply(R"({"select":"$.data.order.id.deeper"})"), "null");
  auto whole = boost::json::parse(Apply(R"({"select":"$"})"));
  EXPECT_EQ(whole, boost::json::parse(kEvent));
}

TEST(Transform, TextTemplateInsertsRawStrings) {
  EXPECT_EQ(Apply(R"({"input_paths":{"instance":"$.data.instance","status":"$.data.status"},
                      "input_template":"<instance> is in state <status>"})"),
            "i-123 is in state running");
  EXPECT_EQ(Apply(R"({"input_paths":{"t":"$.data.order.total","m":"$.data.missing"},
                      "input_template":"total=<t> missing=[<m>] <unknown> <b>"})"),
            "total=12.50 missing=[] <unknown> <b>");
}

TEST(Transform, JsonTemplateQuotesByPosition) {
  std::string out = Apply(R"({"input_paths":{"instance":"$.data.instance","status":"$.data.status",
                                "order":"$.data.order","note":"$.data.order.note","m":"$.data.missing"},
    "input_template":"{\"myInstance\": <instance>, \"myStatus\": \"<instance> is in state \\\"<status>\\\"\", \"order\": <order>, \"note\": \"<note>\", \"m\": <m>, \"ms\": \"[<m>]\", \"o\": \"<order>\"}"})");
  auto v = boost::json::parse(out);  // must be valid JSON
  EXPECT_EQ(v.at("myInstance"), "i-123");
  EXPECT_EQ(v.at("myStatus"), "i-123 is in state \"running\"");
  EXPECT_EQ(v.at("order").at("id"), "o-7");
  EXPECT_EQ(v.at("note"), "say \"hi\"");
  EXPECT_TRUE(v.at("m").is_null());
  EXPECT_EQ(v.at("ms"), "[]");
  EXPECT_EQ(boost::json::parse(std::string(v.at("o").as_string())).at("id"), "o-7");
}

TEST(Transform, WholeEventPlaceholder) {
  std::string out = Apply(R"({"input_template":"{\"event\": <aws.events.event.json>}"})");
  EXPECT_EQ(boost::json::parse(out).at("event").at("id"), "e1");
}

TEST(Transform, ValidatesTheSpec) {
  EXPECT_NE(CompileError(R"([])").find("must be an object"), std::string::npos);
  EXPECT_NE(CompileError(R"({"selct":"$.a"})").find("transform.selct: unknown member"), std::string::npos);
  EXPECT_NE(CompileError(R"({"select":"data.id"})").find("paths start with \"$\""), std::string::npos);
  EXPECT_NE(CompileError(R"({"select":"$.a[x]"})").find("index"), std::string::npos);
  EXPECT_NE(CompileError(R"({"select":"$.a","input_template":"x"})").find("not both"), std::string::npos);
  EXPECT_NE(CompileError(R"({"input_paths":{"a":"$.a"}})").find("input_template: required"), std::string::npos);
  EXPECT_NE(CompileError(R"({"input_paths":{"aws.x":"$.a"},"input_template":"<aws.x>"})").find("reserved"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"input_paths":{"a b":"$.a"},"input_template":"x"})").find("names are"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"input_paths":{"a":"$..a"},"input_template":"x"})").find("empty name"),
            std::string::npos);
  // A placeholder may not be an object key in a JSON template.
  EXPECT_NE(CompileError(R"({"input_paths":{"k":"$.a"},"input_template":"{<k>: 1}"})").find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(CompileError(R"({"input_template":"{\"a\": }"})").find("not valid JSON"), std::string::npos);
  std::string many = R"({"input_template":"x","input_paths":{)";
  for (int i = 0; i < 101; ++i) many += (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":\"$.a\"";
  many += "}}";
  EXPECT_NE(CompileError(many).find("the limit is 100"), std::string::npos);
}

TEST(Transform, InvalidEventIsAnError) {
  auto out = rules::apply(T(R"({"select":"$.a"})"), "{nope");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, Errc::invalid_event);
}

TEST(Transform, EmptyTransformPassesTheEventThrough) {
  auto out = rules::apply(Transform{}, kEvent);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, kEvent);
}

}  // namespace
}  // namespace eddy::rules
