#include "events/codec_bench.h"

#include <gtest/gtest.h>

namespace eddy::events {
namespace {

// Not a timing test: checks the benchmark parses what it says and reports its figures.
TEST(CodecBench, ParsesEveryEventAndReportsRates) {
  const boost::json::object result = bench_codec(1050, 100);
  EXPECT_EQ(result.at("events").to_number<int64_t>(), 1050);
  EXPECT_EQ(result.at("batch").to_number<int64_t>(), 100);
  EXPECT_GT(result.at("events_per_sec").to_number<double>(), 0.0);
  EXPECT_GT(result.at("bytes_per_sec").to_number<double>(), 0.0);
  const double size = result.at("avg_event_bytes").to_number<double>();
  EXPECT_GT(size, 150.0);
  EXPECT_LT(size, 300.0);
}

}  // namespace
}  // namespace eddy::events
