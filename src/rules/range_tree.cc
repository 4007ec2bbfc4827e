#include "rules/range_tree.h"

#include <algorithm>
#include <cmath>

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

double RangeTree::Level::index(size_t l, size_t r) {
  if (l >= r) return -INFINITY;
  size_t m = l + (r - l) / 2;
  double h = std::max({entries[m].range.hi, index(l, m), index(m + 1, r)});
  max_hi[m] = h;
  return h;
}

void RangeTree::Level::index() {
  lo.resize(entries.size());
  max_hi.resize(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) lo[i] = entries[i].range.lo;
  index(0, entries.size());
}

RangeTree::Entry* RangeTree::Level::find(const NumericRange& r) {
  auto it = std::lower_bound(entries.begin(), entries.end(), r,
                             [](const Entry& e, const NumericRange& x) { return less(e.range, x); });
  return it != entries.end() && same(it->range, r) ? &*it : nullptr;
}

IdList* RangeTree::find(const NumericRange& r) {
  for (Level* level : {&recent_, &main_}) {
    Entry* e = level->find(r);
    if (e && e->alive) return &e->targets;
  }
  return nullptr;
}

IdList& RangeTree::at(const NumericRange& r) {
  if (Entry* e = recent_.find(r)) return e->targets;
  if (Entry* e = main_.find(r)) {
    if (!e->alive) {  // a placeholder comes back
      e->alive = true;
      --removed_;
      ++live_;
    }
    return e->targets;
  }
  ++live_;
  auto& v = recent_.entries;
  auto it = std::lower_bound(v.begin(), v.end(), r,
                             [](const Entry& e, const NumericRange& x) { return less(e.range, x); });
  size_t pos = static_cast<size_t>(it - v.begin());
  v.insert(it, Entry{r, {}});
  if (v.size() * v.size() > main_.entries.size() + 256) {
    // Merging moves entries: find r again in main_.
    merge_recent();
    return main_.find(r)->targets;
  }
  recent_.index();
  return v[pos].targets;
}

void RangeTree::erase(const NumericRange& r) {
  auto& v = recent_.entries;
  auto it = std::lower_bound(v.begin(), v.end(), r,
                             [](const Entry& e, const NumericRange& x) { return less(e.range, x); });
  if (it != v.end() && same(it->range, r)) {
    v.erase(it);
    recent_.index();
    --live_;
    return;
  }
  Entry* e = main_.find(r);
  if (!e || !e->alive) return;
  e->targets = IdList{};
  e->alive = false;
  --live_;
  ++removed_;
  if (removed_ * 2 > main_.entries.size()) merge_recent();  // compacts main_
}

void RangeTree::merge_recent() {
  std::vector<Entry> merged;
  merged.reserve(live_);
  auto& a = main_.entries;
  auto& b = recent_.entries;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && less(a[i].range, b[j].range))) {
      if (a[i].alive) merged.push_back(std::move(a[i]));  // drop placeholders
      ++i;
    } else {
      merged.push_back(std::move(b[j++]));
    }
  }
  a = std::move(merged);
  b.clear();
  removed_ = 0;
  main_.index();
  recent_.index();
}

size_t RangeTree::memory_bytes() const {
  size_t b = 0;
  for (const Level* l : {&main_, &recent_}) {
    b += l->entries.capacity() * sizeof(Entry) + (l->lo.capacity() + l->max_hi.capacity()) * sizeof(double);
    for (const Entry& e : l->entries) b += e.targets.heap_bytes();
  }
  return b;
}

}  // namespace eddy::rules
