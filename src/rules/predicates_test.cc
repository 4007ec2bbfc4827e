#include "rules/predicates.h"

#include <gtest/gtest.h>

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
