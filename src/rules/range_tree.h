// RangeTree: a set of numeric intervals, each with an IdList of targets, answering "which
// intervals contain v" in O((k + 1) log n) for k answers.
//
// Intervals sit in arrays sorted by lower bound, read as an implicit balanced search tree
// (the middle element is the root) in which each position also knows the largest upper
// bound of its subtree. Arrays keep a query to a few cache lines per level. New intervals
// go to a small second tree that is merged into the main one once it holds about sqrt(n)
// of them; removed intervals are left as empty placeholders until they are half the tree.
// Both keep insert and erase cheap (amortised O(sqrt n)) while rules come and go.
// Not thread-safe for writes; concurrent const queries are fine.
#pragma once

#include <cstdint>
#include <vector>

#include "rules/id_list.h"
#include "rules/predicates.h"

namespace eddy::rules {

class RangeTree {
 public:
  // The targets of `range`, created empty if missing. Valid until the next change.
  IdList& at(const NumericRange& range);
  // The targets of `range`, or null.
  IdList* find(const NumericRange& range);
  // Removes `range` (and its targets).
  void erase(const NumericRange& range);
  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }
  size_t memory_bytes() const;

  // Calls f(const IdList&) for every interval that contains v (and perhaps for removed
  // intervals, with an empty list).
  template <class F>
  void query(double v, F&& f) const {
    main_.query(0, main_.entries.size(), v, f);
    recent_.query(0, recent_.entries.size(), v, f);
  }

 private:
  struct Entry {
    NumericRange range;
    IdList targets;
    bool alive = true;  // false: a placeholder for a removed interval
  };
  struct Level {
    std::vector<Entry> entries;   // sorted by less()
    std::vector<double> lo;       // entries[i].range.lo
    std::vector<double> max_hi;   // largest upper bound in the implicit subtree at i
    void index();                 // recomputes lo and max_hi
    double index(size_t l, size_t r);
    Entry* find(const NumericRange& r);

    template <class F>
    void query(size_t l, size_t r, double v, F& f) const {
      while (l < r) {
        size_t m = l + (r - l) / 2;
        if (max_hi[m] < v) return;
        query(l, m, v, f);
        if (lo[m] > v) return;  // everything from m on starts above v
        const Entry& e = entries[m];
        if (e.range.contains(v)) f(e.targets);
        l = m + 1;
      }
    }
  };
  static bool less(const NumericRange& a, const NumericRange& b);
  static bool same(const NumericRange& a, const NumericRange& b);
  void merge_recent();

  Level main_, recent_;
  size_t live_ = 0;
  size_t removed_ = 0;  // placeholders in main_
};

}  // namespace eddy::rules
