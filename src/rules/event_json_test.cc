#include "rules/event_json.h"

#include <gtest/gtest.h>

namespace eddy::rules {
namespace {

TEST(WidenNumbers, RewritesOnlyNumbersSimdjsonCannotHold) {
  EXPECT_EQ(widen_numbers(R"({"a":1,"b":-2.5e3,"c":"123456789012345678901234567890"})"),
            R"({"a":1,"b":-2.5e3,"c":"123456789012345678901234567890"})");
  EXPECT_EQ(widen_numbers(R"({"a":123456789012345678901234567890})"), R"({"a":1.2345678901234568e+29})");
  EXPECT_EQ(widen_numbers(R"([1e400,-1e400,1e-400])"),
            "[1.7976931348623157e+308,-1.7976931348623157e+308,0e+00]");
  EXPECT_EQ(widen_numbers(R"({"k\"9":99999999999999999999})"), R"({"k\"9":1e+20})");
}

TEST(ParseLenientJson, ParsesEventsWithHugeNumbersAndRejectsBrokenOnes) {
  simdjson::dom::parser parser;
  std::string buffer;
  simdjson::dom::element root;
  ASSERT_FALSE(parse_lenient_json(parser, R"({"n":123456789012345678901234567890,"s":"x"})", false, buffer, root));
  EXPECT_DOUBLE_EQ(double(root["n"]), 1.2345678901234568e29);
  EXPECT_EQ(std::string_view(root["s"]), "x");
  EXPECT_TRUE(parse_lenient_json(parser, R"({"n":12x})", false, buffer, root));
  EXPECT_TRUE(parse_lenient_json(parser, R"({"n":1e400)", false, buffer, root));
}

}  // namespace
}  // namespace eddy::rules
