#include "common/json_util.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <limits>

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

TEST(JsonUtil, DoublesAreWrittenAsShortestDecimals) {
  auto v = boost::json::parse(R"({"a":9.99,"b":3.0e2,"c":-0.5,"d":1e21,"e":1e-7,"f":0.1})");
  EXPECT_EQ(json_text(v), R"({"a":9.99,"b":300,"c":-0.5,"d":1e+21,"e":1e-07,"f":0.1})");
  // Every double reads back as the same value.
  for (double d : {0.1, 2.0 / 3.0, 1e-300, 1.7976931348623157e308, 123456.789e10}) {
    EXPECT_EQ(boost::json::parse(json_text(boost::json::value(d))).to_number<double>(), d);
  }
  boost::json::object nonfinite{{"inf", std::numeric_limits<double>::infinity()},
                                {"nan", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_EQ(json_text(nonfinite), R"({"inf":null,"nan":null})");
}

TEST(JsonUtil, OtherValuesAreWrittenAsBoostWritesThem) {
  auto v = boost::json::parse(
      R"({"s":"q\"\\\n\u0001é","i":-9223372036854775808,"u":18446744073709551615,)"
      R"("t":true,"f":false,"n":null,"a":[1,[],{}],"o":{"k":{"x":[null]}}})");
  EXPECT_EQ(json_text(v), boost::json::serialize(v));
  EXPECT_EQ(json_text(v.as_object()), boost::json::serialize(v));
  EXPECT_EQ(json_text(v.at("a").as_array()), "[1,[],{}]");
}

}  // namespace eddy
