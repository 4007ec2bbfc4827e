#include "rules/rules_bench.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <iostream>

namespace eddy::rules {
namespace {

TEST(BenchRules, ReportsFiguresPerRuleCountAndAgreesWithReference) {
  BenchRulesOptions o;
  o.rule_counts = {1000, 1};
  o.match_seconds = 0.05;
  o.distinct_events = 64;
  o.verify_events = 16;
  boost::json::object r = bench_rules(o);
  ASSERT_FALSE(r.contains("error")) << r.at("error");
  for (const char* k : {"rules_1_events_per_sec", "rules_1000_events_per_sec", "rules_1000_ns_per_event",
                        "rules_1000_matches_per_event", "rules_1000_rules_added_per_sec",
                        "rules_1000_bytes_per_rule", "events_per_sec", "bytes_per_rule",
                        "rules_added_per_sec", "patterns_compiled_per_sec", "event_bytes", "rss_mb"}) {
    ASSERT_TRUE(r.contains(k)) << k;
    EXPECT_GT(r.at(k).to_number<double>(), 0) << k;
  }
  EXPECT_EQ(r.at("verified_events").to_number<int>(), 32);
  // Realistic events: about a kilobyte each.
  EXPECT_GT(r.at("event_bytes").to_number<double>(), 700);
  EXPECT_LT(r.at("event_bytes").to_number<double>(), 1400);
}

}  // namespace
}  // namespace eddy::rules

namespace eddy::rules {
namespace {

// The full benchmark with default options (about 30 s), for recording figures:
//   build/rules_tests --gtest_also_run_disabled_tests --gtest_filter='*FullDefaultRun'
TEST(BenchRules, DISABLED_FullDefaultRun) {
  boost::json::object r = bench_rules();
  ASSERT_FALSE(r.contains("error")) << r.at("error");
  EXPECT_GT(r.at("verified_events").to_number<int>(), 0);
  for (const auto& kv : r) std::cout << kv.key() << " " << boost::json::serialize(kv.value()) << "\n";
}

}  // namespace
}  // namespace eddy::rules
