// ValueIndex: for one field at one matcher state, finds which of many value sets (the lists
// of alternatives of pattern conditions) a leaf value satisfies, without testing each set:
// flat hash maps for exact values, equals-ignore-case, prefixes and suffixes (one probe per
// distinct length), wildcards bucketed by their literal head, an interval tree for numeric
// ranges and per-prefix-length maps for CIDR blocks. anything-but sets are found by
// complement: the index looks up what they exclude and reports the sets not excluded.
//
// Each registered set is known by a target id chosen by the caller (the matcher uses the
// state the set leads to). Not thread-safe for writes; concurrent const lookups are fine.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/flat_map.h"
#include "rules/id_list.h"
#include "rules/predicates.h"
#include "rules/range_tree.h"

namespace eddy::rules {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class ValueIndex {
 public:
  ValueIndex();
  ~ValueIndex();
  ValueIndex(const ValueIndex&) = delete;
  ValueIndex& operator=(const ValueIndex&) = delete;

  // Registers the set with alternatives `alts` (kinds `is` and `is_not`) under `target`
  // (below 2^31).
  void add(uint32_t target, const std::vector<Alternative>& alts);
  // Unregisters it; `alts` must be what add() was given.
  void remove(uint32_t target, const std::vector<Alternative>& alts);

  // Calls emit(target) for every registered set that holds on the leaf; a target may be
  // reported more than once. `scratch` is working memory.
  template <class Emit>
  void lookup(LeafForms& leaf, std::vector<uint32_t>& scratch, Emit&& emit) const;

  // Starts loading what an exact-value lookup of a leaf with this type and leaf_hash reads.
  void prefetch(LeafValue::Type type, uint64_t hash) const {
    if (type == LeafValue::Type::string) {
      strings_.prefetch(hash);
    } else if (type == LeafValue::Type::number && (kinds_ & kNumbers)) {
      extra_->numbers.prefetch(hash);
    }
  }

  size_t memory_bytes() const;

 private:
  static constexpr uint32_t kNegative = 0x80000000u;  // target bit: an anything-but group

  struct Affix {
    FlatMap<IdList> map;
    std::vector<std::pair<uint32_t, uint32_t>> lengths;  // (key length, keys), ascending
    void add(const std::string& key, uint32_t target);
    void remove(const std::string& key, uint32_t target);
    template <class F>
    void prefixes_of(std::string_view s, F& f) const;
    template <class F>
    void suffixes_of(std::string_view s, F& f) const;
  };
  struct GlobEntry {
    Glob glob;
    IdList targets;
  };
  struct CidrKey {
    IpAddress base;
    uint8_t bits;
    bool operator==(const CidrKey&) const = default;
  };
  struct CidrHash {
    size_t operator()(const CidrKey& k) const;
  };
  struct NegativeGroup {
    std::vector<Atom> atoms;
    IdList targets;
  };
  // Everything but exact strings, allocated on first use.
  struct Extra {
    FlatMap<IdList> numbers;  // by NumberBytes
    IdList literals[3];       // true, false, null
    IdList exists;
    FlatMap<IdList> equals_ic;
    Affix prefix, prefix_ic, suffix, suffix_ic;
    StringMap<GlobEntry> globs;  // by source text; nodes do not move
    FlatMap<std::vector<const GlobEntry*>> globs_by_head;
    std::vector<std::pair<uint32_t, uint32_t>> glob_head_lengths;  // (head length, heads)
    RangeTree ranges;
    std::unordered_map<CidrKey, IdList, CidrHash> cidrs;
    std::array<uint32_t, 129> cidr_count{};
    std::vector<uint8_t> cidr_lengths;
    std::vector<NegativeGroup> groups;
    std::vector<uint32_t> live_groups;
    std::vector<uint32_t> free_groups;
    StringMap<uint32_t> group_ids;  // by Alternative::key()
  };

  // Bits of kinds_: which parts of Extra hold anything, so that a lookup reads only those
  // (Extra spans many cache lines).
  enum : uint32_t {
    kExists = 1,
    kPrefix = 2,
    kSuffix = 4,
    kFolded = 8,  // equals-ignore-case, prefix and suffix ignoring case
    kGlobs = 16,
    kCidrs = 32,
    kNumbers = 64,
    kRanges = 128,
    kLiterals = 256,
    kGroups = 512,
  };
  void refresh_kinds();
  void add_alternatives(uint32_t target, const std::vector<Alternative>& alts);
  void remove_alternatives(uint32_t target, const std::vector<Alternative>& alts);
  void add_atom(const Atom& a, uint32_t target);
  void remove_atom(const Atom& a, uint32_t target);
  Extra& extra();

