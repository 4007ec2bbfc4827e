// Recovery at open: what a torn or damaged log looks like after a crash, and what the
// partition makes of it.
#include <gtest/gtest.h>

#include "common/crc32c.h"
#include "log/format.h"
#include "log/index.h"
#include "log/log_test_util.h"
#include "log/partition.h"

namespace eddy::log {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class RecoveryTest : public ::testing::Test {
 protected:
  fs::path pdir() const { return dir_.path() / "p0"; }
  fs::path active_log() const { return pdir() / format::segment_name(active_base_); }

  PartitionOptions options(uint64_t segment_bytes) {
    PartitionOptions o;
    o.dir = pdir();
    o.durability.mode = Durability::Mode::always;
    o.segment_bytes = segment_bytes;
    o.index_interval_bytes = 64;
    return o;
  }

  Result<std::unique_ptr<Partition>> reopen(uint64_t segment_bytes = 1 << 20) {
    return Partition::open(options(segment_bytes), flusher_, clock_);
  }

  // Writes batches of 3 records (offsets 0..3*batches) into one segment; remembers where
  // each batch starts in the file.
  void write_batches(int batches, uint64_t segment_bytes = 1 << 20) {
    auto p = reopen(segment_bytes);
    ASSERT_TRUE(p.ok()) << p.error().message;
    for (int i = 0; i < batches; ++i) {
      batch_starts_.push_back(fs::file_size(active_log()));
      append_records(**p, 3);
      clock_.advance(1);
    }
    ASSERT_TRUE((*p)->sync().ok());
    file_bytes_ = fs::file_size(active_log());
  }

  // Reopens and checks that exactly `records` records are there, all correct, that the
  // segment file was cut to `file_bytes`, and that appending continues at `records`.
  void expect_recovered_to(uint64_t records, uint64_t file_bytes) {
    auto p = reopen();
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ((*p)->end_offset(), records);
    EXPECT_EQ((*p)->visible_end(), records);
    std::vector<ReadResult> keep;
    auto all = read_all(**p, 0, keep);
    ASSERT_EQ(all.size(), records);
    for (uint64_t o = 0; o < records; ++o) ASSERT_EQ(all[o].payload, payload_for(o));
    EXPECT_EQ(fs::file_size(active_log()), file_bytes);
    auto r = append_records(**p, 2);
    EXPECT_EQ(r.first_offset, records);
    EXPECT_EQ((*p)->visible_end(), records);  // `always`: visible once synced
    ASSERT_TRUE((*p)->sync().ok());
    keep.clear();
    EXPECT_EQ(read_all(**p, 0, keep).size(), records + 2);
  }

  void patch(const fs::path& file, uint64_t pos, const std::string& bytes) {
    std::string s = read_file(file);
    ASSERT_LE(pos + bytes.size(), s.size());
    s.replace(pos, bytes.size(), bytes);
    write_file(file, s);
  }

