// Event patterns: the EventBridge pattern language, compiled and validated.
//
// A pattern is a JSON object whose keys name fields of a CloudEvent in structured JSON form:
// context attributes at the top level (`type`, `source`, `subject`, `id`, `time`, extension
// attributes) and the payload under `data`. A key maps to a list of alternatives for the
// field's value, to an object of nested fields, or (`$or`) to a list of sub-patterns of which
// one must match. Alternatives are exact values (strings, numbers, true, false, null) or one
// of the operators prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric,
// exists and cidr. See src/rules/README.md for the precise semantics, including arrays.
//
// compile_pattern() rejects a bad pattern with Errc::invalid_pattern and a message that starts
// with the JSON path of the problem, e.g.
//   `$.data.amount: numeric range needs an even list of operators and numbers, ...`
//
// Threading: a Pattern is an immutable value; copies share their state and may be used from
// any number of threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "rules/predicates.h"

namespace eddy::rules {

struct PatternLimits {
  size_t max_bytes = 64 * 1024;  // length of the pattern's JSON text
  size_t max_depth = 16;         // nesting of objects and $or
  size_t max_values = 1000;      // alternatives in one list, anything-but lists included
  // A pattern is a disjunction of branches once `$or` and lists mixing `exists: false` with
  // other values are multiplied out; each branch becomes one path in a topic's matcher.
  size_t max_branches = 256;
  // Complexity is the number of value tests over all branches (a wildcard counts one per
  // literal part). It is what one pattern costs a matcher in memory.
  size_t max_complexity = 4096;
};

// The parsed form of a pattern, shared by the matcher and the reference interpreter.
struct PatternObject {
  struct Field {
    std::string key;
    std::unique_ptr<PatternObject> object;  // nested fields, or else
    std::vector<Alternative> values;        // the alternatives for a leaf value
  };
  std::vector<Field> fields;                    // in source order
  std::vector<std::vector<PatternObject>> ors;  // each `$or`: its sub-patterns
};

class Pattern {
 public:
  // An empty pattern, as a placeholder; Matcher::add rejects it and it matches nothing.
  Pattern() = default;

  bool empty() const { return data_ == nullptr; }
  const PatternObject& root() const;
  // The pattern as minified JSON.
  const std::string& json() const;
  size_t branch_count() const;
  size_t complexity() const;

 private:
  struct Data;
  friend Result<Pattern> compile_pattern(std::string_view, const PatternLimits&);
  std::shared_ptr<const Data> data_;
};

Result<Pattern> compile_pattern(std::string_view pattern_json, const PatternLimits& limits = {});

// One conjunct of a branch: some leaf value at `path` satisfies one of `alternatives`
// (kinds `is` and `is_not`), or (a single `absent` alternative) there is no leaf value at
// `path`. Alternatives are sorted by key and unique.
struct Condition {
  std::vector<std::string> path;
  std::vector<Alternative> alternatives;
  bool absent() const { return alternatives.size() == 1 && alternatives[0].kind == Alternative::Kind::absent; }
  std::string key() const;  // canonical key of `alternatives`
};
using Branch = std::vector<Condition>;

// The pattern as a disjunction of branches, each a conjunction of conditions (duplicate
// conditions removed). At most limits.max_branches branches, since compile checked it.
std::vector<Branch> expand_branches(const Pattern& pattern);

// `$.data.amount`, with bracket notation (`$['a.b']`) for keys that need it.
std::string format_path(const std::vector<std::string>& path);
void append_path_segment(std::string& path, std::string_view key);

}  // namespace eddy::rules
