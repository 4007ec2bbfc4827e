#include "events/stored_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "events/cloud_event.h"

namespace eddy::events {
namespace {

using Members = std::vector<std::pair<std::string, std::string>>;

Members all_members(std::string_view json, bool* failed = nullptr) {
  Members out;
  StoredMembers members(json);
  while (members.next()) out.emplace_back(members.name(), members.value());
  if (failed) *failed = members.failed();
  return out;
}

TEST(StoredMembers, WalksTopLevelMembersSkippingNestedValues) {
  const std::string json =
      R"({"id":"a\"}b","n":-12,"t":true,"z":null,"data":{"s":"}]\\","a":[{"b":[]},"{"]},"last":"x"})";
  bool failed = true;
  const Members expected = {{"id", R"("a\"}b")"},
                            {"n", "-12"},
                            {"t", "true"},
                            {"z", "null"},
                            {"data", R"({"s":"}]\\","a":[{"b":[]},"{"]})"},
                            {"last", R"("x")"}};
  EXPECT_EQ(all_members(json, &failed), expected);
  EXPECT_FALSE(failed);
}

TEST(StoredMembers, ToleratesWhitespaceAndEmptyObjects) {
  bool failed = true;
  EXPECT_TRUE(all_members(" { } ", &failed).empty());
  EXPECT_FALSE(failed);
  const Members expected = {{"a", "1"}, {"b", "[ 1 , 2 ]"}};
  EXPECT_EQ(all_members("{ \"a\" : 1 ,\n \"b\" : [ 1 , 2 ] }", &failed), expected);
  EXPECT_FALSE(failed);
}

TEST(StoredMembers, MalformedTextFailsWithoutReadingPastTheEnd) {
  for (const char* text :
       {"", "   ", "[]", "{", "{\"a\"", "{\"a\":", "{\"a\":}", "{\"a\":1", "{\"a\":1,}",
        "{\"a\" 1}", "{\"a\":\"x}", "{\"a\":[1,2}", "{a:1}", "{\"a\":1 \"b\":2}", "{\"a\":\"\\"}) {
    bool failed = false;
    all_members(text, &failed);
    EXPECT_TRUE(failed) << text;
  }
}

TEST(StoredJson, AttributeReturnsTextForStringsIntegersAndBooleans) {
  const std::string json =
      R"({"specversion":"1.0","id":"x\u00e9\n","source":"/s","type":"t","count":42,"on":false,)"
      R"("nothing":null,"data":{"id":"inner"}})";
  EXPECT_EQ(attribute(json, "id"), std::optional<std::string>("xé\n"));
  EXPECT_EQ(attribute(json, "count"), std::optional<std::string>("42"));
  EXPECT_EQ(attribute(json, "on"), std::optional<std::string>("false"));
  EXPECT_EQ(attribute(json, "nothing"), std::nullopt);
  EXPECT_EQ(attribute(json, "data"), std::nullopt);
  EXPECT_EQ(attribute(json, "subject"), std::nullopt);
  EXPECT_EQ(find_member(json, "data"), std::optional<std::string_view>(R"({"id":"inner"})"));
}

TEST(StoredJson, UnescapesEveryJsonEscape) {
  EXPECT_EQ(unescape_json_string(R"("")"), std::optional<std::string>(""));
  EXPECT_EQ(unescape_json_string(R"("a\"b\\c\/d\b\f\n\r\t")"),
            std::optional<std::string>("a\"b\\c/d\b\f\n\r\t"));
  EXPECT_EQ(unescape_json_string(R"("\u0041\u00e9\u20ac\ud83d\ude00\u0000")"),
            std::optional<std::string>(std::string("Aé€😀\0", 11)));
  for (const char* bad : {"", "\"", "x", R"("\x")", R"("\u12")", R"("\ud800")", R"("\ude00")",
                          R"("\ud800\u0041")", R"("a"b")", R"("\")"}) {
    EXPECT_EQ(unescape_json_string(bad), std::nullopt) << bad;
  }
}

TEST(StoredJson, AgreesWithAFullJsonParserOnStoredEvents) {
  auto events = parse_batch(
      R"([{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":"a\"b","n":3,"data":{"x":[1,"]"]}},)"
      R"({"specversion":"1.0","id":"2","source":"/s","type":"t","data_base64":"AA=="}])",
      Limits{});
  ASSERT_TRUE(events.ok()) << events.error().message;
  for (const Event& event : *events) {
    const boost::json::object parsed = boost::json::parse(event.json).as_object();
    const Members members = all_members(event.json);
    ASSERT_EQ(members.size(), parsed.size());
    for (const auto& [name, value] : members) {
      const boost::json::value* expected = parsed.if_contains(name);
      ASSERT_NE(expected, nullptr) << name;
      EXPECT_EQ(boost::json::parse(value), *expected) << name;
    }
  }
}

}  // namespace
}  // namespace eddy::events