  TempDir dir_;
  ManualClock clock_;
  Flusher flusher_;
  uint64_t active_base_ = 0;
  std::vector<uint64_t> batch_starts_;
  uint64_t file_bytes_ = 0;
};

TEST_F(RecoveryTest, IntactLogRecoversEverything) {
  write_batches(5);
  expect_recovered_to(15, file_bytes_);
}

TEST_F(RecoveryTest, ChecksumMismatchInTheLastBatchDropsIt) {
  write_batches(5);
  uint64_t last = batch_starts_.back();
  std::string s = read_file(active_log());
  patch(active_log(), last + format::kBatchHeaderBytes + 6, std::string(1, s[last + 38] ^ 0x5a));
  expect_recovered_to(12, last);
}

TEST_F(RecoveryTest, TruncatedLastBatchIsDroppedWhereverTheCutFalls) {
  write_batches(4);
  const std::string whole = read_file(active_log());
  const uint64_t last = batch_starts_.back();
  for (uint64_t cut = last + 1; cut < whole.size(); ++cut) {
    SCOPED_TRACE("file cut at " + std::to_string(cut));
    write_file(active_log(), whole.substr(0, cut));
    auto p = reopen();
    ASSERT_TRUE(p.ok()) << p.error().message;
    ASSERT_EQ((*p)->end_offset(), 9u);
    ASSERT_EQ(fs::file_size(active_log()), last);
  }
  write_file(active_log(), whole.substr(0, last + 17));
  expect_recovered_to(9, last);
}

TEST_F(RecoveryTest, BadLengthFieldEndsTheLog) {
  write_batches(5);
  const std::string whole = read_file(active_log());
  const uint64_t at = batch_starts_[3];
  for (uint32_t bad : {0u, 31u, 33u, format::kMaxBatchBytes + 1, 0xffffffffu}) {
    SCOPED_TRACE("length " + std::to_string(bad));
    write_file(active_log(), whole);
    std::string field(4, '\0');
    format::store<uint32_t>(field.data(), bad);
    patch(active_log(), at, field);
    auto p = reopen();
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ((*p)->end_offset(), 9u);
    EXPECT_EQ(fs::file_size(active_log()), at);
  }
}

TEST_F(RecoveryTest, LengthPointingPastTheFileEndsTheLog) {
  write_batches(3);
  std::string field(4, '\0');
  format::store<uint32_t>(field.data(),
                          static_cast<uint32_t>(file_bytes_ - batch_starts_[2] + 100));
  patch(active_log(), batch_starts_[2], field);
  expect_recovered_to(6, batch_starts_[2]);
}

TEST_F(RecoveryTest, BadMagicEndsTheLog) {
  write_batches(5);
  patch(active_log(), batch_starts_[4] + 8, std::string(1, '\x02'));
  expect_recovered_to(12, batch_starts_[4]);
}

TEST_F(RecoveryTest, CorruptionInTheMiddleOfTheActiveSegmentTruncatesFromThere) {
  write_batches(10);
  patch(active_log(), batch_starts_[4] + 40, "XYZ");
  expect_recovered_to(12, batch_starts_[4]);
}

TEST_F(RecoveryTest, ZeroFilledTailIsCut) {
  write_batches(3);
  std::string s = read_file(active_log());
  s.append(4096, '\0');  // what a crash can leave after a file was extended
  write_file(active_log(), s);
  expect_recovered_to(9, file_bytes_);
}

TEST_F(RecoveryTest, BatchWithAValidChecksumButTheWrongOffsetEndsTheLog) {
  write_batches(3);
  // Rewrite batch 2 to claim offset 100 and fix up its CRC: only the offset is wrong.
  std::string s = read_file(active_log());
  char* b = s.data() + batch_starts_[2];
  format::store<uint64_t>(b + 16, 100);
  format::store<uint32_t>(b + 4, crc32c(b + 8, format::load<uint32_t>(b) - 8));
  write_file(active_log(), s);
  expect_recovered_to(6, batch_starts_[2]);
}

TEST_F(RecoveryTest, RecordLengthsThatOverrunTheBatchEndTheLog) {
  write_batches(3);
  std::string s = read_file(active_log());
  char* b = s.data() + batch_starts_[1];
  format::store<uint32_t>(b + format::kBatchHeaderBytes, 1000);  // first record's length
  format::store<uint32_t>(b + 4, crc32c(b + 8, format::load<uint32_t>(b) - 8));
  write_file(active_log(), s);
  expect_recovered_to(3, batch_starts_[1]);
}

TEST_F(RecoveryTest, EmptySegmentFileOpensEmpty) {
  fs::create_directories(pdir());
  write_file(active_log(), "");
  expect_recovered_to(0, 0);
}

// ---- closed segments and their indexes ----

class ClosedSegmentTest : public RecoveryTest {
 protected:
  void SetUp() override {
    auto p = reopen(kSegmentBytes);
    ASSERT_TRUE(p.ok());
    while ((*p)->end_offset() < 400) {
      append_records(**p, std::min<uint64_t>(1 + (*p)->end_offset() % 4, 400 - (*p)->end_offset()));
      clock_.advance(2);
    }
    ASSERT_GE((*p)->stats().segments, 4u);
    first_index_ = read_file(index0());
    first_time_index_ = read_file(time_index0());
    ASSERT_FALSE(first_index_.empty());
    ASSERT_FALSE(first_time_index_.empty());
  }

  fs::path index0() const { return pdir() / format::index_name(0); }
  fs::path time_index0() const { return pdir() / format::time_index_name(0); }

  // Reopens and checks every record through reads and time lookups, and that the index
  // files of segment 0 are (again) the ones written at roll.
  void expect_intact_and_index_rebuilt() {
    auto p = reopen(kSegmentBytes);
    ASSERT_TRUE(p.ok()) << p.error().message;
    ASSERT_EQ((*p)->end_offset(), 400u);
    for (uint64_t o = 0; o < 400; ++o) {
      auto r = (*p)->read(o, 1, 1 << 20);
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r->records.size(), 1u);
      ASSERT_EQ(r->records[0].payload, payload_for(o));
      ASSERT_EQ((*p)->offset_for_time(r->records[0].time_ms) <= o, true);
    }
    EXPECT_EQ(read_file(index0()), first_index_);
    EXPECT_EQ(read_file(time_index0()), first_time_index_);
  }

