#include "bus/event_rewrite.h"

#include <gtest/gtest.h>

#include "events/stored_json.h"

namespace eddy::bus {
namespace {

std::string stored(std::string_view structured) {
  auto evs = events::parse_structured(structured, events::Limits{});
  EXPECT_TRUE(evs.ok()) << (evs.ok() ? "" : evs.error().message);
  return evs.ok() ? (*evs)[0].json : std::string();
}

constexpr std::string_view kEvent =
    R"({"specversion":"1.0","id":"e-1","source":"/orders","type":"order.created",)"
    R"("subject":"o/7","partitionkey":"k","tries":3,"urgent":true,"data":{"n":1.50,"s":"\u00e9"}})";

TEST(EventRewriteTest, DeadLetterKeepsTheEventAndAddsItsHistory) {
  DeliveryHistory h{"billing", 5, "HTTP 503 from 127.0.0.1:9", 503, 1700000000000, 1700000004321};
  auto dl = make_dead_letter(stored(kEvent), h);
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  const auto& j = dl->json;
  EXPECT_EQ(dl->id, "e-1");
  EXPECT_EQ(events::attribute(j, "source"), "/orders");
  EXPECT_EQ(events::attribute(j, "type"), "order.created");
  EXPECT_EQ(events::attribute(j, "subject"), "o/7");
  EXPECT_EQ(events::attribute(j, "tries"), "3");
  EXPECT_EQ(events::attribute(j, "urgent"), "true");
  EXPECT_EQ(events::find_member(j, "data"), R"({"n":1.50,"s":"é"})");
  EXPECT_EQ(events::attribute(j, "eddysubscription"), "billing");
  EXPECT_EQ(events::attribute(j, "eddyattempts"), "5");
  EXPECT_EQ(events::attribute(j, "eddyerror"), "HTTP 503 from 127.0.0.1:9");
  EXPECT_EQ(events::attribute(j, "eddystatus"), "503");
  EXPECT_EQ(events::attribute(j, "eddyfirstattempt"), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(events::attribute(j, "eddylastattempt"), "2023-11-14T22:13:24.321Z");
}

TEST(EventRewriteTest, DeadLetterWithoutStatusLeavesItOut) {
  DeliveryHistory h{"s", 1, "ack deadline expired", 0, 0, 0};
  auto dl = make_dead_letter(stored(kEvent), h);
  ASSERT_TRUE(dl.ok());
  EXPECT_FALSE(events::attribute(dl->json, "eddystatus").has_value());
}

TEST(EventRewriteTest, DeadLetteringTwiceReplacesTheHistory) {
  DeliveryHistory h1{"a", 5, "first", 500, 0, 0};
  DeliveryHistory h2{"a", 2, "second", 0, 0, 0};
  auto once = make_dead_letter(stored(kEvent), h1);
  ASSERT_TRUE(once.ok());
  auto twice = make_dead_letter(once->json, h2);
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_EQ(events::attribute(twice->json, "eddyattempts"), "2");
  EXPECT_EQ(events::attribute(twice->json, "eddyerror"), "second");
  EXPECT_FALSE(events::attribute(twice->json, "eddystatus").has_value());
}

TEST(EventRewriteTest, StrippingADeadLetterGivesTheOriginalBack) {
  std::string original = stored(kEvent);
  auto dl = make_dead_letter(original, {"a", 5, "e", 500, 1, 2});
  ASSERT_TRUE(dl.ok());
  auto back = strip_dead_letter(dl->json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->json, original);
}

TEST(EventRewriteTest, BinaryDataSurvives) {
  std::string original =
      stored(R"({"specversion":"1.0","id":"b","source":"/s","type":"t","data_base64":"AAEC/w=="})");
  auto dl = make_dead_letter(original, {"a", 1, "e", 0, 0, 0});
  ASSERT_TRUE(dl.ok()) << dl.error().message;
  EXPECT_EQ(events::attribute(dl->json, "data_base64"), "AAEC/w==");
}

TEST(EventRewriteTest, LongErrorsAreCut) {
  auto dl = make_dead_letter(stored(kEvent), {"a", 1, std::string(5000, 'x'), 0, 0, 0});
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(events::attribute(dl->json, "eddyerror")->size(), 1024u);
}

TEST(EventRewriteTest, ForwardingKeepsTheIdAndCountsHops) {
  auto one = make_forwarded(stored(kEvent), 1 << 20);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->id, "e-1");
  EXPECT_EQ(one->partition_key, "k");
  EXPECT_EQ(events::attribute(one->json, "eddyhops"), "1");
  auto two = make_forwarded(one->json, 1 << 20);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(events::attribute(two->json, "eddyhops"), "2");
}

TEST(EventRewriteTest, ForwardingWithNewDataReplacesDataAndItsContentType) {
  NewData data{R"({"order":"A7"})", "application/json"};
  auto f = make_forwarded(stored(kEvent), 1 << 20, &data);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->id, "e-1");
  EXPECT_EQ(events::find_member(f->json, "data"), R"({"order":"A7"})");
  EXPECT_EQ(events::attribute(f->json, "datacontenttype"), "application/json");
  EXPECT_EQ(events::attribute(f->json, "eddyhops"), "1");
  NewData text{R"("hello")", "text/plain; charset=utf-8"};
  auto t = make_forwarded(f->json, 1 << 20, &text);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(events::find_member(t->json, "data"), R"("hello")");
  EXPECT_EQ(events::attribute(t->json, "datacontenttype"), "text/plain; charset=utf-8");
  EXPECT_EQ(events::attribute(t->json, "eddyhops"), "2");
}

TEST(EventRewriteTest, ForwardingStopsALoop) {
  std::string ev = stored(kEvent);
  for (int i = 0; i < kMaxHops; ++i) {
    auto f = make_forwarded(ev, 1 << 20);
    ASSERT_TRUE(f.ok());
    ev = f->json;
  }
  auto last = make_forwarded(ev, 1 << 20);
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, Errc::conflict);
}

TEST(EventRewriteTest, MalformedInputIsAnErrorNotACrash) {
  for (std::string_view bad : {"", "[]", "{", R"({"id":)", R"({"id":[1]})", "nonsense"}) {
    EXPECT_FALSE(make_dead_letter(bad, {"a", 1, "e", 0, 0, 0}).ok()) << bad;
  }
}

}  // namespace
}  // namespace eddy::bus
