// RangeTree: a set of numeric intervals, each with an IdList of targets, answering "which
// intervals contain v" in O((k + 1) log n) for k answers. A treap ordered by lower bound,
// each node also holding the largest upper bound in its subtree. Insert and erase are
// O(log n) expected, so rules come and go without rebuilding.
// Not thread-safe for writes; concurrent const queries are fine.
#pragma once

#include <cstdint>
#include <vector>

#include "rules/id_list.h"
#include "rules/predicates.h"

namespace eddy::rules {

class RangeTree {
 public:
  // The targets of `range`, created empty if missing.
  IdList& at(const NumericRange& range);
  // The targets of `range`, or null.
  IdList* find(const NumericRange& range);
  // Removes `range` (and its targets).
  void erase(const NumericRange& range);
  bool empty() const { return root_ < 0; }
  size_t size() const { return nodes_.size() - free_.size(); }
  size_t memory_bytes() const;

  // Calls f(const IdList&) for every interval that contains v.
  template <class F>
  void query(double v, F&& f) const {
    query(root_, v, f);
  }

 private:
  struct Node {
    NumericRange range;
    double max_hi = 0;
    uint32_t priority = 0;
    int32_t left = -1, right = -1;
    IdList targets;
  };
  static bool less(const NumericRange& a, const NumericRange& b);
  static bool same(const NumericRange& a, const NumericRange& b);
  void update(int32_t n);
  // Splits `n` into keys < r (or <= r when `inclusive`) and the rest.
  void split(int32_t n, const NumericRange& r, bool inclusive, int32_t& left, int32_t& right);
  int32_t merge(int32_t a, int32_t b);
  int32_t find_node(const NumericRange& r) const;

  template <class F>
  void query(int32_t n, double v, F& f) const {
    while (n >= 0) {
      const Node& x = nodes_[n];
      if (x.max_hi < v) return;
      query(x.left, v, f);
      if (x.range.lo > v) return;  // the node and everything right of it start above v
      if (x.range.contains(v)) f(x.targets);
      n = x.right;
    }
  }

  std::vector<Node> nodes_;
  std::vector<int32_t> free_;
  int32_t root_ = -1;
  uint32_t seed_ = 0x9E3779B9u;
};

}  // namespace eddy::rules