  static constexpr uint64_t kSegmentBytes = 2048;
  std::string first_index_;
  std::string first_time_index_;
};

TEST_F(ClosedSegmentTest, ValidIndexFilesAreUsedAsTheyAre) {
  auto before = fs::last_write_time(index0());
  expect_intact_and_index_rebuilt();
  EXPECT_EQ(fs::last_write_time(index0()), before);
}

TEST_F(ClosedSegmentTest, TornIndexFileIsRebuilt) {
  write_file(index0(), first_index_.substr(0, first_index_.size() - 3));
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, GarbageIndexFileIsRebuilt) {
  std::string garbage(first_index_.size(), '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
  write_file(index0(), garbage);
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, ZeroedIndexFileIsRebuilt) {
  write_file(index0(), std::string(first_index_.size(), '\0'));
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, IndexEntryPointingPastTheFileIsRebuilt) {
  std::string s = first_index_;
  format::store<uint32_t>(s.data() + s.size() - 4, 1u << 30);
  write_file(index0(), s);
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, IndexEntryPointingInsideABatchIsRebuilt) {
  std::string s = first_index_;
  uint32_t pos = format::load<uint32_t>(s.data() + s.size() - 4);
  format::store<uint32_t>(s.data() + s.size() - 4, pos + 5);
  write_file(index0(), s);
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, GarbageTimeIndexIsRebuilt) {
  std::string s = first_time_index_;
  format::store<int64_t>(s.data() + s.size() - 12, 5);  // time goes backwards
  write_file(time_index0(), s);
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, MissingIndexFilesAreRebuilt) {
  fs::remove(index0());
  fs::remove(time_index0());
  expect_intact_and_index_rebuilt();
}

TEST_F(ClosedSegmentTest, IndexFilesWithoutTheirSegmentAreRemoved) {
  write_file(pdir() / format::index_name(999999), first_index_);
  write_file(pdir() / (format::time_index_name(999999) + ".tmp"), "x");
  auto p = reopen(kSegmentBytes);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(fs::exists(pdir() / format::index_name(999999)));
  EXPECT_FALSE(fs::exists(pdir() / (format::time_index_name(999999) + ".tmp")));
}

TEST_F(ClosedSegmentTest, DamagedClosedSegmentIsReadAroundNotTruncated) {
  // Damage a batch in the middle of segment 0 and drop its index: the rebuild scan stops at
  // the damage, reads of those offsets skip to the next segment, and the file is kept.
  fs::remove(index0());
  const fs::path seg0 = pdir() / format::segment_name(0);
  const uint64_t size = fs::file_size(seg0);
  patch(seg0, size / 2, "garbage!");
  auto p = reopen(kSegmentBytes);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(fs::file_size(seg0), size);
  EXPECT_EQ((*p)->end_offset(), 400u);
  std::vector<ReadResult> keep;
  auto all = read_all(**p, 0, keep);
  ASSERT_GT(all.size(), 300u);
  ASSERT_LT(all.size(), 400u);
  for (size_t i = 1; i < all.size(); ++i) ASSERT_LT(all[i - 1].offset, all[i].offset);
  for (const auto& r : all) ASSERT_EQ(r.payload, payload_for(r.offset));
  EXPECT_EQ(all.back().offset, 399u);
}

TEST_F(ClosedSegmentTest, IndexFilesLeftOnTheActiveSegmentByARollAreIgnored) {
  // A roll that wrote the index files but crashed before creating the next segment leaves
  // index files beside what is still the newest segment; they must not be trusted.
  auto p = reopen(kSegmentBytes);
  ASSERT_TRUE(p.ok());
  uint64_t active = 0;
  for (const auto& e : fs::directory_iterator(pdir())) {
    uint64_t base;
    if (format::parse_file_name(e.path().filename().string(), "log", base)) {
      active = std::max(active, base);
    }
  }
  p = Result<std::unique_ptr<Partition>>(make_error(Errc::internal, "closed"));
  write_file(pdir() / format::index_name(active), "garbage-garbage!");
  ASSERT_TRUE(reopen(kSegmentBytes).ok());
  EXPECT_FALSE(fs::exists(pdir() / format::index_name(active)));
  expect_intact_and_index_rebuilt();
}

}  // namespace
}  // namespace eddy::log
