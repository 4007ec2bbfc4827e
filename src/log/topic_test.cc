#include "log/topic.h"

#include <gtest/gtest.h>

#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class TopicStoreTest : public ::testing::Test {
 protected:
  TopicStoreTest() : store_(std::make_unique<TopicStore>(dir_.path(), never(), flusher_, clock_)) {}
  static Durability never() { return *Durability::parse("never"); }
  std::shared_ptr<Topic> open(const std::string& name, uint32_t partitions) {
    TopicConfig c;
    c.partitions = partitions;
    auto t = store_->open(name, c);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() ? *t : nullptr;
  }

  TempDir dir_;
  ManualClock clock_;
  Flusher flusher_;
  std::unique_ptr<TopicStore> store_;
};

TEST(Fnv1a64Test, MatchesThePublishedTestVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST_F(TopicStoreTest, PartitionsLiveUnderTopicsNamePartition) {
  auto t = open("orders", 3);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name(), "orders");
  EXPECT_EQ(t->partition_count(), 3u);
  for (int p = 0; p < 3; ++p) {
    EXPECT_TRUE(fs::exists(dir_.path() / "topics" / "orders" / std::to_string(p) /
                           "00000000000000000000.log"));
  }
  EXPECT_EQ(store_->find("orders"), t);
  EXPECT_EQ(store_->find("other"), nullptr);
  ASSERT_EQ(store_->list().size(), 1u);
}

TEST_F(TopicStoreTest, KeyedEventsGoToTheSamePartitionEveryTime) {
  auto t = open("keyed", 7);
  for (std::string key : {"customer-1", "customer-2", "", "ключ"}) {
    uint32_t p = t->choose_partition(key);
    EXPECT_EQ(p, fnv1a64(key) % 7) << key;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(t->choose_partition(key), p);
  }
  // The mapping is a function of the key and the count only: a reopened store agrees.
  uint32_t before = t->choose_partition("customer-1");
  t.reset();
  store_ = std::make_unique<TopicStore>(dir_.path(), never(), flusher_, clock_);
  t = open("keyed", 7);
  EXPECT_EQ(t->choose_partition("customer-1"), before);
}

TEST_F(TopicStoreTest, UnkeyedEventsSpreadRoundRobin) {
  auto t = open("spread", 4);
  std::vector<int> counts(4);
  for (int i = 0; i < 400; ++i) ++counts[t->choose_partition(std::nullopt)];
  for (int c : counts) EXPECT_EQ(c, 100);
}

TEST_F(TopicStoreTest, ReopeningAnOpenTopicReturnsIt) {
  auto t = open("again", 2);
  EXPECT_EQ(open("again", 2), t);
  TopicConfig c;
  c.partitions = 3;
  auto r = store_->open("again", c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::conflict);
}

TEST_F(TopicStoreTest, RecordsSurviveAStoreRestart) {
  auto t = open("durable", 2);
  append_records(t->partition(1), 5);
  t.reset();
  store_ = std::make_unique<TopicStore>(dir_.path(), never(), flusher_, clock_);
  t = open("durable", 2);
  EXPECT_EQ(t->partition(0).end_offset(), 0u);
  EXPECT_EQ(t->partition(1).end_offset(), 5u);
}

TEST_F(TopicStoreTest, DropClosesAndDeletesTheTopic) {
  auto t = open("gone", 2);
  append_records(t->partition(0), 3);
  t.reset();
  ASSERT_TRUE(store_->drop("gone").ok());
  EXPECT_EQ(store_->find("gone"), nullptr);
  EXPECT_FALSE(fs::exists(dir_.path() / "topics" / "gone"));
  EXPECT_TRUE(fs::is_empty(dir_.path() / "topics"));
  auto again = store_->drop("gone");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::not_found);
  // The name can be used again, from offset 0.
  t = open("gone", 1);
  EXPECT_EQ(t->partition(0).end_offset(), 0u);
}

TEST_F(TopicStoreTest, DropWhileAnotherHolderAppendsDoesNotCrash) {
  auto t = open("busy", 1);
  ASSERT_TRUE(store_->drop("busy").ok());
  append_records(t->partition(0), 2);  // writes to the unlinked files
  EXPECT_EQ(t->partition(0).end_offset(), 2u);
  EXPECT_FALSE(fs::exists(dir_.path() / "topics" / "busy"));
}

TEST_F(TopicStoreTest, RemoveOrphansDeletesWhatTheCatalogDoesNotKnow) {
  open("known", 1);
  open("open-but-unlisted", 1);
  fs::create_directories(dir_.path() / "topics" / "stray" / "0");
  fs::create_directories(dir_.path() / "topics" / ".deleted-old-123" / "0");
  fs::create_directories(dir_.path() / "topics" / "listed-not-open");
  store_->remove_orphans({"known", "listed-not-open"});
  EXPECT_TRUE(fs::exists(dir_.path() / "topics" / "known"));
  EXPECT_TRUE(fs::exists(dir_.path() / "topics" / "open-but-unlisted"));
  EXPECT_TRUE(fs::exists(dir_.path() / "topics" / "listed-not-open"));
  EXPECT_FALSE(fs::exists(dir_.path() / "topics" / "stray"));
  EXPECT_FALSE(fs::exists(dir_.path() / "topics" / ".deleted-old-123"));
}

TEST_F(TopicStoreTest, NamesThatCouldEscapeTheDataDirectoryAreRefused) {
  TopicConfig c;
  const std::vector<std::string> names{
      "", "..", ".", "../x", "a/b", ".hidden", std::string(201, 'a'), std::string("nul\0l", 5)};
  for (const std::string& bad : names) {
    auto t = store_->open(bad, c);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code, Errc::invalid_argument);
    EXPECT_EQ(store_->drop(bad).error().code, Errc::invalid_argument);
  }
  c.partitions = 0;
  auto t = store_->open("zero", c);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, Errc::invalid_argument);
}

TEST_F(TopicStoreTest, ReconfigureSwapsTheConfigAndKeepsThePartitions) {
  TopicConfig c;
  c.partitions = 1;
  auto t = *store_->open("conf", c);
  auto& part = t->partition(0);
  for (int i = 0; i < 200; ++i) append_records(part, 5);
  c.retention_bytes = 1;
  c.durability = *Durability::parse("interval:50");
  auto r = store_->reconfigure("conf", c);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->config().retention_bytes, 1);
  EXPECT_EQ((*r)->config().durability->to_string(), "interval:50");
  EXPECT_EQ(store_->find("conf"), *r);
  EXPECT_EQ(&(*r)->partition(0), &part);       // same partition objects
  EXPECT_EQ(t->config().retention_bytes, -1);  // the old object is unchanged
  EXPECT_EQ(part.end_offset(), 1000u);
  c.partitions = 2;
  auto bad = store_->reconfigure("conf", c);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::conflict);
  EXPECT_EQ(store_->reconfigure("missing", c).error().code, Errc::not_found);
}

TEST_F(TopicStoreTest, EnforceRetentionRunsOnEveryPartition) {
  TopicConfig c;
  c.partitions = 2;
  c.retention_ms = 1000;  // segments then roll every second too
  auto t = *store_->open("old", c);
  for (uint32_t p = 0; p < 2; ++p) append_records(t->partition(p), 4);
  clock_.advance(5000);
  store_->enforce_retention();  // rolls the aged active segments, then deletes them
  for (uint32_t p = 0; p < 2; ++p) {
    EXPECT_EQ(t->partition(p).start_offset(), 4u);
    EXPECT_EQ(t->partition(p).end_offset(), 4u);
  }
}

}  // namespace
}  // namespace eddy::log
