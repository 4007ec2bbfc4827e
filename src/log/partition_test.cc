#include "log/partition.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <thread>

#include "log/format.h"
#include "log/log_test_util.h"

namespace eddy::log {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class PartitionTest : public ::testing::Test {
 protected:
  PartitionOptions options(Durability::Mode mode = Durability::Mode::never) {
    PartitionOptions o;
    o.dir = dir_.path() / "p0";
    o.durability.mode = mode;
    o.segment_bytes = 1024;
    o.index_interval_bytes = 100;
    return o;
  }
  std::unique_ptr<Partition> open(PartitionOptions o) {
    auto p = Partition::open(std::move(o), flusher_, clock_);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(*p) : nullptr;
  }
  std::unique_ptr<Partition> open() { return open(options()); }

  // Appends batches of 1..5 records until the partition holds `records`, with the clock
  // moving 1 ms per batch. Returns the end offsets of the batches.
  std::vector<uint64_t> fill(Partition& p, uint64_t records) {
    std::vector<uint64_t> ends;
    size_t n = 1;
    while (p.end_offset() < records) {
      size_t count = std::min<uint64_t>(n, records - p.end_offset());
      ends.push_back(append_records(p, count).end_offset);
      clock_.advance(1);
      n = n % 5 + 1;
    }
    return ends;
  }

  void expect_every_offset_readable(const Partition& p, uint64_t start, uint64_t end) {
    for (uint64_t o = start; o < end; ++o) {
      auto r = p.read(o, 3, 1 << 20);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_FALSE(r->records.empty()) << "offset " << o;
      for (size_t i = 0; i < r->records.size(); ++i) {
        ASSERT_EQ(r->records[i].offset, o + i);
        ASSERT_EQ(r->records[i].payload, payload_for(o + i));
      }
      ASSERT_EQ(r->next_offset, o + r->records.size());
    }
  }

  TempDir dir_;
  ManualClock clock_;
  Flusher flusher_;
};

TEST(DurabilityTest, ParsesThePoliciesAndRejectsTheRest) {
  EXPECT_EQ(Durability::parse("always")->mode, Durability::Mode::always);
  EXPECT_EQ(Durability::parse("never")->mode, Durability::Mode::never);
  auto d = Durability::parse("interval:250");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, Durability::Mode::interval);
  EXPECT_EQ(d->interval.count(), 250);
  EXPECT_EQ(d->to_string(), "interval:250");
  for (const char* bad : {"", "sometimes", "interval:", "interval:0", "interval:-5",
                          "interval:10ms", "Always", "interval:99999999999"}) {
    auto r = Durability::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
}

TEST_F(PartitionTest, AppendThenReadReturnsTheBatchInOrder) {
  auto p = open();
  std::vector<std::string_view> batch{"one", "", "three"};
  auto r = p->append(batch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 0u);
  EXPECT_EQ(r->end_offset, 3u);
  auto got = p->read(0, 10, 1 << 20);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 3u);
  EXPECT_EQ(got->records[0].payload, "one");
  EXPECT_EQ(got->records[1].payload, "");
  EXPECT_EQ(got->records[2].payload, "three");
  EXPECT_EQ(got->records[2].offset, 2u);
  EXPECT_EQ(got->records[0].time_ms, clock_.now_ms());
  EXPECT_EQ(got->next_offset, 3u);
}

TEST_F(PartitionTest, EmptyAppendAppendsNothing) {
  auto p = open();
  append_records(*p, 2);
  auto r = p->append({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 2u);
  EXPECT_EQ(r->end_offset, 2u);
  EXPECT_EQ(p->end_offset(), 2u);
}

TEST_F(PartitionTest, ReadsAtEveryOffsetAcrossSegmentRolls) {
  auto p = open();
  fill(*p, 600);
  EXPECT_GT(p->stats().segments, 10u);
  expect_every_offset_readable(*p, 0, 600);
  std::vector<ReadResult> keep;
  auto all = read_all(*p, 0, keep);
  ASSERT_EQ(all.size(), 600u);
}

TEST_F(PartitionTest, SegmentFilesAreNamedByBaseOffset) {
  auto p = open();
  fill(*p, 200);
  std::vector<uint64_t> bases;
  for (const auto& e : fs::directory_iterator(dir_.path() / "p0")) {
    uint64_t base;
    if (format::parse_file_name(e.path().filename().string(), "log", base)) bases.push_back(base);
  }
  std::sort(bases.begin(), bases.end());
  ASSERT_EQ(bases.size(), p->stats().segments);
  EXPECT_EQ(bases.front(), 0u);
  EXPECT_TRUE(fs::exists(dir_.path() / "p0" / "00000000000000000000.log"));
  EXPECT_TRUE(fs::exists(dir_.path() / "p0" / "00000000000000000000.index"));
  EXPECT_TRUE(fs::exists(dir_.path() / "p0" / "00000000000000000000.timeindex"));
  // Each later segment starts where a read says the previous one ended.
  for (size_t i = 1; i < bases.size(); ++i) {
    auto r = p->read(bases[i], 1, 1);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->records.size(), 1u);
    EXPECT_EQ(r->records[0].offset, bases[i]);
  }
}

