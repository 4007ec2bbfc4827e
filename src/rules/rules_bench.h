// The in-process matching benchmark run by `eddy bench rules`.
//
// For each rule count it compiles that many rules of mixed operators (exact, lists,
// prefix, suffix ignoring case, equals-ignore-case, anything-but, numeric ranges, exists,
// wildcard, cidr, $or, fields inside lists of objects) into one Matcher, then matches
// realistic CloudEvents (about 1 KB, nested, with a list of order items) on one thread.
// Vocabularies (event types, tenants, customers, SKUs) grow with the rule count, as they do
// in a system that has that many subscriptions, so each event matches a handful of rules.
//
// Figures, per rule count N (keys `rules_N_...`): events_per_sec and ns_per_event (thread CPU
// time, i.e. per core), wall_events_per_sec, matches_per_event, rules_added_per_sec,
// bytes_per_rule (heap growth while adding, from malloc statistics), estimated_bytes_per_rule
// (the matcher's own account), states. Top level:
// events_per_sec (at 10,000 rules when measured), bytes_per_rule and rules_added_per_sec (at
// the largest count), patterns_compiled_per_sec, event_bytes, rss_mb. When verification is
// on, `verified_events`; a disagreement with the reference interpreter is reported as
// `error`.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace eddy::rules {

struct BenchRulesOptions {
  std::vector<size_t> rule_counts = {1, 100, 10000, 100000, 200000};
  double match_seconds = 1.0;   // CPU time spent matching per rule count
  size_t distinct_events = 2048;
  size_t verify_events = 16;    // checked against the reference interpreter for counts <= 10,000
  uint64_t seed = 42;
};

boost::json::object bench_rules(const BenchRulesOptions& options = {});

}  // namespace eddy::rules
