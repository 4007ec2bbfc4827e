#include "log/log_bench.h"

#include <gtest/gtest.h>

#include "log/log_test_util.h"

namespace eddy::log {
namespace {

TEST(LogBenchTest, AppendReportsFiguresForTheEventsItWrote) {
  testing::TempDir dir;
  BenchAppendOptions o;
  o.events = 1000;
  o.batch = 10;
  o.durability = *Durability::parse("never");
  auto f = bench_append(dir.path(), o);
  ASSERT_FALSE(f.contains("error")) << f.at("error").as_string();
  EXPECT_EQ(f.at("events").as_uint64(), 1000u);
  EXPECT_EQ(f.at("appends").as_uint64(), 100u);
  EXPECT_GT(f.at("events_per_sec").as_double(), 0);
  EXPECT_GT(f.at("mb_per_sec").as_double(), 0);
  EXPECT_LE(f.at("append_p50_us").as_double(), f.at("append_p99_us").as_double());
  EXPECT_EQ(f.at("fsyncs").as_uint64(), 0u);
}

TEST(LogBenchTest, AlwaysWaitsForFsyncsSharedByPublishers) {
  testing::TempDir dir;
  BenchAppendOptions o;
  o.events = 400;
  o.batch = 1;
  o.threads = 4;
  auto f = bench_append(dir.path(), o);
  ASSERT_FALSE(f.contains("error")) << f.at("error").as_string();
  EXPECT_EQ(f.at("events").as_uint64(), 400u);
  EXPECT_GE(f.at("fsyncs").as_uint64(), 1u);
  EXPECT_LE(f.at("fsyncs").as_uint64(), 400u);
  EXPECT_EQ(f.at("fsync").as_string(), "always");
}

TEST(LogBenchTest, RecoveryReopensWhatItWrote) {
  testing::TempDir dir;
  BenchRecoveryOptions o;
  o.bytes = 256 << 10;
  o.segment_bytes = 64 << 10;
  auto f = bench_recovery(dir.path(), o);
  ASSERT_FALSE(f.contains("error")) << f.at("error").as_string();
  EXPECT_GE(f.at("bytes").as_uint64(), 256u << 10);
  EXPECT_GE(f.at("segments").as_uint64(), 4u);
  EXPECT_EQ(f.at("records").as_uint64() % 100, 0u);
}

TEST(LogBenchTest, RejectsAZeroBatch) {
  testing::TempDir dir;
  BenchAppendOptions o;
  o.batch = 0;
  EXPECT_TRUE(bench_append(dir.path(), o).contains("error"));
}

}  // namespace
}  // namespace eddy::log
