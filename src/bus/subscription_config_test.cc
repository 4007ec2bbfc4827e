#include "bus/subscription_config.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "bus/subscription.h"

namespace eddy::bus {
namespace {

Result<SubscriptionConfig> parse(std::string_view body) {
  return SubscriptionConfig::from_json(boost::json::parse(body).as_object());
}

TEST(SubscriptionConfigTest, DefaultsFollowTheDesign) {
  auto c = parse(R"({"topic":"orders"})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mode, SubscriptionMode::queue);
  EXPECT_EQ(c->target, SubscriptionConfig::Target::pull);
  EXPECT_EQ(c->ack_deadline_ms, 30000);
  EXPECT_EQ(c->retry.max_attempts, 5u);
  EXPECT_EQ(c->retry.initial_backoff_ms, 1000);
  EXPECT_EQ(c->retry.max_backoff_ms, 60000);
  EXPECT_EQ(c->retry.retry_after_max_ms, 600000);
  EXPECT_EQ(c->start.kind, StartPosition::Kind::latest);
}

TEST(SubscriptionConfigTest, ReadsEveryField) {
  auto c = parse(R"({"topic":"orders","mode":"stream","filter":{"type":["a"]},
    "transform":{"input_paths":{"id":"$.data.id"},"input_template":"{\"order\": <id>}"},
    "target":{"url":"http://127.0.0.1:9000/hook?x=1"},"ack_deadline_ms":500,
    "retry":{"max_attempts":3,"initial_backoff_ms":10,"max_backoff_ms":100,"max_age_ms":60000,
             "retry_after_max_ms":2000},
    "dead_letter_topic":"orders.dlq","batch":{"max_events":1},"max_concurrency":4,
    "start":"2026-01-01T00:00:00Z"})");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->mode, SubscriptionMode::stream);
  EXPECT_EQ(c->filter, R"({"type":["a"]})");
  EXPECT_EQ(c->transform,
            R"({"input_paths":{"id":"$.data.id"},"input_template":"{\"order\": <id>}"})");
  EXPECT_EQ(c->target_url, "http://127.0.0.1:9000/hook?x=1");
  EXPECT_EQ(c->retry.max_age_ms, 60000);
  EXPECT_EQ(c->max_events(), 1u);
  EXPECT_EQ(c->start.kind, StartPosition::Kind::time);
  // What to_json writes reads back the same.
  auto again = SubscriptionConfig::from_json(c->to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(boost::json::serialize(again->to_json()), boost::json::serialize(c->to_json()));
}

TEST(SubscriptionConfigTest, BatchesDependOnTheTarget) {
  EXPECT_EQ(parse(R"({"topic":"t"})")->max_events(), 100u);
  EXPECT_EQ(parse(R"({"topic":"t","target":{"function":"f"}})")->max_events(), 1u);
  auto f =
      parse(R"({"topic":"t","target":{"function":"f"},"batch":{"max_events":10,"window_ms":50}})");
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->max_events(), 10u);
  EXPECT_EQ(f->batch_window_ms, 50);
  EXPECT_FALSE(
      parse(R"({"topic":"t","target":{"url":"http://h/"},"batch":{"max_events":2}})").ok());
  EXPECT_FALSE(parse(R"({"topic":"t","target":{"topic":"o"},"batch":{"window_ms":5}})").ok());
  EXPECT_FALSE(parse(R"({"topic":"t","batch":{"window_ms":5}})").ok());
  EXPECT_TRUE(parse(R"({"topic":"t","target":{"url":"http://h/"},"batch":{"max_events":1}})").ok());
}

TEST(SubscriptionConfigTest, StartTakesKeywordsOffsetsAndTimes) {
  EXPECT_EQ(parse(R"({"topic":"t","start":"earliest"})")->start.kind,
            StartPosition::Kind::earliest);
  auto o = parse(R"({"topic":"t","start":42})");
  EXPECT_EQ(o->start.kind, StartPosition::Kind::offset);
  EXPECT_EQ(o->start.value, 42);
  EXPECT_FALSE(parse(R"({"topic":"t","start":"yesterday"})").ok());
  EXPECT_FALSE(parse(R"({"topic":"t","start":-1})").ok());
}

TEST(SubscriptionConfigTest, BadInputNamesTheField) {
  struct Case {
    const char* body;
    Errc code;
    const char* mentions;
  } cases[] = {
      {R"({})", Errc::invalid_argument, "'topic' is required"},
      {R"({"topic":"t","mode":"fifo"})", Errc::invalid_argument, "'mode'"},
      {R"({"topic":"t","colour":1})", Errc::invalid_argument, "colour"},
      {R"({"topic":"t","ack_deadline_ms":0})", Errc::invalid_argument, "ack_deadline_ms"},
      {R"({"topic":"t","retry":{"max_attempts":0}})", Errc::invalid_argument, "retry.max_attempts"},
      {R"({"topic":"t","retry":{"initial_backoff_ms":500,"max_backoff_ms":100}})",
       Errc::invalid_argument, "max_backoff_ms"},
      {R"({"topic":"t","target":{"url":"ftp://x/"}})", Errc::invalid_argument, "http://"},
      {R"({"topic":"t","target":{"url":"https:///no-host"}})", Errc::invalid_argument,
       "with a host"},
      {R"({"topic":"t","target":{"pull":{},"url":"http://x/"}})", Errc::invalid_argument,
       "exactly one"},
      {R"({"topic":"t","target":{"function":""}})", Errc::invalid_argument, "target.function"},
      {R"({"topic":"t","target":{"queue":"q"}})", Errc::invalid_argument, "unknown target"},
      {R"({"topic":"t","filter":{"type":"not-a-list"}})", Errc::invalid_pattern, "filter"},
      {R"({"topic":"t","transform":"$.data"})", Errc::invalid_argument, "transform: must be"},
      {R"({"topic":"t","transform":{"select":"data.id"}})", Errc::invalid_argument,
       "transform.select: \"data.id\" is not a path"},
      {R"({"topic":"t","transform":{"input_paths":{"x":"$.a"},"input_template":"{<x>: 1}"}})",
       Errc::invalid_argument, "transform.input_template"},
      {R"({"topic":"t","dead_letter_topic":"bad name"})", Errc::invalid_argument,
       "dead_letter_topic"},
      {R"({"topic":"bad/name"})", Errc::invalid_argument, "topic name"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code, c.code) << c.body;
    EXPECT_NE(r.error().message.find(c.mentions), std::string::npos)
        << c.body << " -> " << r.error().message;
  }
}

TEST(AckIdTest, RoundTripsAndRejectsGarbage) {
  AckRef ref{true, 3, 1234567, 99};
  auto id = format_ack_id(ref);
  EXPECT_EQ(id, "r3.1234567.99");
  auto back = parse_ack_id(id);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->redrive);
  EXPECT_EQ(back->partition, 3u);
  EXPECT_EQ(back->offset, 1234567u);
  EXPECT_EQ(back->lease, 99u);
  for (const char* bad :
       {"", "1.2", "1.2.3.4", "x1.2.3", "-1.2.3", "1..3", "99999999999.1.1", "1.2.3 ", "r.1.2"}) {
    EXPECT_FALSE(parse_ack_id(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace eddy::bus
