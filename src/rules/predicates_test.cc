#include "rules/predicates.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace eddy::rules {
namespace {

TEST(FoldCase, LowercasesAsciiAndCommonScripts) {
  EXPECT_EQ(fold_case("EventBridge"), "eventbridge");
  EXPECT_EQ(fold_case("ÀÉÎÕÜ"), "àéîõü");
  EXPECT_EQ(fold_case("ĀĒĪŌŪ"), "āēīōū");
  EXPECT_EQ(fold_case("ΑΒΓΔ ΆΈΉΊΌΎΏ"), "αβγδ άέήίόύώ");
  EXPECT_EQ(fold_case("ς"), "σ");
  EXPECT_EQ(fold_case("ЁЖИК"), "ёжик");
  EXPECT_EQ(fold_case("ＡＢＣ"), "ａｂｃ");
  EXPECT_EQ(fold_case("Ÿ"), "ÿ");
  EXPECT_EQ(fold_case("ß"), "ß");  // simple folding keeps ß
  EXPECT_EQ(fold_case("×"), "×");  // not a letter
}

TEST(FoldCase, PassesInvalidUtf8Through) {
  std::string bad = "A\xC3(B\xFF";
  EXPECT_EQ(fold_case(bad), "a\xC3(b\xFF");
  EXPECT_EQ(fold_case(std::string("\xE2\x82", 2)), std::string("\xE2\x82", 2));
}

Glob G(const std::string& s) {
  std::string err;
  auto g = parse_glob(s, err);
  EXPECT_TRUE(g.has_value()) << s << ": " << err;
  return g ? *g : Glob{};
}

TEST(FoldCase, FoldsEveryAsciiByteAtEveryOffsetOfLongText) {
  // Bytes next to the letters ('@', '[', '`', '{') must stay; ASCII runs are folded several
  // bytes at a time, so every length and offset is tried, with a non-ASCII letter after.
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  for (size_t from = 0; from < all.size(); ++from) {
    for (size_t len : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{20}, size_t{127}}) {
      std::string text = all.substr(from, len);
      std::string expected = text;
      for (char& c : expected) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      EXPECT_EQ(fold_case(text), expected) << text;
      EXPECT_EQ(fold_case(text + "\xC3\x89"), expected + "\xC3\xA9") << text;
    }
  }
}

TEST(ParseIp, AgreesWithInetPtonOnDottedText) {
  std::mt19937_64 rng(3);
  static const char* kParts[] = {"0",   "1",    "9", "10", "255", "256", "01", "00", "001",
                                 "199", "1000", "",  "a",  "25",  "250", "-1", " 1"};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t parts = 3 + rng() % 3;
    for (size_t k = 0; k < parts; ++k) {
      if (k > 0) text += rng() % 20 ? "." : "..";
      text += kParts[rng() % std::size(kParts)];
    }
    unsigned char v4[4];
    bool expected = inet_pton(AF_INET, text.c_str(), v4) == 1;
    auto ip = parse_ip(text);
    if (!expected) {
      // Not IPv4; IPv6 text has colons, so nothing here is an address.
      EXPECT_FALSE(ip.has_value()) << text;
      continue;
    }
    ASSERT_TRUE(ip.has_value()) << text;
    IpAddress want{};
    want[10] = want[11] = 0xFF;
    std::memcpy(want.data() + 12, v4, 4);
    EXPECT_EQ(*ip, want) << text;
  }
}

TEST(Glob, MatchesStarsAnywhere) {
  EXPECT_TRUE(G("*").matches(""));
  EXPECT_TRUE(G("a*").matches("a"));
  EXPECT_FALSE(G("a*").matches("ba"));
  EXPECT_TRUE(G("*a").matches("ba"));
  EXPECT_TRUE(G("a*b*c").matches("abc"));
  EXPECT_TRUE(G("a*b*c").matches("a--b--b--c"));
  EXPECT_FALSE(G("a*b*c").matches("acb"));
  EXPECT_FALSE(G("ab*ba").matches("aba"));  // head and tail may not overlap
  EXPECT_TRUE(G("ab*ba").matches("abba"));
  EXPECT_TRUE(G("").matches(""));
  EXPECT_FALSE(G("").matches("x"));
}

TEST(Glob, EscapesAndErrors) {
  EXPECT_TRUE(G("a\\*").matches("a*"));
  EXPECT_FALSE(G("a\\*").matches("ab"));
  EXPECT_TRUE(G("a\\\\*").matches("a\\zz"));
  EXPECT_EQ(G("x*y\\*z").head(), "x");
  std::string err;
  EXPECT_FALSE(parse_glob("a**", err));
  EXPECT_FALSE(parse_glob("a\\b", err));
  EXPECT_FALSE(parse_glob("a\\", err));
}

TEST(Cidr, ContainsAddressesOfItsFamily) {
  std::string err;
  auto v4 = parse_cidr("192.168.4.0/22", err);
  ASSERT_TRUE(v4) << err;
  EXPECT_TRUE(v4->contains(*parse_ip("192.168.7.255")));
  EXPECT_FALSE(v4->contains(*parse_ip("192.168.8.0")));
  EXPECT_FALSE(v4->contains(*parse_ip("2001:db8::1")));
  auto v6 = parse_cidr("2001:db8:abcd::/48", err);
  ASSERT_TRUE(v6) << err;
  EXPECT_TRUE(v6->contains(*parse_ip("2001:db8:abcd:12::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("2001:db8:abce::1")));
  EXPECT_FALSE(parse_ip("10.0.0"));
  EXPECT_FALSE(parse_ip("not an ip"));
  EXPECT_FALSE(parse_ip(std::string(100, '1')));
}

TEST(NumberKey, EqualValuesShareAKey) {
  EXPECT_EQ(number_key(300), number_key(3.0e2));
  EXPECT_EQ(number_key(0.0), number_key(-0.0));
  EXPECT_NE(number_key(1), number_key(1.0000000000000002));
}

TEST(AtomHolds, TypesMustAgree) {
  Atom a;
  a.kind = AtomKind::number_eq;
  a.number = 5;
  LeafValue s{LeafValue::Type::string, "5", 0};
  LeafValue n{LeafValue::Type::number, {}, 5};
  LeafForms fs(s), fn(n);
  EXPECT_FALSE(atom_holds(a, fs));
  EXPECT_TRUE(atom_holds(a, fn));
}

}  // namespace
}  // namespace eddy::rules