TEST_F(PartitionTest, ReadStopsNearMaxBytesButReturnsAtLeastOneRecord) {
  auto p = open();
  std::string big(5000, 'x');
  std::vector<std::string_view> batch{big, big, big};
  ASSERT_TRUE(p->append(batch).ok());
  auto r = p->read(0, 10, 100);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].payload, big);
  EXPECT_EQ(r->next_offset, 1u);
  r = p->read(0, 10, 10000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records.size(), 2u);
}

TEST_F(PartitionTest, ReadHonoursMaxRecords) {
  auto p = open();
  append_records(*p, 50);
  auto r = p->read(10, 4, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 4u);
  EXPECT_EQ(r->records[0].offset, 10u);
  EXPECT_EQ(r->next_offset, 14u);
}

TEST_F(PartitionTest, ReadAtOrPastTheEndReturnsNothing) {
  auto p = open();
  append_records(*p, 5);
  for (uint64_t o : {5ull, 6ull, 1000ull}) {
    auto r = p->read(o, 10, 1 << 20);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->records.empty());
    EXPECT_EQ(r->next_offset, o);
  }
}

TEST_F(PartitionTest, ReopenKeepsEveryRecordAndContinuesTheOffsets) {
  {
    auto p = open();
    fill(*p, 300);
  }
  auto p = open();
  EXPECT_EQ(p->start_offset(), 0u);
  EXPECT_EQ(p->end_offset(), 300u);
  EXPECT_EQ(p->visible_end(), 300u);
  expect_every_offset_readable(*p, 0, 300);
  auto r = append_records(*p, 3);
  EXPECT_EQ(r.first_offset, 300u);
  expect_every_offset_readable(*p, 290, 303);
}

TEST_F(PartitionTest, OffsetForTimeFindsTheFirstRecordAtOrAfterTheTime) {
  auto p = open();
  const int64_t t0 = clock_.now_ms();
  std::vector<std::pair<int64_t, uint64_t>> first_at;  // batch time -> its first offset
  for (int i = 0; i < 150; ++i) {
    uint64_t first = p->end_offset();
    append_records(*p, 1 + i % 4);
    first_at.emplace_back(clock_.now_ms(), first);
    clock_.advance(i % 3 == 0 ? 0 : 7);  // some batches share a millisecond
  }
  ASSERT_GT(p->stats().segments, 3u);
  auto expect_all = [&](const Partition& part) {
    EXPECT_EQ(part.offset_for_time(t0 - 1000), 0u);
    for (int64_t t = t0 - 1; t <= first_at.back().first + 1; ++t) {
      uint64_t want = part.end_offset();
      for (const auto& [bt, off] : first_at) {
        if (bt >= t) {
          want = off;
          break;
        }
      }
      ASSERT_EQ(part.offset_for_time(t), want) << "time " << t;
    }
  };
  expect_all(*p);
  p.reset();
  p = open();  // closed segments now answer from their index files
  expect_all(*p);
}

TEST_F(PartitionTest, AppendTimesNeverGoBackwards) {
  auto p = open();
  append_records(*p, 1);
  const int64_t t = clock_.now_ms();
  clock_.advance(-5000);  // the wall clock steps back
  append_records(*p, 1);
  clock_.set(t + 3);
  append_records(*p, 1);
  auto r = p->read(0, 10, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 3u);
  EXPECT_EQ(r->records[0].time_ms, t);
  EXPECT_EQ(r->records[1].time_ms, t);
  EXPECT_EQ(r->records[2].time_ms, t + 3);
  EXPECT_EQ(p->offset_for_time(t + 1), 2u);
}

TEST_F(PartitionTest, OldActiveSegmentRollsOnAppend) {
  auto o = options();
  o.segment_bytes = 1 << 20;
  o.segment_ms = 1000;
  auto p = open(o);
  append_records(*p, 1);
  clock_.advance(999);
  append_records(*p, 1);
  EXPECT_EQ(p->stats().segments, 1u);
  clock_.advance(1);
  append_records(*p, 1);
  EXPECT_EQ(p->stats().segments, 2u);
  expect_every_offset_readable(*p, 0, 3);
}

TEST_F(PartitionTest, StatsCountRecordsBytesAndSegments) {
  auto p = open();
  fill(*p, 100);
  auto st = p->stats();
  EXPECT_EQ(st.start_offset, 0u);
  EXPECT_EQ(st.end_offset, 100u);
  EXPECT_EQ(st.visible_end, 100u);
  EXPECT_EQ(st.appended_records, 100u);
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir_.path() / "p0")) {
    if (e.path().extension() == ".log") bytes += e.file_size();
  }
  EXPECT_EQ(st.size_bytes, bytes);
}

