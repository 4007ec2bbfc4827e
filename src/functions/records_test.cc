#include "functions/records.h"

#include <gtest/gtest.h>

namespace eddy::functions {
namespace {

InvocationRecord inv(std::string id, int64_t billed, int64_t memory_mb, std::string status = "success") {
  InvocationRecord r;
  r.request_id = std::move(id);
  r.billed_ms = billed;
  r.memory_mb = memory_mb;
  r.status = std::move(status);
  return r;
}

TEST(FunctionRecordsTest, InvocationsComeNewestFirstAndPageBackwards) {
  FunctionRecords rec;
  for (int i = 1; i <= 5; ++i) rec.add_invocation(inv("r" + std::to_string(i), 1, 128));
  auto page = rec.invocations(0, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].request_id, "r5");
  EXPECT_EQ(page[1].request_id, "r4");
  auto next = rec.invocations(page.back().seq, 10);
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0].request_id, "r3");
  EXPECT_EQ(next[2].request_id, "r1");
}

TEST(FunctionRecordsTest, UsageSumsRequestsErrorsAndGbSeconds) {
  FunctionRecords rec;
  rec.add_invocation(inv("a", 1000, 1024));
  rec.add_invocation(inv("b", 500, 512, "timeout"));
  auto u = rec.usage();
  EXPECT_EQ(u.requests, 2u);
  EXPECT_EQ(u.errors, 1u);
  EXPECT_EQ(u.billed_ms, 1500);
  EXPECT_DOUBLE_EQ(u.gb_seconds, 1.0 + 0.25);
  auto back = usage_from_json(to_json(u));
  EXPECT_EQ(back.requests, 2u);
  EXPECT_DOUBLE_EQ(back.gb_seconds, 1.25);
}

TEST(FunctionRecordsTest, LogsFollowBySeqFilterByRequestAndDropTheOldest) {
  FunctionRecords rec(3, 10);
  rec.add_log(1, "a", "stdout", "one");
  rec.add_log(2, "b", "stderr", "two");
  rec.add_log(3, "a", "stdout", "three");
  rec.add_log(4, "a", "stdout", "four");  // "one" falls out
  auto all = rec.logs(0, 100, "");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.front().message, "two");
  auto after = rec.logs(all[1].seq, 100, "");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].message, "four");
  auto only_a = rec.logs(0, 100, "a");
  ASSERT_EQ(only_a.size(), 2u);
  EXPECT_EQ(rec.log_tail("a", 100), "three\nfour\n");
  EXPECT_EQ(rec.log_tail("a", 5), "four\n");
}

}  // namespace
}  // namespace eddy::functions
