#include "rules/range_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace eddy::rules {
namespace {

std::vector<uint32_t> Stab(const RangeTree& t, double v) {
  std::vector<uint32_t> out;
  t.query(v, [&](const IdList& ids) { out.insert(out.end(), ids.begin(), ids.end()); });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(RangeTree, StabbingMatchesABruteForceScanWhileIntervalsComeAndGo) {
  std::mt19937 rng(5);
  RangeTree tree;
  std::vector<std::pair<NumericRange, uint32_t>> live;  // the model
  auto random_range = [&] {
    NumericRange r;
    int a = static_cast<int>(rng() % 200), b = a + static_cast<int>(rng() % 40);
    switch (rng() % 4) {
      case 0: r = NumericRange{double(a), true, double(b), rng() % 2 == 0}; break;
      case 1: r.lo = a; r.lo_incl = rng() % 2 == 0; break;  // open above
      case 2: r.hi = b; r.hi_incl = rng() % 2 == 0; break;  // open below
      default: r = NumericRange{double(a), true, double(a), true};  // a point
    }
    return r;
  };
  for (uint32_t id = 0; id < 3000; ++id) {
    if (!live.empty() && rng() % 3 == 0) {
      size_t k = rng() % live.size();
      IdList* t = tree.find(live[k].first);
      ASSERT_NE(t, nullptr);
      ASSERT_TRUE(t->erase(live[k].second));
      if (t->empty()) tree.erase(live[k].first);
      live.erase(live.begin() + static_cast<ptrdiff_t>(k));
    } else {
      NumericRange r = random_range();
      tree.at(r).push_back(id);
      live.emplace_back(r, id);
    }
    if (id % 97 == 0) {
      for (double v = -5; v <= 245; v += 0.5) {
        std::vector<uint32_t> expected;
        for (const auto& [r, i] : live) {
          if (r.contains(v)) expected.push_back(i);
        }
        std::sort(expected.begin(), expected.end());
        ASSERT_EQ(Stab(tree, v), expected) << "v=" << v << " after " << id;
      }
    }
  }
  for (const auto& [r, i] : live) {
    IdList* t = tree.find(r);
    ASSERT_NE(t, nullptr);
    t->erase(i);
    if (t->empty()) tree.erase(r);
  }
  EXPECT_TRUE(tree.empty());
  EXPECT_TRUE(Stab(tree, 10).empty());
}

}  // namespace
}  // namespace eddy::rules