TEST_F(PartitionTest, ListenersFireWhenVisibleEndAdvances) {
  auto p = open();
  std::atomic<uint64_t> seen{0};
  std::atomic<int> calls{0};
  uint64_t id = p->add_listener([&](uint64_t v) {
    seen = v;
    ++calls;
  });
  append_records(*p, 3);
  EXPECT_EQ(seen.load(), 3u);
  append_records(*p, 2);
  EXPECT_EQ(seen.load(), 5u);
  EXPECT_EQ(calls.load(), 2);
  p->remove_listener(id);
  append_records(*p, 1);
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(PartitionTest, ListenerMayReadThePartition) {
  auto p = open();
  std::vector<std::string> got;
  p->add_listener([&](uint64_t v) {
    auto r = p->read(v - 1, 1, 1 << 20);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->records.size(), 1u);
    got.emplace_back(r->records[0].payload);
  });
  append_records(*p, 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], payload_for(1));
}

TEST_F(PartitionTest, ConcurrentReadersSeeOnlyWholeCorrectRecords) {
  auto o = options();
  o.segment_bytes = 8192;
  auto p = open(o);
  constexpr uint64_t kRecords = 3000;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checked{0};
  auto reader = [&] {
    uint64_t offset = 0;
    while (offset < kRecords) {
      const bool writer_done = done;  // before the read: then everything must be there
      auto r = p->read(offset, 50, 1 << 16);
      ASSERT_TRUE(r.ok()) << r.error().message;
      for (const auto& rec : r->records) {
        ASSERT_EQ(rec.offset, offset);
        ASSERT_EQ(rec.payload, payload_for(offset));
        ++offset;
      }
      ASSERT_LE(offset, p->visible_end());
      checked += r->records.size();
      if (r->records.empty() && writer_done) {
        ASSERT_EQ(offset, kRecords);
      }
    }
  };
  std::thread r1(reader), r2(reader);
  std::thread stats_reader([&] {
    while (!done) (void)p->stats();
  });
  size_t n = 1;
  while (p->end_offset() < kRecords) {
    append_records(*p, std::min<uint64_t>(n, kRecords - p->end_offset()));
    n = n % 9 + 1;
  }
  done = true;
  r1.join();
  r2.join();
  stats_reader.join();
  EXPECT_EQ(checked.load(), 2 * kRecords);
}

TEST_F(PartitionTest, FailedWriteLeavesThePartitionAtItsPreviousEnd) {
  auto p = open();
  append_records(*p, 3);
  const uint64_t size_before = fs::file_size(dir_.path() / "p0" / format::segment_name(0));
  // Let the file grow by only 50 more bytes: the next write is cut short, then refused.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = size_before + 50;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string big(500, 'b');
  std::vector<std::string_view> batch{big};
  auto r = p->append(batch);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, SIG_DFL);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io_error);
  EXPECT_NE(r.error().message.find("00000000000000000000.log"), std::string::npos);
  EXPECT_EQ(p->end_offset(), 3u);
  EXPECT_EQ(fs::file_size(dir_.path() / "p0" / format::segment_name(0)), size_before);
  // The partition goes on from where it was, and a reopen finds no torn batch.
  auto next = append_records(*p, 2);
  EXPECT_EQ(next.first_offset, 3u);
  expect_every_offset_readable(*p, 0, 5);
  p.reset();
  p = open();
  EXPECT_EQ(p->end_offset(), 5u);
  expect_every_offset_readable(*p, 0, 5);
}

TEST_F(PartitionTest, RejectsOptionsOutOfRange) {
  auto o = options(Durability::Mode::always);
  o.segment_bytes = 0;
  auto p = Partition::open(o, flusher_, clock_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::invalid_argument);
  o = options();
  o.dir.clear();
  p = Partition::open(o, flusher_, clock_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::invalid_argument);
}

TEST_F(PartitionTest, OpenFailsClearlyWhenTheDirectoryCannotBeMade) {
  write_file(dir_.path() / "file", "x");
  auto o = options(Durability::Mode::always);
  o.dir = dir_.path() / "file" / "p0";
  auto p = Partition::open(o, flusher_, clock_);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, Errc::io_error);
  EXPECT_NE(p.error().message.find("file"), std::string::npos);
}

}  // namespace
}  // namespace eddy::log

namespace eddy::log {
namespace {

TEST_F(PartitionTest, AListenerMayRemoveItself) {
  auto p = open();
  std::atomic<int> calls{0};
  uint64_t id = 0;
  id = p->add_listener([&](uint64_t) {
    ++calls;
    p->remove_listener(id);  // must not wait for its own call
  });
  append_records(*p, 1);
  append_records(*p, 1);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(PartitionTest, AListenerMayReleaseTheLastOwner) {
  auto holder = std::make_shared<std::unique_ptr<Partition>>(open());
  Partition* p = holder->get();
  std::atomic<bool> released{false};
  p->add_listener([holder, &released](uint64_t) mutable {
    if (holder && *holder) {
      holder->reset();  // the partition is destroyed inside its own notification
      released = true;
    }
  });
  holder.reset();
  append_records(*p, 1);
  EXPECT_TRUE(released.load());
  auto again = open();
  EXPECT_EQ(again->end_offset(), 1u);
}

}  // namespace
}  // namespace eddy::log