  template <class F>
  void visit(LeafForms& leaf, F& f) const;

  FlatMap<IdList> strings_;
  uint32_t kinds_ = 0;
  std::unique_ptr<Extra> extra_;
};

// --- lookup, inline for speed ---

template <class F>
void ValueIndex::Affix::prefixes_of(std::string_view s, F& f) const {
  for (auto [len, n] : lengths) {
    if (len > s.size()) break;
    std::string_view p = s.substr(0, len);
    if (const IdList* t = map.find(p, hash_bytes(p))) f(*t);
  }
}

template <class F>
void ValueIndex::Affix::suffixes_of(std::string_view s, F& f) const {
  for (auto [len, n] : lengths) {
    if (len > s.size()) break;
    std::string_view p = s.substr(s.size() - len);
    if (const IdList* t = map.find(p, hash_bytes(p))) f(*t);
  }
}

template <class F>
void ValueIndex::visit(LeafForms& leaf, F& f) const {
  const LeafValue& v = leaf.value();
  if (v.type == LeafValue::Type::string && !strings_.empty()) {
    if (const IdList* t = strings_.find(v.str, leaf.hash())) f(*t);
  }
  uint32_t kinds = kinds_;
  if (kinds == 0) return;
  const Extra& x = *extra_;
  if (kinds & kExists) f(x.exists);
  switch (v.type) {
    case LeafValue::Type::string: {
      if (kinds & kPrefix) x.prefix.prefixes_of(v.str, f);
      if (kinds & kSuffix) x.suffix.suffixes_of(v.str, f);
      if (kinds & kFolded) {
        const std::string& folded = leaf.folded();
        if (!x.equals_ic.empty()) {
          if (const IdList* t = x.equals_ic.find(folded, leaf.folded_hash())) f(*t);
        }
        if (!x.prefix_ic.map.empty()) x.prefix_ic.prefixes_of(folded, f);
        if (!x.suffix_ic.map.empty()) x.suffix_ic.suffixes_of(folded, f);
      }
      if (kinds & kGlobs) {
        for (auto [len, n] : x.glob_head_lengths) {
          if (len > v.str.size()) break;
          std::string_view head = v.str.substr(0, len);
          const auto* bucket = x.globs_by_head.find(head, hash_bytes(head));
          if (!bucket) continue;
          for (const GlobEntry* g : *bucket) {
            if (g->glob.matches(v.str)) f(g->targets);
          }
        }
      }
      if (kinds & kCidrs) {
        const auto& ip = leaf.ip();
        if (ip) {
          for (uint8_t bits : x.cidr_lengths) {
            auto it = x.cidrs.find(CidrKey{mask_ip(*ip, bits), bits});
            if (it != x.cidrs.end()) f(it->second);
          }
        }
      }
      break;
    }
    case LeafValue::Type::number: {
      if (kinds & kNumbers) {
        if (const IdList* t = x.numbers.find(NumberBytes(v.num).view(), leaf.hash())) f(*t);
      }
      if (kinds & kRanges) x.ranges.query(v.num, f);
      break;
    }
    case LeafValue::Type::boolean_true:
      if (kinds & kLiterals) f(x.literals[0]);
      break;
    case LeafValue::Type::boolean_false:
      if (kinds & kLiterals) f(x.literals[1]);
      break;
    case LeafValue::Type::null:
      if (kinds & kLiterals) f(x.literals[2]);
      break;
  }
}

template <class Emit>
void ValueIndex::lookup(LeafForms& leaf, std::vector<uint32_t>& scratch, Emit&& emit) const {
  scratch.clear();  // anything-but groups whose excluded values the leaf hits
  auto on_targets = [&](const IdList& targets) {
    for (uint32_t t : targets) {
      if (t & kNegative) {
        scratch.push_back(t & ~kNegative);
      } else {
        emit(t);
      }
    }
  };
  visit(leaf, on_targets);
  if ((kinds_ & kGroups) == 0) return;
  for (uint32_t g : extra_->live_groups) {
    bool excluded = false;
    for (uint32_t hit : scratch) excluded |= hit == g;
    if (excluded) continue;
    for (uint32_t t : extra_->groups[g].targets) emit(t);
  }
}

}  // namespace eddy::rules
