// Matcher: all the patterns of one topic's subscriptions compiled into one automaton, so
// that matching an event costs about the same with ten rules as with a hundred thousand.
//
// A rule is a pattern under a caller-chosen id. Each branch of a pattern (see
// expand_branches) is a sequence of steps "some value of field F is in set S" (or "F has no
// value"), ordered most selective first; the branches of all rules form a trie whose edges
// are indexed by value (ValueIndex), so a step shared by many rules is evaluated once and a
// value is looked up, not compared against every rule. An event is parsed once, and only
// the fields some rule uses are extracted. src/rules/README.md describes the design.
//
// Results agree exactly with the reference interpreter (matches()), including the rule
// that fields inside list elements must come from the same element.
//
// Threading: match() may run on any number of threads at once. add() and remove() may be
// called from any thread; they take an exclusive lock, wait for matches in progress, and a
// match() that starts after add() returns sees the new rule. Readers lock a per-thread
// stripe of a striped reader/writer lock, so concurrent matches do not contend on one cache
// line; writers lock every stripe. Rules change rarely; matching is the hot path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "rules/pattern.h"

namespace eddy::rules {

struct MatcherOptions {
  // Matching is exact for events whose lists of objects are used by rules; an adversarial
  // event (several long lists, rules combining fields across them) could make the exact walk
  // visit many combinations. Past this many list-bound steps per event the matcher switches
  // to a walk that ignores list binding and confirms each candidate rule with the reference
  // interpreter: same answer, bounded cost.
  size_t array_budget = 4096;
};

struct MatcherStats {
  size_t rules = 0;
  size_t branches = 0;  // trie paths
  size_t states = 0;
  size_t edges = 0;
  size_t value_sets = 0;  // distinct lists of alternatives
  size_t fields = 0;      // distinct field paths
  size_t memory_bytes = 0;  // an estimate of the heap held by the automaton
};

class Matcher {
 public:
  explicit Matcher(MatcherOptions options = {});
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Adds `pattern` under `rule_id`, replacing the rule's previous pattern if it had one.
  // Fails (invalid_argument) only for an empty Pattern.
  Status add(uint64_t rule_id, const Pattern& pattern);
  // Removes the rule; other rules, including ones sharing parts of the automaton with it,
  // are untouched. Unknown ids are ignored.
  void remove(uint64_t rule_id);
  bool contains(uint64_t rule_id) const;
  size_t size() const;

  // Replaces the contents of `out` with the ids of the rules `event_json` matches, each once,
  // in ascending order. `event_json` is a CloudEvent in structured JSON (attributes at the
  // top level, payload under "data"). An event that is not a JSON object matches nothing.
  // The log holds validated events, so malformed JSON is only guaranteed not to crash.
  void match(std::string_view event_json, std::vector<uint64_t>& out) const;

  MatcherStats stats() const;

 private:
  struct Impl;
  static constexpr size_t kStripes = 16;
  struct alignas(64) Stripe {
    std::shared_mutex mu;
  };
  void lock_all() const;
  void unlock_all() const;

  std::unique_ptr<Impl> impl_;
  mutable std::array<Stripe, kStripes> stripes_;
};

}  // namespace eddy::rules
