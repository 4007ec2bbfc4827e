// The reference interpreter: evaluates one pattern against one event directly from the
// pattern's parsed form, with no indexes and no shared state. It defines what a match is
// (the compiled Matcher must agree with it on every input; property tests check that), and
// backs `POST /v1/patterns/test` and `eddy pattern test`, including `"explain": true`.
//
// Cost: polynomial in the sizes of the pattern and the event (each branch walks the event
// once along the paths it uses).
// Threading: pure functions; call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/pattern.h"

namespace eddy::rules {

// True when `event_json` (a CloudEvent in structured JSON) matches `pattern`. An event that
// is not a JSON object matches nothing.
bool matches(const Pattern& pattern, std::string_view event_json);

// Why a condition failed.
struct Mismatch {
  std::string path;    // e.g. "$.data.amount"
  std::string reason;  // e.g. "50 does not match numeric > 100"
};

struct Explanation {
  bool match = false;
  // For a non-match: for each branch of the pattern (one unless it uses $or), the first
  // condition that failed, in source order; branches failing alike are reported once.
  // Empty when the event matched.
  std::vector<Mismatch> mismatches;
  // One readable paragraph, e.g. "$.data.amount: 50 does not match numeric > 100".
  std::string message;
};

Explanation explain(const Pattern& pattern, std::string_view event_json);

// True when the event satisfies at least one of `branches` (as expand_branches makes them).
// The matcher's fallback for events whose lists would make its exact walk too costly.
bool any_branch_matches(const std::vector<Branch>& branches, std::string_view event_json);

}  // namespace eddy::rules
