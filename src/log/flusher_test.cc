// Group commit and the durability policies.
#include <gtest/gtest.h>

#include <condition_variable>
#include <thread>

#include "log/log_test_util.h"
#include "log/partition.h"

namespace eddy::log {
namespace {

using namespace testing;
using namespace std::chrono_literals;

// Waits for one when_durable completion.
class Completion {
 public:
  std::function<void(Status)> callback() {
    return [this](Status s) {
      std::lock_guard lk(mu_);
      status_ = std::move(s);
      done_ = true;
      cv_.notify_all();
    };
  }
  // The status, or nullopt if it did not complete within `timeout`.
  std::optional<Status> wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, timeout, [&] { return done_; })) return std::nullopt;
    return status_;
  }
  bool done() {
    std::lock_guard lk(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status status_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

class FlusherTest : public ::testing::Test {
 protected:
  std::unique_ptr<Partition> open(std::string_view durability, std::string name = "p0") {
    PartitionOptions o;
    o.dir = dir_.path() / name;
    o.durability = *Durability::parse(durability);
    o.segment_bytes = 64 << 10;
    auto p = Partition::open(std::move(o), flusher_, clock_);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(*p) : nullptr;
  }

  TempDir dir_;
  ManualClock clock_;
  Flusher flusher_;
};

TEST_F(FlusherTest, AlwaysHidesRecordsUntilTheFsyncThatCoversThem) {
  auto p = open("always");
  auto r = append_records(*p, 4);
  EXPECT_EQ(p->end_offset(), 4u);
  EXPECT_EQ(p->visible_end(), 0u);
  auto read = p->read(0, 10, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->records.empty());
  EXPECT_EQ(p->stats().fsyncs, 0u);

  Completion c;
  p->when_durable(r.end_offset, c.callback());
  auto s = c.wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok());
  EXPECT_EQ(p->visible_end(), 4u);
  EXPECT_GE(p->stats().fsyncs, 1u);
  read = p->read(0, 10, 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->records.size(), 4u);
}

TEST_F(FlusherTest, WhenDurableForSyncedRecordsCompletesInline) {
  auto p = open("always");
  auto r = append_records(*p, 2);
  ASSERT_TRUE(p->sync().ok());
  bool called = false;
  p->when_durable(r.end_offset, [&](Status s) {
    EXPECT_TRUE(s.ok());
    called = true;
  });
  EXPECT_TRUE(called);
}

TEST_F(FlusherTest, ConcurrentPublishersShareFsyncs) {
  auto p = open("always");
  constexpr int kThreads = 8;
  constexpr int kAppendsEach = 150;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsEach; ++i) {
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        std::string_view v = payload;
        auto r = p->append({&v, 1});
        ASSERT_TRUE(r.ok());
        Completion c;
        p->when_durable(r->end_offset, c.callback());
        auto s = c.wait();
        ASSERT_TRUE(s.has_value()) << "when_durable never completed";
        ASSERT_TRUE(s->ok());
        ASSERT_GE(p->visible_end(), r->end_offset);
        ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kAppendsEach);
  auto st = p->stats();
  EXPECT_EQ(st.visible_end, uint64_t{kThreads * kAppendsEach});
  EXPECT_LT(st.fsyncs, uint64_t{kThreads * kAppendsEach});
  EXPECT_GE(st.fsyncs, 1u);
}

TEST_F(FlusherTest, OneFlusherServesManyPartitions) {
  std::vector<std::unique_ptr<Partition>> parts;
  for (int i = 0; i < 4; ++i) parts.push_back(open("always", "p" + std::to_string(i)));
  std::vector<Completion> done(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    auto r = append_records(*parts[i], i + 1);
    parts[i]->when_durable(r.end_offset, done[i].callback());
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    auto s = done[i].wait();
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->ok());
    EXPECT_EQ(parts[i]->visible_end(), i + 1);
  }
}

TEST_F(FlusherTest, AlwaysListenersFireAfterTheFsync) {
  auto p = open("always");
  std::atomic<uint64_t> seen{0};
  p->add_listener([&](uint64_t v) { seen = v; });
  auto r = append_records(*p, 3);
  EXPECT_EQ(seen.load(), 0u);
  Completion c;
  p->when_durable(r.end_offset, c.callback());
  ASSERT_TRUE(c.wait().has_value());
  EXPECT_TRUE(eventually([&] { return seen.load() == 3; }));
}

