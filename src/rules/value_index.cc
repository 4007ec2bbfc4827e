#include "rules/value_index.h"

#include <algorithm>
#include <cstring>

namespace eddy::rules {

namespace {

template <class Map>
size_t map_bytes(const Map& m, size_t per_entry) {
  return m.bucket_count() * sizeof(void*) + m.size() * per_entry;
}

using Lengths = std::vector<std::pair<uint32_t, uint32_t>>;

void count_length(Lengths& lengths, uint32_t len) {
  auto it = std::lower_bound(lengths.begin(), lengths.end(), std::make_pair(len, 0u));
  if (it != lengths.end() && it->first == len) {
    ++it->second;
  } else {
    lengths.insert(it, {len, 1});
  }
}

void uncount_length(Lengths& lengths, uint32_t len) {
  auto it = std::lower_bound(lengths.begin(), lengths.end(), std::make_pair(len, 0u));
  if (it != lengths.end() && it->first == len && --it->second == 0) lengths.erase(it);
}

}  // namespace

ValueIndex::ValueIndex() = default;
ValueIndex::~ValueIndex() = default;

size_t ValueIndex::CidrHash::operator()(const CidrKey& k) const {
  uint64_t a, b;
  std::memcpy(&a, k.base.data(), 8);
  std::memcpy(&b, k.base.data() + 8, 8);
  return std::hash<uint64_t>{}(a * 0x9E3779B97F4A7C15ull ^ b ^ (uint64_t(k.bits) << 56));
}

ValueIndex::Extra& ValueIndex::extra() {
  if (!extra_) extra_ = std::make_unique<Extra>();
  return *extra_;
}

void ValueIndex::Affix::add(const std::string& key, uint32_t target) {
  bool fresh = false;
  map.at(key, hash_bytes(key), &fresh).push_back(target);
  if (fresh) count_length(lengths, static_cast<uint32_t>(key.size()));
}

void ValueIndex::Affix::remove(const std::string& key, uint32_t target) {
  uint64_t h = hash_bytes(key);
  IdList* t = map.find(key, h);
  if (!t) return;
  t->erase(target);
  if (!t->empty()) return;
  map.erase(key, h);
  uncount_length(lengths, static_cast<uint32_t>(key.size()));
}

namespace {

void flat_add(FlatMap<IdList>& map, std::string_view key, uint32_t target) {
  map.at(key, hash_bytes(key)).push_back(target);
}

void flat_remove(FlatMap<IdList>& map, std::string_view key, uint32_t target) {
  uint64_t h = hash_bytes(key);
  IdList* t = map.find(key, h);
  if (!t) return;
  t->erase(target);
  if (t->empty()) map.erase(key, h);
}

}  // namespace

void ValueIndex::add_atom(const Atom& a, uint32_t target) {
  switch (a.kind) {
    case AtomKind::string_eq: flat_add(strings_, a.text, target); return;
    default: break;
  }
  Extra& x = extra();
  switch (a.kind) {
    case AtomKind::string_eq: break;
    case AtomKind::number_eq: flat_add(x.numbers, NumberBytes(a.number).view(), target); break;
    case AtomKind::true_eq: x.literals[0].push_back(target); break;
    case AtomKind::false_eq: x.literals[1].push_back(target); break;
    case AtomKind::null_eq: x.literals[2].push_back(target); break;
    case AtomKind::exists: x.exists.push_back(target); break;
    case AtomKind::equals_ic: flat_add(x.equals_ic, a.text, target); break;
    case AtomKind::prefix: x.prefix.add(a.text, target); break;
    case AtomKind::prefix_ic: x.prefix_ic.add(a.text, target); break;
    case AtomKind::suffix: x.suffix.add(a.text, target); break;
    case AtomKind::suffix_ic: x.suffix_ic.add(a.text, target); break;
    case AtomKind::wildcard: {
      auto [it, fresh] = x.globs.try_emplace(a.text);
      it->second.targets.push_back(target);
      if (fresh) {
        it->second.glob = a.glob;
        std::string_view head = a.glob.head();
        auto& bucket = x.globs_by_head.at(head, hash_bytes(head));
        if (bucket.empty()) count_length(x.glob_head_lengths, static_cast<uint32_t>(head.size()));
        bucket.push_back(&it->second);
      }
      break;
    }
    case AtomKind::range: x.ranges.at(a.range).push_back(target); break;
    case AtomKind::cidr: {
      auto [it, fresh] = x.cidrs.try_emplace(CidrKey{a.cidr.base, a.cidr.bits});
      it->second.push_back(target);
      if (fresh && x.cidr_count[a.cidr.bits]++ == 0) {
        x.cidr_lengths.insert(std::lower_bound(x.cidr_lengths.begin(), x.cidr_lengths.end(), a.cidr.bits),
                              a.cidr.bits);
      }
      break;
    }
  }
}

void ValueIndex::remove_atom(const Atom& a, uint32_t target) {
  if (a.kind == AtomKind::string_eq) {
    flat_remove(strings_, a.text, target);
    return;
  }
  if (!extra_) return;
  Extra& x = *extra_;
  switch (a.kind) {
    case AtomKind::string_eq: break;
    case AtomKind::number_eq: flat_remove(x.numbers, NumberBytes(a.number).view(), target); break;
    case AtomKind::true_eq: x.literals[0].erase(target); break;
    case AtomKind::false_eq: x.literals[1].erase(target); break;
    case AtomKind::null_eq: x.literals[2].erase(target); break;
    case AtomKind::exists: x.exists.erase(target); break;
    case AtomKind::equals_ic: flat_remove(x.equals_ic, a.text, target); break;
    case AtomKind::prefix: x.prefix.remove(a.text, target); break;
    case AtomKind::prefix_ic: x.prefix_ic.remove(a.text, target); break;
    case AtomKind::suffix: x.suffix.remove(a.text, target); break;
    case AtomKind::suffix_ic: x.suffix_ic.remove(a.text, target); break;
    case AtomKind::wildcard: {
      auto it = x.globs.find(a.text);
      if (it == x.globs.end()) break;
      it->second.targets.erase(target);
      if (!it->second.targets.empty()) break;
      std::string_view head = a.glob.head();
      uint64_t hh = hash_bytes(head);
      if (auto* v = x.globs_by_head.find(head, hh)) {
        v->erase(std::find(v->begin(), v->end(), &it->second));
        if (v->empty()) {
          x.globs_by_head.erase(head, hh);
          uncount_length(x.glob_head_lengths, static_cast<uint32_t>(head.size()));
        }
      }
      x.globs.erase(it);
      break;
    }
    case AtomKind::range: {
      IdList* t = x.ranges.find(a.range);
      if (!t) break;
      t->erase(target);
      if (t->empty()) x.ranges.erase(a.range);
      break;
    }
    case AtomKind::cidr: {
      auto it = x.cidrs.find(CidrKey{a.cidr.base, a.cidr.bits});
      if (it == x.cidrs.end()) break;
      it->second.erase(target);
      if (!it->second.empty()) break;
      x.cidrs.erase(it);
      if (--x.cidr_count[a.cidr.bits] == 0) {
        x.cidr_lengths.erase(std::find(x.cidr_lengths.begin(), x.cidr_lengths.end(), a.cidr.bits));
      }
      break;
    }
  }
}

void ValueIndex::refresh_kinds() {
  kinds_ = 0;
  if (!extra_) return;
  const Extra& x = *extra_;
  auto set = [this](bool on, uint32_t bit) { kinds_ |= on ? bit : 0; };
  set(!x.exists.empty(), kExists);
  set(!x.prefix.map.empty(), kPrefix);
  set(!x.suffix.map.empty(), kSuffix);
  set(!x.equals_ic.empty() || !x.prefix_ic.map.empty() || !x.suffix_ic.map.empty(), kFolded);
  set(!x.globs.empty(), kGlobs);
  set(!x.cidrs.empty(), kCidrs);
  set(!x.numbers.empty(), kNumbers);
  set(!x.ranges.empty(), kRanges);
  set(!x.literals[0].empty() || !x.literals[1].empty() || !x.literals[2].empty(), kLiterals);
  set(!x.live_groups.empty(), kGroups);
}

void ValueIndex::add(uint32_t slot, const std::vector<Alternative>& alts) {
  add_alternatives(slot, alts);
  refresh_kinds();
}

void ValueIndex::remove(uint32_t slot, const std::vector<Alternative>& alts) {
  remove_alternatives(slot, alts);
  refresh_kinds();
}

void ValueIndex::add_alternatives(uint32_t slot, const std::vector<Alternative>& alts) {
  for (const Alternative& alt : alts) {
    if (alt.kind == Alternative::Kind::is) {
      add_atom(alt.atoms.front(), slot);
      continue;
    }
    if (alt.kind != Alternative::Kind::is_not) continue;
    Extra& x = extra();
    std::string key = alt.key();
    auto [it, fresh] = x.group_ids.try_emplace(key, 0);
    if (fresh) {
      uint32_t g;
      if (!x.free_groups.empty()) {
        g = x.free_groups.back();
        x.free_groups.pop_back();
      } else {
        g = static_cast<uint32_t>(x.groups.size());
        x.groups.emplace_back();
      }
      it->second = g;
      x.groups[g].atoms = alt.atoms;
      x.live_groups.push_back(g);
      for (const Atom& a : alt.atoms) add_atom(a, kNegative | g);
    }
    x.groups[it->second].targets.push_back(slot);
  }
}

void ValueIndex::remove_alternatives(uint32_t slot, const std::vector<Alternative>& alts) {
  for (const Alternative& alt : alts) {
    if (alt.kind == Alternative::Kind::is) {
      remove_atom(alt.atoms.front(), slot);
      continue;
    }
    if (alt.kind != Alternative::Kind::is_not || !extra_) continue;
    Extra& x = *extra_;
    auto it = x.group_ids.find(alt.key());
    if (it == x.group_ids.end()) continue;
    uint32_t g = it->second;
    x.groups[g].targets.erase(slot);
    if (!x.groups[g].targets.empty()) continue;
    for (const Atom& a : x.groups[g].atoms) remove_atom(a, kNegative | g);
    x.groups[g] = NegativeGroup{};
    x.live_groups.erase(std::find(x.live_groups.begin(), x.live_groups.end(), g));
    x.free_groups.push_back(g);
    x.group_ids.erase(it);
  }
}

size_t ValueIndex::memory_bytes() const {
  // An estimate: container nodes, buckets and out-of-line id storage.
  constexpr size_t kNode = 2 * sizeof(void*);  // next pointer + cached hash
  auto ids = [](const FlatMap<IdList>& m) {
    size_t b = m.memory_bytes();
    m.for_each([&b](std::string_view, const IdList& v) { b += v.heap_bytes(); });
    return b;
  };
  size_t b = sizeof(*this) + ids(strings_);
  if (!extra_) return b;
  const Extra& x = *extra_;
  b += sizeof(Extra) + ids(x.numbers) + ids(x.equals_ic);
  for (const Affix* a : {&x.prefix, &x.prefix_ic, &x.suffix, &x.suffix_ic}) {
    b += ids(a->map) + a->lengths.capacity() * 8;
  }
  b += map_bytes(x.globs, kNode + sizeof(std::string) + sizeof(GlobEntry) + 64);
  b += x.globs_by_head.memory_bytes();
  b += x.ranges.memory_bytes();
  b += map_bytes(x.cidrs, kNode + sizeof(CidrKey) + sizeof(IdList));
  b += x.groups.capacity() * sizeof(NegativeGroup);
  for (const auto& g : x.groups) b += g.atoms.capacity() * sizeof(Atom);
  return b;
}

}  // namespace eddy::rules
