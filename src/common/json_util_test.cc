#include "common/json_util.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace eddy {

TEST(JsonUtil, EscapedStringsParseBackToTheOriginal) {
  std::string raw = std::string("plain \"quoted\" back\\slash\n\t\x01 \xc3\xa9", 29);
  std::string out;
  append_json_string(out, raw);
  auto v = boost::json::parse(out);
  EXPECT_EQ(std::string(v.as_string()), raw);
}

TEST(JsonUtil, EmptyBodyIsAnEmptyObject) {
  auto o = parse_json_object("  ");
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->empty());
}

TEST(JsonUtil, NonObjectBodiesAreRejected) {
  EXPECT_EQ(parse_json_object("[1]").error().code, Errc::invalid_argument);
  EXPECT_EQ(parse_json_object("{").error().code, Errc::invalid_argument);
}

TEST(JsonUtil, TypedFieldsNameTheFieldOnMismatch) {
  auto o = parse_json_object(R"({"n":"x","s":1,"f":2.0,"b":"no"})");
  ASSERT_TRUE(o.ok());
  auto n = get_int(*o, "n");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("'n'"), std::string::npos);
  EXPECT_FALSE(get_string(*o, "s").ok());
  EXPECT_EQ(**get_int(*o, "f"), 2);
  EXPECT_FALSE(get_bool(*o, "b").ok());
  EXPECT_FALSE(get_int(*o, "absent")->has_value());
}

TEST(JsonUtil, UnknownFieldsAreNamed) {
  auto o = parse_json_object(R"({"partitions":1,"partitons":2})");
  ASSERT_TRUE(o.ok());
  auto s = reject_unknown_fields(*o, {"partitions"});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("'partitons'"), std::string::npos);
}

}  // namespace eddy