TEST_F(FlusherTest, IntervalCompletesAtOnceAndSyncsInTheBackground) {
  auto p = open("interval:5");
  auto r = append_records(*p, 3);
  EXPECT_EQ(p->visible_end(), 3u);
  bool called = false;
  p->when_durable(r.end_offset, [&](Status s) {
    EXPECT_TRUE(s.ok());
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_TRUE(eventually([&] { return p->stats().fsyncs >= 1; }));
  // Nothing new written: later ticks do not fsync again.
  uint64_t after = p->stats().fsyncs;
  append_records(*p, 1);
  EXPECT_TRUE(eventually([&] { return p->stats().fsyncs == after + 1; }));
}

TEST_F(FlusherTest, NeverCompletesAtOnceWithoutSyncing) {
  auto p = open("never");
  auto r = append_records(*p, 3);
  EXPECT_EQ(p->visible_end(), 3u);
  bool called = false;
  p->when_durable(r.end_offset, [&](Status s) {
    EXPECT_TRUE(s.ok());
    called = true;
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(p->stats().fsyncs, 0u);
}

TEST_F(FlusherTest, ClosingThePartitionCompletesItsWaiters) {
  auto p = open("always");
  auto r = append_records(*p, 3);
  Completion covered, beyond;
  p->when_durable(r.end_offset, covered.callback());
  p->when_durable(r.end_offset + 10, beyond.callback());  // records never written
  p.reset();
  auto s = covered.wait(0ms);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok());
  s = beyond.wait(0ms);
  ASSERT_TRUE(s.has_value());
  ASSERT_FALSE(s->ok());
  EXPECT_EQ(s->error().code, Errc::unavailable);
}

TEST_F(FlusherTest, SwitchingAwayFromAlwaysReleasesWaitersAndShowsRecords) {
  auto p = open("always");
  auto r = append_records(*p, 3);
  Completion waiting;
  p->when_durable(r.end_offset + 1, waiting.callback());  // not yet written
  ASSERT_TRUE(p->reconfigure(*Durability::parse("never"), 1000, -1, -1).ok());
  auto s = waiting.wait(0ms);
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok());
  EXPECT_EQ(p->visible_end(), 3u);
  append_records(*p, 1);
  EXPECT_EQ(p->visible_end(), 4u);
}

TEST_F(FlusherTest, PartitionClosedBeforeItsFlusherReopensIntact) {
  auto f = std::make_unique<Flusher>();
  PartitionOptions o;
  o.dir = dir_.path() / "solo";
  o.durability = *Durability::parse("interval:1");
  {
    auto p = Partition::open(o, *f, clock_);
    ASSERT_TRUE(p.ok());
    append_records(**p, 5);
  }
  f.reset();
  PartitionOptions again = o;
  Flusher f2;
  auto p = Partition::open(again, f2, clock_);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->end_offset(), 5u);
}

}  // namespace
}  // namespace eddy::log

namespace eddy::log {
namespace {

TEST_F(FlusherTest, ACallbackMayCloseThePartitionItWaitedOn) {
  auto owned = open("always");
  Partition* p = owned.get();
  auto holder = std::make_shared<std::unique_ptr<Partition>>(std::move(owned));
  auto r = append_records(*p, 2);
  Completion closed;
  // The callback runs on the flusher thread and destroys the partition there.
  p->when_durable(r.end_offset, [holder, cb = closed.callback()](Status s) mutable {
    holder->reset();
    cb(std::move(s));
  });
  holder.reset();
  auto s = closed.wait();
  ASSERT_TRUE(s.has_value()) << "the flusher deadlocked closing the partition";
  EXPECT_TRUE(s->ok());
  auto again = open("always");
  EXPECT_EQ(again->end_offset(), 2u);
}

}  // namespace
}  // namespace eddy::log

namespace eddy::log {
namespace {

TEST_F(FlusherTest, SegmentsRolledAndDeletedBeforeAnySyncDoNotFailTheNextOne) {
  PartitionOptions o;
  o.dir = dir_.path() / "rolled";
  o.durability = *Durability::parse("always");
  o.segment_bytes = 256;
  o.retention_bytes = 0;
  auto p = Partition::open(o, flusher_, clock_);
  ASSERT_TRUE(p.ok());
  AppendResult last;
  for (int i = 0; i < 20; ++i) last = append_records(**p, 3);
  ASSERT_GT((*p)->stats().segments, 3u);
  EXPECT_EQ((*p)->visible_end(), 0u);
  ASSERT_TRUE((*p)->enforce_retention().ok());  // deletes the rolled, still unsynced ones
  EXPECT_EQ((*p)->stats().segments, 1u);
  Completion c;
  (*p)->when_durable(last.end_offset, c.callback());
  auto s = c.wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->ok()) << s->error().message;
  EXPECT_EQ((*p)->visible_end(), 60u);
}

}  // namespace
}  // namespace eddy::log
