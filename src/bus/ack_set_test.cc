#include "bus/ack_set.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <random>
#include <set>

namespace eddy::bus {
namespace {

TEST(AckSetTest, AckingTheLowWaterMarkAdvancesIt) {
  AckSet s(10);
  EXPECT_TRUE(s.add(10));
  EXPECT_EQ(s.committed(), 11u);
  EXPECT_TRUE(s.runs().empty());
  EXPECT_EQ(s.count_above(), 0u);
}

TEST(AckSetTest, AcksAboveTheMarkAreKeptAsRunsUntilTheGapCloses) {
  AckSet s(0);
  s.add(2);
  s.add(3);
  s.add(5);
  EXPECT_EQ(s.committed(), 0u);
  EXPECT_EQ(s.runs().size(), 2u);
  EXPECT_EQ(s.count_above(), 3u);
  EXPECT_TRUE(s.contains(3));
  EXPECT_FALSE(s.contains(4));
  s.add(0);
  s.add(1);
  EXPECT_EQ(s.committed(), 4u);  // 0..3 done; 4 still open
  s.add(4);
  EXPECT_EQ(s.committed(), 6u);
  EXPECT_TRUE(s.runs().empty());
  EXPECT_EQ(s.count_above(), 0u);
}

TEST(AckSetTest, AddingTwiceOrBelowTheMarkChangesNothing) {
  AckSet s(5);
  EXPECT_FALSE(s.add(3));
  s.add(7);
  EXPECT_FALSE(s.add(7));
  EXPECT_EQ(s.count_above(), 1u);
  EXPECT_EQ(s.add_range(6, 9), 2u);  // 6 and 8 are new
  EXPECT_EQ(s.count_above(), 3u);
  EXPECT_EQ(s.runs().size(), 1u);
}

TEST(AckSetTest, RangesMergeWithRunsTheyTouch) {
  AckSet s(0);
  s.add_range(10, 20);
  s.add_range(30, 40);
  s.add_range(20, 30);
  ASSERT_EQ(s.runs().size(), 1u);
  EXPECT_EQ(s.runs().begin()->first, 10u);
  EXPECT_EQ(s.runs().begin()->second, 40u);
  EXPECT_EQ(s.add_range(0, 10), 10u);
  EXPECT_EQ(s.committed(), 40u);
}

TEST(AckSetTest, MatchesAPlainSetUnderRandomAcks) {
  std::mt19937 rng(7);
  AckSet s(100);
  std::set<uint64_t> done;
  for (int i = 0; i < 20000; ++i) {
    uint64_t o = 100 + rng() % 3000;
    if (rng() % 4 == 0) {
      uint64_t e = o + rng() % 20;
      s.add_range(o, e);
      for (uint64_t x = o; x < e; ++x) done.insert(x);
    } else {
      s.add(o);
      done.insert(o);
    }
  }
  uint64_t expect_committed = 100;
  while (done.count(expect_committed)) ++expect_committed;
  EXPECT_EQ(s.committed(), expect_committed);
  uint64_t above = 0;
  for (uint64_t x : done) above += x >= expect_committed;
  EXPECT_EQ(s.count_above(), above);
  for (uint64_t x = 100; x < 3200; ++x) EXPECT_EQ(s.contains(x), done.count(x) > 0) << x;
}

TEST(AckSetTest, RoundTripsThroughJson) {
  AckSet s(3);
  s.add_range(5, 8);
  s.add(10);
  auto text = boost::json::serialize(s.to_json());
  EXPECT_EQ(text, R"({"committed":3,"acks":[[5,8],[10,11]]})");
  auto back = AckSet::from_json(boost::json::parse(text));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->committed(), 3u);
  EXPECT_EQ(back->count_above(), 4u);
  EXPECT_TRUE(back->contains(10));
  EXPECT_FALSE(back->contains(9));
}

TEST(AckSetTest, RejectsMalformedState) {
  for (const char* bad :
       {R"([])", R"({})", R"({"committed":-1})",
        R"({"committed":3,"acks":[[2,4]]})",  // below the mark
        R"({"committed":3,"acks":[[3,4]]})",  // touches the mark
        R"({"committed":0,"acks":[[5,4]]})",  // inverted
        R"({"committed":0,"acks":[[5,8],[6,9]]})", R"({"committed":0,"acks":[[5]]})"}) {
    auto r = AckSet::from_json(boost::json::parse(bad));
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::corrupt);
    }
  }
}

}  // namespace
}  // namespace eddy::bus
