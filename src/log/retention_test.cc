#include <gtest/gtest.h>

#include "log/format.h"
#include "log/log_test_util.h"
#include "log/partition.h"

namespace eddy::log {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class RetentionTest : public ::testing::Test {
 protected:
  PartitionOptions options() {
    PartitionOptions o;
    o.dir = dir_.path() / "p0";
    o.durability.mode = Durability::Mode::never;
    o.segment_bytes = 1000;
    o.index_interval_bytes = 128;
    return o;
  }
  std::unique_ptr<Partition> open(const PartitionOptions& o) {
    auto p = Partition::open(o, flusher_, clock_);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(*p) : nullptr;
  }
  std::vector<uint64_t> segment_bases() const {
    std::vector<uint64_t> bases;
    for (const auto& e : fs::directory_iterator(dir_.path() / "p0")) {
      uint64_t b;
      if (format::parse_file_name(e.path().filename().string(), "log", b)) bases.push_back(b);
    }
    std::sort(bases.begin(), bases.end());
    return bases;
  }
  uint64_t bytes_on_disk() const {
    uint64_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_.path() / "p0")) {
      if (e.path().extension() == ".log") n += e.file_size();
    }
    return n;
  }
  // Appends one 3-record batch per simulated second for `seconds` seconds.
  void append_for(Partition& p, int seconds) {
    for (int i = 0; i < seconds; ++i) {
      append_records(p, 3);
      clock_.advance(1000);
    }
  }

  TempDir dir_;
  ManualClock clock_;
  Flusher flusher_;
};

TEST_F(RetentionTest, TimeRetentionDeletesClosedSegmentsWhoseNewestRecordIsTooOld) {
  auto o = options();
  o.retention_ms = 60'000;
  auto p = open(o);
  const int64_t t0 = clock_.now_ms();
  append_for(*p, 100);  // batch i (offsets 3i..3i+2) at t0 + i s; several segments
  const auto before = segment_bases();
  ASSERT_GT(before.size(), 4u);
  ASSERT_TRUE(p->enforce_retention().ok());
  // Now is t0+100s: records older than t0+40s are past retention.
  const int64_t cutoff = clock_.now_ms() - 60'000;
  const auto after = segment_bases();
  ASSERT_LT(after.size(), before.size());
  EXPECT_EQ(p->start_offset(), after.front());
  // The oldest kept segment holds a record at or after the cutoff; the one before it,
  // now deleted, held none.
  auto first = p->read(p->start_offset(), 1000, 1 << 20);
  ASSERT_TRUE(first.ok());
  int64_t newest_in_first = 0;
  for (const auto& r : first->records) {
    if (r.offset < after[1]) newest_in_first = r.time_ms;
  }
  EXPECT_GE(newest_in_first, cutoff);
  const uint64_t last_deleted_batch = (after.front() - 1) / 3;
  EXPECT_LT(t0 + static_cast<int64_t>(last_deleted_batch) * 1000, cutoff);
  EXPECT_FALSE(fs::exists(dir_.path() / "p0" / format::segment_name(before.front())));
  EXPECT_FALSE(fs::exists(dir_.path() / "p0" / format::index_name(before.front())));
  EXPECT_FALSE(fs::exists(dir_.path() / "p0" / format::time_index_name(before.front())));
  // Reads below the start read from the start.
  auto r = p->read(0, 1, 1 << 20);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->records[0].offset, p->start_offset());
  EXPECT_EQ(p->offset_for_time(0), p->start_offset());
}

TEST_F(RetentionTest, SizeRetentionDeletesOldestSegmentsWhileOverTheLimit) {
  auto o = options();
  o.retention_bytes = 3000;
  auto p = open(o);
  append_for(*p, 120);
  ASSERT_GT(bytes_on_disk(), 6000u);
  ASSERT_TRUE(p->enforce_retention().ok());
  EXPECT_LE(bytes_on_disk(), 3000u);
  EXPECT_EQ(p->stats().size_bytes, bytes_on_disk());
  EXPECT_EQ(p->start_offset(), segment_bases().front());
  EXPECT_EQ(p->end_offset(), 360u);
  std::vector<ReadResult> keep;
  auto all = read_all(*p, 0, keep);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().offset, p->start_offset());
  EXPECT_EQ(all.back().offset, 359u);
}

TEST_F(RetentionTest, TheActiveSegmentIsNeverDeleted) {
  auto o = options();
  o.segment_bytes = 1 << 20;
  o.retention_ms = 10;
  o.retention_bytes = 1;
  auto p = open(o);
  append_for(*p, 5);
  ASSERT_TRUE(p->enforce_retention().ok());
  EXPECT_EQ(segment_bases().size(), 1u);
  EXPECT_EQ(p->start_offset(), 0u);
  EXPECT_EQ(p->end_offset(), 15u);
}

TEST_F(RetentionTest, RetentionRollsAnActiveSegmentOlderThanSegmentMsThenDeletesIt) {
  auto o = options();
  o.segment_bytes = 1 << 20;
  o.segment_ms = 10'000;
  o.retention_ms = 5'000;
  auto p = open(o);
  append_for(*p, 3);
  clock_.advance(20'000);
  ASSERT_TRUE(p->enforce_retention().ok());  // rolls: segment 0 is now closed
  EXPECT_EQ(segment_bases().size(), 1u) << "rolled and deleted in one pass";
  EXPECT_EQ(p->start_offset(), 9u);
  EXPECT_EQ(p->end_offset(), 9u);
  auto r = append_records(*p, 1);
  EXPECT_EQ(r.first_offset, 9u);
}

TEST_F(RetentionTest, NoLimitsKeepEverything) {
  auto p = open(options());
  append_for(*p, 50);
  clock_.advance(365ll * 24 * 3600 * 1000);
  auto before = segment_bases();
  ASSERT_TRUE(p->enforce_retention().ok());
  // Only the age roll happened; nothing was deleted.
  EXPECT_EQ(p->start_offset(), 0u);
  EXPECT_GE(segment_bases().size(), before.size());
}

TEST_F(RetentionTest, StartOffsetSurvivesReopen) {
  auto o = options();
  o.retention_bytes = 2000;
  uint64_t start;
  {
    auto p = open(o);
    append_for(*p, 80);
    ASSERT_TRUE(p->enforce_retention().ok());
    start = p->start_offset();
    ASSERT_GT(start, 0u);
  }
  auto p = open(o);
  EXPECT_EQ(p->start_offset(), start);
  EXPECT_EQ(p->end_offset(), 240u);
  std::vector<ReadResult> keep;
  EXPECT_EQ(read_all(*p, 0, keep).size(), 240u - start);
}

TEST_F(RetentionTest, ReaderHoldingADeletedSegmentFinishesItsRead) {
  auto o = options();
  o.retention_bytes = 0;
  auto p = open(o);
  append_for(*p, 60);
  // Read while retention deletes: every record returned must be whole and correct.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) {
      auto r = p->read(0, 100, 1 << 20);
      ASSERT_TRUE(r.ok()) << r.error().message;
      for (const auto& rec : r->records) ASSERT_EQ(rec.payload, payload_for(rec.offset));
    }
  });
  ASSERT_TRUE(p->enforce_retention().ok());
  stop = true;
  reader.join();
  EXPECT_EQ(segment_bases().size(), 1u);
}

}  // namespace
}  // namespace eddy::log
