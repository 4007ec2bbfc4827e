#include "rules/range_tree.h"

#include <algorithm>

namespace eddy::rules {

bool RangeTree::less(const NumericRange& a, const NumericRange& b) {
  if (a.lo != b.lo) return a.lo < b.lo;
  if (a.lo_incl != b.lo_incl) return a.lo_incl;  // [x before (x
  if (a.hi != b.hi) return a.hi < b.hi;
  return !a.hi_incl && b.hi_incl;
}

bool RangeTree::same(const NumericRange& a, const NumericRange& b) {
  return a.lo == b.lo && a.lo_incl == b.lo_incl && a.hi == b.hi && a.hi_incl == b.hi_incl;
}

void RangeTree::update(int32_t n) {
  Node& x = nodes_[n];
  double m = x.range.hi;
  if (x.left >= 0) m = std::max(m, nodes_[x.left].max_hi);
  if (x.right >= 0) m = std::max(m, nodes_[x.right].max_hi);
  x.max_hi = m;
}

void RangeTree::split(int32_t n, const NumericRange& r, bool inclusive, int32_t& left, int32_t& right) {
  if (n < 0) {
    left = right = -1;
    return;
  }
  const NumericRange& k = nodes_[n].range;
  bool goes_left = less(k, r) || (inclusive && same(k, r));
  if (goes_left) {
    int32_t l, rr;
    split(nodes_[n].right, r, inclusive, l, rr);
    nodes_[n].right = l;
    update(n);
    left = n;
    right = rr;
  } else {
    int32_t l, rr;
    split(nodes_[n].left, r, inclusive, l, rr);
    nodes_[n].left = rr;
    update(n);
    left = l;
    right = n;
  }
}

int32_t RangeTree::merge(int32_t a, int32_t b) {
  if (a < 0) return b;
  if (b < 0) return a;
  if (nodes_[a].priority > nodes_[b].priority) {
    nodes_[a].right = merge(nodes_[a].right, b);
    update(a);
    return a;
  }
  nodes_[b].left = merge(a, nodes_[b].left);
  update(b);
  return b;
}

int32_t RangeTree::find_node(const NumericRange& r) const {
  int32_t n = root_;
  while (n >= 0) {
    const NumericRange& k = nodes_[n].range;
    if (same(k, r)) return n;
    n = less(r, k) ? nodes_[n].left : nodes_[n].right;
  }
  return -1;
}

IdList* RangeTree::find(const NumericRange& r) {
  int32_t n = find_node(r);
  return n < 0 ? nullptr : &nodes_[n].targets;
}

IdList& RangeTree::at(const NumericRange& r) {
  int32_t n = find_node(r);
  if (n >= 0) return nodes_[n].targets;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
    nodes_[n] = Node{};
  } else {
    n = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  seed_ ^= seed_ << 13;  // xorshift32 priorities
  seed_ ^= seed_ >> 17;
  seed_ ^= seed_ << 5;
  nodes_[n].range = r;
  nodes_[n].priority = seed_;
  update(n);
  int32_t l, rr;
  split(root_, r, false, l, rr);
  root_ = merge(merge(l, n), rr);
  return nodes_[n].targets;
}

void RangeTree::erase(const NumericRange& r) {
  int32_t l, mid, rr;
  split(root_, r, false, l, mid);
  int32_t eq;
  split(mid, r, true, eq, rr);
  // `eq` holds exactly the node for r (keys are unique).
  if (eq >= 0) {
    nodes_[eq] = Node{};
    free_.push_back(eq);
  }
  root_ = merge(l, rr);
}

size_t RangeTree::memory_bytes() const {
  size_t b = nodes_.capacity() * sizeof(Node) + free_.capacity() * sizeof(int32_t);
  for (const Node& n : nodes_) b += n.targets.heap_bytes();
  return b;
}

}  // namespace eddy::rules
