#include "rules/json_scan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

namespace eddy::rules::scan {
namespace {

// The closing quote of the string that starts at text[0] (a quote), as an offset.
ptrdiff_t End(const std::string& text, bool* escaped_out = nullptr) {
  bool escaped = false;
  const char* q = string_end(text.data() + 1, text.data() + text.size(), escaped);
  if (escaped_out) *escaped_out = escaped;
  return q ? q - text.data() : -1;
}

TEST(JsonScan, FindsTheClosingQuoteOfShortLongAndEscapedStrings) {
  bool escaped = true;
  EXPECT_EQ(End(R"("abc",)", &escaped), 4);
  EXPECT_FALSE(escaped);
  EXPECT_EQ(End(R"("")"), 1);
  std::string long_string = "\"" + std::string(100, 'x') + "\"";
  EXPECT_EQ(End(long_string + ",\"y\""), 101);
  EXPECT_EQ(End(R"("a\"b",)", &escaped), 5);
  EXPECT_TRUE(escaped);
  EXPECT_EQ(End(R"("a\\",)"), 4);  // an escaped backslash, then the end
  // Escapes on either side of a 16-byte boundary, and a quote right after one.
  for (size_t at = 0; at < 40; ++at) {
    std::string s = "\"" + std::string(at, 'x') + "\\\"" + std::string(20, 'y') + "\" tail";
    EXPECT_EQ(End(s, &escaped), static_cast<ptrdiff_t>(at + 23)) << at;
    EXPECT_TRUE(escaped);
  }
  EXPECT_EQ(End(R"("unterminated)"), -1);
  // A raw control character is not JSON, wherever it is in the string.
  for (size_t at = 0; at < 40; ++at) {
    std::string s = "\"" + std::string(at, 'x') + '\x01' + std::string(20, 'y') + "\"";
    EXPECT_EQ(End(s), -1) << at;
    s[at + 1] = '\x7f';  // DEL is allowed
    EXPECT_EQ(End(s), static_cast<ptrdiff_t>(at + 22)) << at;
  }
  EXPECT_EQ(End("\"a\tb\""), -1);
  EXPECT_EQ(End("\"\xC3\xA9\""), 3);
  EXPECT_EQ(End(R"("ends in a backslash\)"), -1);
}

std::string Unescape(std::string_view raw) {
  std::string out(raw.size(), '\0');
  ptrdiff_t n = unescape(raw, out.data());
  if (n < 0) return "<invalid>";
  out.resize(static_cast<size_t>(n));
  return out;
}

TEST(JsonScan, UnescapesEveryEscapeAndSurrogatePairs) {
  EXPECT_EQ(Unescape(R"(plain)"), "plain");
  EXPECT_EQ(Unescape(R"(a\"b\\c\/d\b\f\n\r\t)"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(Unescape(R"(\u0041\u00e9\u20AC)"), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(Unescape(R"(\ud83d\ude00!)"), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(Unescape(R"(\ud83d)"), "<invalid>");         // lone high surrogate
  EXPECT_EQ(Unescape(R"(\ud83dx\ude00)"), "<invalid>");  // not followed by its pair
  EXPECT_EQ(Unescape(R"(\ude00)"), "<invalid>");         // lone low surrogate
  EXPECT_EQ(Unescape(R"(\x)"), "<invalid>");
  EXPECT_EQ(Unescape(R"(\u12)"), "<invalid>");
  EXPECT_EQ(Unescape(R"(\u12G4)"), "<invalid>");
}

double Number(const std::string& text, bool* ok = nullptr, size_t* length = nullptr) {
  double v = -12345;
  const char* e = number(text.data(), text.data() + text.size(), v);
  if (ok) *ok = e != nullptr;
  if (length && e) *length = static_cast<size_t>(e - text.data());
  return v;
}

TEST(JsonScan, ReadsNumbersAsTheNearestDouble) {
  EXPECT_EQ(Number("300"), 300.0);
  EXPECT_EQ(Number("3.0e2"), 300.0);
  EXPECT_EQ(Number("300.000"), 300.0);
  EXPECT_EQ(Number("30000e-2"), 300.0);
  EXPECT_EQ(Number("-0"), 0.0);
  EXPECT_EQ(Number("0.1"), 0.1);
  EXPECT_EQ(Number("-1.5E+3"), -1500.0);
  EXPECT_EQ(Number("0.000000000000000000000000000001"), 1e-30);
  EXPECT_EQ(Number("9007199254740993"), 9007199254740992.0);  // 2^53 + 1 rounds to even
  EXPECT_EQ(Number("18446744073709551615"), 18446744073709551615.0);
  EXPECT_EQ(Number("123456789012345678901234567890"), 1.2345678901234568e29);
  EXPECT_EQ(Number("-9223372036854775808"), -9223372036854775808.0);
  EXPECT_EQ(Number("1.7976931348623157e308"), 1.7976931348623157e308);
  bool ok = true;
  size_t length = 0;
  Number("1e400", &ok);
  EXPECT_FALSE(ok);  // beyond the double range: left to the DOM parser
  for (const char* bad : {"-", "1.", ".5", "1e", "1e+", "-x", "+1"}) {
    Number(bad, &ok);
    EXPECT_FALSE(ok) << bad;
  }
  Number("12,", &ok, &length);
  EXPECT_TRUE(ok);
  EXPECT_EQ(length, 2u);
  Number("01", &ok, &length);  // a number ends after a leading 0; the caller sees the 1
  EXPECT_EQ(length, 1u);
}

TEST(JsonScan, NumbersAgreeWithStrtodOnRandomInput) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (rng() % 2) text += '-';
    size_t int_digits = 1 + rng() % 22;
    text += static_cast<char>('1' + rng() % 9);
    for (size_t d = 1; d < int_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    if (rng() % 2) {
      text += '.';
      for (size_t d = 1 + rng() % 20; d > 0; --d) text += static_cast<char>('0' + rng() % 10);
    }
    if (rng() % 2) text += "e" + std::to_string(static_cast<int>(rng() % 80) - 40);
    bool ok = false;
    double v = Number(text, &ok);
    ASSERT_TRUE(ok) << text;
    EXPECT_EQ(v, std::strtod(text.c_str(), nullptr)) << text;
  }
}

TEST(JsonScan, LiteralsMustEndThere) {
  std::string t = "true,";
  EXPECT_EQ(literal(t.data(), t.data() + t.size(), "true"), t.data() + 4);
  std::string u = "truex";
  EXPECT_EQ(literal(u.data(), u.data() + u.size(), "true"), nullptr);
  std::string v = "tru";
  EXPECT_EQ(literal(v.data(), v.data() + v.size(), "true"), nullptr);
}

TEST(JsonScan, SkipsWholeValuesIncludingBracketsInsideStrings) {
  auto skip = [](const std::string& text, size_t depth = kMaxDepth) -> ptrdiff_t {
    const char* e = skip_value(text.data(), text.data() + text.size(), depth);
    return e ? e - text.data() : -1;
  };
  EXPECT_EQ(skip(R"({"a":[1,{"b":"]}\"["}],"c":null},9)"), 32);
  EXPECT_EQ(skip(R"([[],[[]]] ,)"), 9);
  EXPECT_EQ(skip(R"("x\"y",)"), 6);
  EXPECT_EQ(skip("-12.5e3}"), 7);
  EXPECT_EQ(skip("true]"), 4);
  EXPECT_EQ(skip(R"({"a":[1,2)"), -1);
  EXPECT_EQ(skip("[[[1]]]", 3), 7);
  EXPECT_EQ(skip("[[[1]]]", 2), -1);  // deeper than allowed
}

// A random JSON value whose strings hold brackets, quotes and backslashes (escaped).
std::string RandomValue(std::mt19937_64& rng, int depth) {
  auto below = [&rng](uint64_t n) { return rng() % n; };
  size_t kind = below(depth > 0 ? 6 : 3);
  if (kind == 0) return std::to_string(static_cast<int64_t>(rng() % 100000) - 500);
  if (kind == 1) return below(2) ? "true" : "null";
  if (kind == 2) {
    // The last three parts are escapes; half of the strings have none.
    static const char* kParts[] = {"a", "{",   "}", "[",    "]",    ",",
                                   ":", "xyz", " ", "\\\"", "\\\\", "\\u0041"};
    size_t parts = below(2) ? std::size(kParts) : std::size(kParts) - 3;
    std::string str = "\"";
    for (size_t n = below(40); n > 0; --n) str += kParts[below(parts)];
    return str + "\"";
  }
  bool object = kind == 3 || kind == 5;
  std::string out = object ? "{" : "[";
  for (size_t n = below(8); n > 0; --n) {
    if (out.size() > 1) out += below(4) ? "," : " , ";
    if (object) out += "\"k" + std::to_string(below(50)) + "\":";
    out += RandomValue(rng, depth - 1);
  }
  return out + (object ? "}" : "]");
}

TEST(JsonScan, SkipsRandomNestedValuesExactly) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string value = RandomValue(rng, 1 + static_cast<int>(rng() % 5));
    std::string text = value + (rng() % 2 ? "}]" : ",\"x\":1}") + std::string(rng() % 100, ' ');
    const char* e = skip_value(text.data(), text.data() + text.size(), kMaxDepth);
    ASSERT_NE(e, nullptr) << value;
    EXPECT_EQ(static_cast<size_t>(e - text.data()), value.size()) << value;
    // Cut short anywhere inside, the value has no end.
    size_t cut = rng() % value.size();
    if (value[0] == '{' || value[0] == '[' || value[0] == '"') {
      EXPECT_EQ(skip_value(text.data(), text.data() + cut, kMaxDepth), nullptr)
          << value.substr(0, cut);
    }
  }
}

TEST(JsonScan, SkipsLongContainersAcrossBlocksAndDepthLimits) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "[\"]\\\"[\",";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "]";
  std::string text = deep + ",0";
  EXPECT_EQ(skip_value(text.data(), text.data() + text.size(), 200), text.data() + deep.size());
  EXPECT_EQ(skip_value(text.data(), text.data() + text.size(), 199), nullptr);
  std::string wide = "{\"a\":[" + std::string(500, ' ') + "\"" + std::string(300, '}') + "\"]}";
  text = wide + "]";
  EXPECT_EQ(skip_value(text.data(), text.data() + text.size(), kMaxDepth),
            text.data() + wide.size());
}

}  // namespace
}  // namespace eddy::rules::scan
