// SubscriptionManager over a real log, catalog and two io threads, without HTTP:
// fan-out, competing pullers racing a publisher, long-poll wake-ups, dead letters, and ack
// state across a reopen. Run under TSan (`make tsan`) these also check the locking.
#include "bus/subscriptions.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/io_threads.h"
#include "events/cloud_event.h"
#include "events/stored_json.h"
#include "log/topic.h"

namespace eddy::bus {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class SubscriptionsTest : public ::testing::Test {
 protected:
  SubscriptionsTest() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("eddy-subs-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    open();
  }
  ~SubscriptionsTest() override {
    close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void open() {
    auto catalog = catalog::Catalog::open(dir_ / "catalog.db");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    flusher_ = std::make_unique<log::Flusher>();
    auto d = log::Durability::parse("interval:5");
    store_ = std::make_unique<log::TopicStore>(dir_, *d, *flusher_, SystemClock::instance());
    topics_ = std::make_unique<TopicManager>(*catalog_, *store_, SystemClock::instance());
    ASSERT_TRUE(topics_->open_all().ok());
    io_ = std::make_unique<IoThreads>(2);
    subs_ =
        std::make_unique<SubscriptionManager>(*io_, *catalog_, *topics_, SystemClock::instance());
    ASSERT_TRUE(subs_->open_all().ok());
    io_->start();
  }

  // In the App's order: stop subscriptions, stop io, then tear down.
  void close() {
    if (!subs_) return;
    subs_->stop();
    io_->stop();
    io_->join();
    subs_.reset();
    topics_.reset();
    store_.reset();
    flusher_.reset();
    io_.reset();
    catalog_.reset();
  }

  void create_topic(const std::string& name, int partitions) {
    ASSERT_TRUE(topics_->put(name, json::object{{"partitions", partitions}}).ok());
  }

  void create_sub(const std::string& name, std::string_view spec) {
    auto r = subs_->put(name, json::parse(spec).as_object());
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  std::vector<std::string> publish(const std::string& topic, int n, int first = 0) {
    std::vector<events::Event> evs;
    std::vector<std::string> ids;
    for (int i = first; i < first + n; ++i) {
      auto id = "ev-" + std::to_string(i);
      auto e = events::parse_structured(R"({"specversion":"1.0","id":")" + id +
                                            R"(","source":"/t","type":"t","data":)" +
                                            std::to_string(i) + "}",
                                        events::Limits{});
      EXPECT_TRUE(e.ok());
      evs.push_back(std::move((*e)[0]));
      ids.push_back(id);
    }
    std::promise<bool> done;
    topics_->publish(topics_->find(topic), std::move(evs),
                     [&](Result<std::vector<PublishedEvent>> r) { done.set_value(r.ok()); });
    EXPECT_TRUE(done.get_future().get());
    return ids;
  }

