#include "rules/json_scan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>

namespace eddy::rules::scan {
namespace {

// Classifies `text` with `isa`; nullopt when it is refused.
std::optional<std::vector<Block>> Classify(const std::string& text, Isa isa) {
  EventText t;
  if (!t.classify(text, isa)) return std::nullopt;
  return t.blocks();
}

// The isas this machine runs.
std::vector<Isa> Isas() {
  std::vector<Isa> out{Isa::portable};
  if (avx2_supported()) out.push_back(Isa::avx2);
  if (avx512_supported()) out.push_back(Isa::avx512);
  return out;
}

// The offset of the closing quote of the string opening at text[open], or -1.
ptrdiff_t End(const std::string& text, size_t open = 0, Isa isa = Isa::best) {
  EventText t;
  if (!t.classify(text, isa)) return -2;
  const char* q = t.string_end(text.data() + open);
  return q ? q - text.data() : -1;
}

TEST(JsonScan, FindsTheClosingQuoteOfShortLongAndEscapedStrings) {
  for (Isa isa : Isas()) {
    EXPECT_EQ(End(R"("abc",)", 0, isa), 4);
    EXPECT_EQ(End(R"("")", 0, isa), 1);
    std::string long_string = "\"" + std::string(100, 'x') + "\"";
    EXPECT_EQ(End(long_string + ",\"y\"", 0, isa), 101);
    EXPECT_EQ(End(R"("a\"b",)", 0, isa), 5);
    EXPECT_EQ(End(R"("a\\",)", 0, isa), 4);  // an escaped backslash, then the end
    EXPECT_EQ(End(R"("a\\\"",)", 0, isa), 6);
    // Escapes and quotes on either side of 64-byte block boundaries.
    for (size_t at = 0; at < 140; ++at) {
      std::string s = "\"" + std::string(at, 'x') + "\\\"" + std::string(20, 'y') + "\" tail";
      EXPECT_EQ(End(s, 0, isa), static_cast<ptrdiff_t>(at + 23)) << at;
      std::string runs = "\"" + std::string(at, 'x') + "\\\\\\\\\"" + " \"\"";
      EXPECT_EQ(End(runs, 0, isa), static_cast<ptrdiff_t>(at + 5)) << at;
      std::string quote_at = "[" + std::string(at, ' ') + "\"\"]";
      EXPECT_EQ(End(quote_at, at + 1, isa), static_cast<ptrdiff_t>(at + 2)) << at;
    }
  }
}

TEST(JsonScan, RefusesWhatTheDomParserRefusesAnywhere) {
  for (Isa isa : Isas()) {
    EXPECT_EQ(End(R"("unterminated)", 0, isa), -2);
    EXPECT_EQ(End(R"("ends in a backslash\)", 0, isa), -2);
    EXPECT_EQ(End("\"\xC3\xA9\"", 0, isa), 3);
    EXPECT_EQ(End("\"\xC3\"", 0, isa), -2);  // invalid UTF-8
    EXPECT_EQ(End("\"a\tb\"", 0, isa), -2);
    EXPECT_EQ(End(R"({"a":1}\n)", 0, isa), -2);     // a backslash outside strings
    EXPECT_TRUE(Classify("{\"a\":1}\n\t\r", isa));  // whitespace outside strings is fine
    EXPECT_FALSE(Classify("{\"a\":1\x01}", isa));   // other control characters are not
    for (size_t at = 0; at < 140; ++at) {
      std::string s = "[" + std::string(at, ' ') + "\n1\x1f]";
      EXPECT_FALSE(Classify(s, isa)) << at;
      s[at + 3] = '\t';
      EXPECT_TRUE(Classify(s, isa)) << at;
    }
    // A raw control character is not JSON, wherever it is in the string; a bad escape
    // neither, nor a lone surrogate.
    for (size_t at = 0; at < 140; ++at) {
      std::string pad(at, 'x');
      std::string s = "[1,\"" + pad + '\x01' + std::string(20, 'y') + "\"]";
      EXPECT_EQ(End(s, 3, isa), -2) << at;
      s[at + 4] = '\x7f';  // DEL is allowed
      EXPECT_EQ(End(s, 3, isa), static_cast<ptrdiff_t>(at + 25)) << at;
      EXPECT_EQ(End("[\"" + pad + R"(\x")" + "]", 1, isa), -2) << at;
      EXPECT_EQ(End("[\"" + pad + R"(\ud83d")" + "]", 1, isa), -2) << at;
      EXPECT_EQ(End("[\"" + pad + R"(\ud83d\ude00")" + "]", 1, isa),
                static_cast<ptrdiff_t>(at + 14))
          << at;
      EXPECT_EQ(End("[\"" + pad + R"(\u12")" + R"(,"34"])", 1, isa), -2) << at;
    }
  }
}

// Random text of JSON's special bytes, so that escapes, quotes and brackets fall on every
// side of block boundaries.
std::string RandomText(std::mt19937_64& rng) {
  static const char kBytes[] = {'"', '\\', '{', '}', '[', ']', 'a', ' ', 'u', '0', '\n', ','};
  std::string s(rng() % 300, ' ');
  for (char& c : s) c = kBytes[rng() % std::size(kBytes)];
  return s;
}

TEST(JsonScan, ClassifiersAgreeOnRandomText) {
  if (!avx2_supported()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::vector<Isa> isas = Isas();
  std::mt19937_64 rng(11);
  size_t accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string text = RandomText(rng);
    if (rng() % 3 == 0) {
      // Mostly valid: strings of escapes.
      text.clear();
      for (size_t n = rng() % 40; n > 0; --n) text += rng() % 2 ? R"("\\\"x" )" : R"({"a\\":[]},)";
    }
    auto portable = Classify(text, Isa::portable);
    if (portable) ++accepted;
    for (Isa isa : isas) {
      auto simd = Classify(text, isa);
      ASSERT_EQ(portable.has_value(), simd.has_value()) << text;
      if (!portable) continue;
      ASSERT_EQ(portable->size(), simd->size());
      for (size_t b = 0; b < portable->size(); ++b) {
        EXPECT_EQ((*portable)[b].quotes, (*simd)[b].quotes) << text;
        EXPECT_EQ((*portable)[b].opens, (*simd)[b].opens) << text;
        EXPECT_EQ((*portable)[b].closes, (*simd)[b].closes) << text;
      }
    }
  }
  EXPECT_GT(accepted, 30000u);
}

TEST(JsonScan, MasksMarkEachUnescapedQuoteAndEachBracketOutsideStrings) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::string text = RandomText(rng);
    for (Isa isa : Isas()) {
      auto blocks = Classify(text, isa);
      if (!blocks) continue;
      bool in_string = false, escape = false;
      for (size_t j = 0; j < text.size(); ++j) {
        const Block& b = (*blocks)[j / 64];
        uint64_t bit = uint64_t{1} << (j % 64);
        char c = text[j];
        bool quote = c == '"' && !escape;
        escape = !escape && c == '\\';
        if (quote) in_string = !in_string;
        ASSERT_EQ((b.quotes & bit) != 0, quote) << text << " at " << j;
        ASSERT_EQ((b.opens & bit) != 0, !in_string && (c == '{' || c == '[')) << text;
        ASSERT_EQ((b.closes & bit) != 0, !in_string && (c == '}' || c == ']')) << text;
      }
    }
  }
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

TEST(JsonScan, ScalarsEndAtEveryDelimiterAtEveryLength) {
  for (size_t len = 1; len < 20; ++len) {
    std::string scalar = std::string("-1234567890.5e+7true").substr(0, len);
    for (const char* after : {",", "}", "]", " ", "\n", "\t", "\r", ""}) {
      std::string text = "[" + scalar + after;
      EventText t;
      ASSERT_TRUE(t.classify(text));
      EXPECT_EQ(t.skip_value(text.data() + 1, kMaxDepth), text.data() + 1 + len)
          << len << " " << int(after[0]);
      // Non-ASCII bytes are part of a (malformed) scalar, as are other punctuation bytes.
      std::string odd = "[" + scalar + "\xC3\xA9:{x" + after;
      ASSERT_TRUE(t.classify(odd));
      EXPECT_EQ(t.skip_value(odd.data() + 1, kMaxDepth),
                odd.data() + odd.size() - std::strlen(after))
          << len;
    }
  }
}

TEST(JsonScan, SkipsWholeValuesIncludingBracketsInsideStrings) {
  auto skip = [](const std::string& text, size_t depth = kMaxDepth) -> ptrdiff_t {
    EventText t;
    if (!t.classify(text)) return -2;
    const char* e = t.skip_value(text.data(), depth);
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
    for (Isa isa : Isas()) {
      EventText t;
      ASSERT_TRUE(t.classify(text, isa)) << text;
      const char* e = t.skip_value(text.data(), kMaxDepth);
      ASSERT_NE(e, nullptr) << value;
      EXPECT_EQ(static_cast<size_t>(e - text.data()), value.size()) << value;
      // Cut short anywhere inside (the cut text minus an open string), the value has no end.
      size_t cut = rng() % value.size();
      if ((value[0] == '{' || value[0] == '[') && cut > 0) {
        std::string shorter = value.substr(0, cut);
        if (!t.classify(shorter, isa)) continue;
        EXPECT_EQ(t.skip_value(shorter.data(), kMaxDepth), nullptr) << shorter;
      }
    }
  }
}

TEST(JsonScan, SkipsLongContainersAcrossBlocksAndDepthLimits) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "[\"]\\\"[\",";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "]";
  std::string text = deep + ",0";
  EventText t;
  ASSERT_TRUE(t.classify(text));
  EXPECT_EQ(t.skip_value(text.data(), 200), text.data() + deep.size());
  EXPECT_EQ(t.skip_value(text.data(), 199), nullptr);
  std::string wide = "{\"a\":[" + std::string(500, ' ') + "\"" + std::string(300, '}') + "\"]}";
  text = wide + "]";
  ASSERT_TRUE(t.classify(text));
  EXPECT_EQ(t.skip_value(text.data(), kMaxDepth), text.data() + wide.size());
  // A nesting limit reached in the middle of a block, and a value ending at a block's end.
  std::string nested = std::string(40, '[') + std::string(40, ']');
  ASSERT_TRUE(t.classify(nested));
  EXPECT_EQ(t.skip_value(nested.data(), 40), nested.data() + 80);
  EXPECT_EQ(t.skip_value(nested.data(), 39), nullptr);
  EXPECT_EQ(t.skip_value(nested.data() + 1, 39), nested.data() + 79);
  std::string exact = "[" + std::string(62, ' ') + "]";
  ASSERT_TRUE(t.classify(exact));
  EXPECT_EQ(t.skip_value(exact.data(), 1), exact.data() + 64);
  std::string open = "[[]";
  ASSERT_TRUE(t.classify(open));
  EXPECT_EQ(t.skip_value(open.data(), 5), nullptr);
}

}  // namespace
}  // namespace eddy::rules::scan
