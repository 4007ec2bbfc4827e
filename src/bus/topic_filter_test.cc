#include "bus/topic_filter.h"

#include <gtest/gtest.h>

#include "log/partition.h"
#include "log/topic.h"

namespace eddy::bus {
namespace {

std::shared_ptr<log::Topic> make_topic() {
  return std::make_shared<log::Topic>("t", log::TopicConfig{},
                                      std::vector<std::unique_ptr<log::Partition>>{});
}

rules::Pattern P(const std::string& json) {
  auto p = rules::compile_pattern(json);
  EXPECT_TRUE(p.ok()) << json;
  return p.ok() ? std::move(*p) : rules::Pattern{};
}

constexpr std::string_view kRed = R"({"id":"1","type":"t","data":{"color":"red","n":5}})";
constexpr std::string_view kBlue = R"({"id":"2","type":"t","data":{"color":"blue","n":50}})";

class TopicFilterTest : public ::testing::Test {
 protected:
  std::shared_ptr<log::Topic> topic_ = make_topic();
  TopicFilter filters_{topic_};
};

TEST_F(TopicFilterTest, EachFilterPassesItsOwnEvents) {
  const uint64_t red = filters_.new_id(), small = filters_.new_id();
  ASSERT_TRUE(filters_.set(red, P(R"({"data":{"color":["red"]}})")).ok());
  ASSERT_TRUE(filters_.set(small, P(R"({"data":{"n":[{"numeric":["<",10]}]}})")).ok());
  EXPECT_TRUE(filters_.passes(red, 0, 0, kRed));
  EXPECT_TRUE(filters_.passes(small, 0, 0, kRed));
  EXPECT_FALSE(filters_.passes(red, 0, 1, kBlue));
  EXPECT_FALSE(filters_.passes(small, 0, 1, kBlue));
}

TEST_F(TopicFilterTest, OneMatchServesEverySubscriptionReadingTheEvent) {
  const uint64_t a = filters_.new_id(), b = filters_.new_id();
  ASSERT_TRUE(filters_.set(a, P(R"({"data":{"color":["red"]}})")).ok());
  ASSERT_TRUE(filters_.set(b, P(R"({"data":{"color":["blue"]}})")).ok());
  EXPECT_TRUE(filters_.passes(a, 3, 7, kRed));
  EXPECT_EQ(filters_.remembered(), 0u);
  EXPECT_FALSE(filters_.passes(b, 3, 7, kRed));
  EXPECT_EQ(filters_.remembered(), 1u);
  // Same offset of another partition is another event.
  EXPECT_TRUE(filters_.passes(b, 2, 7, kBlue));
  EXPECT_EQ(filters_.remembered(), 1u);
}

TEST_F(TopicFilterTest, ChangingOneFilterForgetsRememberedAnswersButNotTheOthers) {
  const uint64_t a = filters_.new_id(), b = filters_.new_id();
  ASSERT_TRUE(filters_.set(a, P(R"({"data":{"color":["red"]}})")).ok());
  ASSERT_TRUE(filters_.set(b, P(R"({"data":{"color":["red"]}})")).ok());
  EXPECT_TRUE(filters_.passes(a, 0, 0, kRed));

  ASSERT_TRUE(filters_.set(a, P(R"({"data":{"color":["blue"]}})")).ok());
  EXPECT_FALSE(filters_.passes(a, 0, 0, kRed));
  EXPECT_TRUE(filters_.passes(b, 0, 0, kRed));

  filters_.remove(a);
  EXPECT_FALSE(filters_.passes(a, 0, 1, kBlue));
  EXPECT_TRUE(filters_.passes(b, 0, 0, kRed));
  EXPECT_FALSE(filters_.passes(b, 0, 1, kBlue));
}

TEST_F(TopicFilterTest, ASlotReusedByALaterOffsetIsNotTakenForTheEarlierOne) {
  const uint64_t a = filters_.new_id();
  ASSERT_TRUE(filters_.set(a, P(R"({"data":{"color":["red"]}})")).ok());
  EXPECT_TRUE(filters_.passes(a, 0, 5, kRed));
  EXPECT_FALSE(filters_.passes(a, 0, 5 + 1024, kBlue));
  EXPECT_TRUE(filters_.passes(a, 0, 5, kRed));
}

TEST_F(TopicFilterTest, ServesOnlyItsOwnTopic) {
  EXPECT_TRUE(filters_.serves(topic_));
  EXPECT_FALSE(filters_.serves(make_topic()));
  EXPECT_FALSE(filters_.serves(nullptr));
}

}  // namespace
}  // namespace eddy::bus