  std::vector<PulledMessage> pull(const std::string& sub, int max, int wait_ms = 0) {
    std::promise<Result<std::vector<PulledMessage>>> p;
    subs_->pull(sub, json::object{{"max_events", max}, {"wait_ms", wait_ms}},
                [&](Result<std::vector<PulledMessage>> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(*r) : std::vector<PulledMessage>();
  }

  size_t ack(const std::string& sub, const std::vector<PulledMessage>& msgs) {
    json::array ids;
    for (const auto& m : msgs) ids.push_back(json::value(m.ack_id));
    auto r = subs_->ack(sub, json::object{{"ack_ids", ids}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? static_cast<size_t>(r->at("acked").as_uint64()) : 0;
  }

  static std::string id_of(const PulledMessage& m) {
    return events::attribute(m.event, "id").value_or("");
  }

  std::filesystem::path dir_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<log::Flusher> flusher_;
  std::unique_ptr<log::TopicStore> store_;
  std::unique_ptr<TopicManager> topics_;
  std::unique_ptr<IoThreads> io_;
  std::unique_ptr<SubscriptionManager> subs_;
};

TEST_F(SubscriptionsTest, EverySubscriptionGetsEveryEventOnce) {
  create_topic("t", 3);
  for (auto name : {"a", "b", "c"}) create_sub(name, R"({"topic":"t"})");
  auto ids = publish("t", 200);
  for (auto name : {"a", "b", "c"}) {
    std::multiset<std::string> got;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < ids.size() && std::chrono::steady_clock::now() < deadline) {
      auto msgs = pull(name, 64, 200);
      EXPECT_EQ(ack(name, msgs), msgs.size());
      for (const auto& m : msgs) got.insert(id_of(m));
    }
    EXPECT_EQ(got, std::multiset<std::string>(ids.begin(), ids.end())) << name;
    EXPECT_TRUE(pull(name, 10, 0).empty());
  }
}

TEST_F(SubscriptionsTest, CompetingPullersRacingAPublisherSeeEachEventOnce) {
  create_topic("t", 2);
  create_sub("q", R"({"topic":"t"})");
  constexpr int kEvents = 2000;
  std::mutex mu;
  std::multiset<std::string> got;
  std::atomic<bool> publishing{true};
  std::thread publisher([&] {
    for (int i = 0; i < kEvents; i += 50) publish("t", 50, i);
    publishing = false;
  });
  std::vector<std::thread> pullers;
  for (int w = 0; w < 4; ++w) {
    pullers.emplace_back([&] {
      auto deadline = std::chrono::steady_clock::now() + 20s;
      for (;;) {
        auto msgs = pull("q", 37, 50);
        ack("q", msgs);
        std::lock_guard lock(mu);
        for (const auto& m : msgs) got.insert(id_of(m));
        if ((!publishing && msgs.empty() && got.size() >= kEvents) ||
            std::chrono::steady_clock::now() > deadline) {
          return;
        }
      }
    });
  }
  publisher.join();
  for (auto& t : pullers) t.join();
  EXPECT_EQ(got.size(), size_t(kEvents));
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), size_t(kEvents));
}

TEST_F(SubscriptionsTest, FilteredSubscriptionsOfOneTopicReadingConcurrentlyGetTheirOwnEvents) {
  // Their filters are one matcher whose answers they share; each reads on its own thread.
  create_topic("t", 2);
  create_sub("low", R"({"topic":"t","filter":{"data":[{"numeric":["<",700]}]}})");
  create_sub("high", R"({"topic":"t","filter":{"data":[{"numeric":[">=",700]}]}})");
  create_sub("middle", R"({"topic":"t","filter":{"data":[{"numeric":[">=",500,"<",1500]}]}})");
  constexpr int kEvents = 2000;
  std::thread publisher([&] {
    for (int i = 0; i < kEvents; i += 50) publish("t", 50, i);
  });
  auto expect = [](int from, int to) {
    std::multiset<std::string> ids;
    for (int i = from; i < to; ++i) ids.insert("ev-" + std::to_string(i));
    return ids;
  };
  const std::map<std::string, std::multiset<std::string>> want = {
      {"low", expect(0, 700)}, {"high", expect(700, kEvents)}, {"middle", expect(500, 1500)}};
  std::map<std::string, std::multiset<std::string>> got;
  std::vector<std::thread> pullers;
  for (const auto& [name, ids] : want) {
    auto& mine = got[name];
    pullers.emplace_back([&, name = name, n = ids.size()] {
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (mine.size() < n && std::chrono::steady_clock::now() < deadline) {
        auto msgs = pull(name, 64, 50);
        ack(name, msgs);
        for (const auto& m : msgs) mine.insert(id_of(m));
      }
    });
  }
  publisher.join();
  for (auto& t : pullers) t.join();
  for (const auto& [name, ids] : want) EXPECT_EQ(got[name], ids) << name;
}

TEST_F(SubscriptionsTest, LongPollIsAnsweredByTheNextPublish) {
  create_topic("t", 1);
  create_sub("s", R"({"topic":"t"})");
  auto waiting = std::async(std::launch::async, [&] { return pull("s", 10, 10000); });
  auto start = std::chrono::steady_clock::now();
  while (subs_->describe("s")->at("stats").as_object().at("waiting_pullers").as_uint64() == 0) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, 5s);
    std::this_thread::yield();
  }
  publish("t", 1);
  auto msgs = waiting.get();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(id_of(msgs[0]), "ev-0");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(SubscriptionsTest, NackedEventGoesToTheDeadLetterTopicAfterMaxAttempts) {
  create_topic("t", 1);
  create_sub("s", R"({"topic":"t","dead_letter_topic":"dl","retry":{"max_attempts":2}})");
  publish("t", 1);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto msgs = pull("s", 1, 1000);
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].delivery_attempt, uint32_t(attempt));
    json::array ids{json::value(msgs[0].ack_id)};
    ASSERT_TRUE(subs_->nack("s", json::object{{"ack_ids", ids}}).ok());
  }
  auto dl = topics_->find("dl");
  ASSERT_TRUE(dl);
  auto start = std::chrono::steady_clock::now();
  while (dl->partition(0).visible_end() == 0) {
    ASSERT_LT(std::chrono::steady_clock::now() - start, 5s);
    std::this_thread::sleep_for(1ms);
  }
  auto r = dl->partition(0).read(0, 10, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(events::attribute(r->records[0].payload, "id"), "ev-0");
  EXPECT_EQ(events::attribute(r->records[0].payload, "eddyattempts"), "2");
  EXPECT_TRUE(pull("s", 1, 0).empty());
}

TEST_F(SubscriptionsTest, AckStateSurvivesAReopen) {
  create_topic("t", 2);
  create_sub("s", R"({"topic":"t"})");
  publish("t", 40);
  std::vector<PulledMessage> all;
  while (all.size() < 40) {
    auto msgs = pull("s", 100, 500);
    ASSERT_FALSE(msgs.empty());
    all.insert(all.end(), msgs.begin(), msgs.end());
  }
  std::vector<PulledMessage> even;
  std::set<std::string> odd;
  for (const auto& m : all) {
    (std::stoi(id_of(m).substr(3)) % 2 == 0 ? even.push_back(m) : (void)odd.insert(id_of(m)));
  }
  EXPECT_EQ(ack("s", even), 20u);
  close();
  open();
  std::set<std::string> again;
  for (int i = 0; i < 10 && again.size() < 20; ++i) {
    auto msgs = pull("s", 100, 500);
    ack("s", msgs);
    for (const auto& m : msgs) again.insert(id_of(m));
  }
  EXPECT_EQ(again, odd);
}

}  // namespace
}  // namespace eddy::bus
