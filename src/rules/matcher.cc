#include "rules/matcher.h"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "rules/event_json.h"
#include "rules/interpreter.h"
#include "rules/json_scan.h"
#include "rules/value_index.h"

namespace eddy::rules {

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr uint32_t kAbsent = 0xFFFFFFFEu;  // Step::set for "the field has no value"
constexpr uint32_t kRootNode = 0;
constexpr uint32_t kRootState = 0;
// Edges with at most this many value sets test each set directly; larger ones get an index.
constexpr size_t kSmallEdge = 4;

// Allocates on cache-line boundaries: a state's further edges, one line each, then start a
// line, so the walk reads each in one.
template <typename T>
struct LineAllocator {
  using value_type = T;
  LineAllocator() = default;
  template <typename U>
  LineAllocator(const LineAllocator<U>&) {}
  T* allocate(size_t n) {
    return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64}));
  }
  void deallocate(T* p, size_t) { ::operator delete (p, std::align_val_t{64}); }
  bool operator==(const LineAllocator&) const { return true; }
};

// One step of a branch: some value of field node `field` is in value set `set`.
struct Step {
  uint32_t field;
  uint32_t set;
  bool operator==(const Step&) const = default;
  bool operator<(const Step& o) const { return field != o.field ? field < o.field : set < o.set; }
};

// How selective a value set is (lower: more), so branches test their most selective step
// first: one exact value, then lists of exact values, equals-ignore-case, prefix and suffix,
// cidr, wildcard, numeric ranges, and last exists and anything-but (absence ranks after all).
uint8_t selectivity_rank(const std::vector<Alternative>& alts) {
  uint8_t rank = 0;
  for (const Alternative& alt : alts) {
    uint8_t r = 7;  // anything-but, exists
    if (alt.kind == Alternative::Kind::is) {
      switch (alt.atoms.front().kind) {
        case AtomKind::string_eq:
        case AtomKind::number_eq:
        case AtomKind::true_eq:
        case AtomKind::false_eq:
        case AtomKind::null_eq:
          r = alts.size() == 1 ? 0 : 1;
          break;
        case AtomKind::equals_ic:
          r = 2;
          break;
        case AtomKind::prefix:
        case AtomKind::prefix_ic:
        case AtomKind::suffix:
        case AtomKind::suffix_ic:
          r = 3;
          break;
        case AtomKind::cidr:
          r = 4;
          break;
        case AtomKind::wildcard:
          r = 5;
          break;
        case AtomKind::range:
          r = 6;
          break;
        case AtomKind::exists:
          r = 7;
          break;
      }
    }
    rank = std::max(rank, r);
  }
  return rank;
}

bool set_holds(const Alternative* alts, size_t n, LeafForms& leaf) {
  for (const Alternative* alt_ptr = alts; alt_ptr != alts + n; ++alt_ptr) {
    const Alternative& alt = *alt_ptr;
    if (alt.kind == Alternative::Kind::is) {
      if (atom_holds(alt.atoms.front(), leaf)) return true;
    } else if (alt.kind == Alternative::Kind::is_not) {
      bool excluded = false;
      for (const Atom& a : alt.atoms) {
        if (atom_holds(a, leaf)) {
          excluded = true;
          break;
        }
      }
      if (!excluded) return true;
    }
  }
  return false;
}

// A growable array of trivially copyable values for the walk's working lists: push_back
// is a compare and a store (std::vector's is not always inlined), growth out of line.
template <class T>
class PodVec {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  T* begin() { return data_.get(); }
  T* end() { return data_.get() + size_; }
  const T* begin() const { return data_.get(); }
  const T* end() const { return data_.get() + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  void push_back(const T& v) {
    if (size_ == cap_) grow();
    data_[size_++] = v;
  }
  // Appends an element (holding whatever the slot last held) for the caller to fill in.
  T& push() {
    if (size_ == cap_) grow();
    return data_[size_++];
  }
  void append(const T* b, const T* e) {
    for (; b != e; ++b) push_back(*b);
  }
  // Drops the elements from `from` to the end.
  void erase(T* from, T*) { size_ = static_cast<size_t>(from - data_.get()); }

 private:
  [[gnu::noinline]] void grow() {
    size_t cap = cap_ ? cap_ * 2 : 64;
    auto bigger = std::make_unique<T[]>(cap);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_ * sizeof(T));
    data_ = std::move(bigger);
    cap_ = cap;
  }
  std::unique_ptr<T[]> data_;
  size_t size_ = 0, cap_ = 0;
};

// A list binding: the leaf was reached through element `index` of list instance `array`.
struct Binding {
  uint32_t array;
  uint32_t index;
};

struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
};

struct Leaf {
  LeafValue value;
  Span trail;     // bindings, in Scratch::trails
  uint32_t next;  // next leaf of the same field, or kNone
};

// Per-thread working memory for match(); reused across calls and matchers.
struct Scratch {
  std::string buffer;            // the event, when it must be copied to be padded for simdjson
  simdjson::dom::parser parser;  // events the one-pass reader cannot read
  std::string strings;           // unescaped strings of the event
  size_t strings_used = 0;
  std::string key_buffer;  // one unescaped key
  scan::EventText text;    // the event being read, classified
  PodVec<Leaf> leaves;
  std::vector<LeafForms> forms;  // per leaf: its hash, case-folded form and address
  std::vector<uint32_t> head;    // per field node: first leaf, or kNone
  PodVec<uint32_t> touched;
  std::vector<uint64_t> seen;  // per field node: object instance where last seen
  uint64_t objects = 0;
  uint32_t arrays = 0;
  std::vector<Binding> trails;
  std::vector<Binding> pending;

  struct Candidate {
    uint32_t state;
    Span constraint;  // in `constraints`
    bool dirty;       // loose walk: reached through a list-bound leaf
  };
  PodVec<Candidate> stack;  // the walk's queue
  std::vector<Binding> constraints;
  std::vector<uint32_t> clean_stamp, any_stamp;  // per state
  uint32_t epoch = 0;
  PodVec<uint32_t> hits;       // next states from one leaf
  PodVec<uint32_t> collected;  // next states from all unbound leaves of one edge
  std::vector<uint32_t> negatives;
  std::vector<uint64_t> verify;

  void next_epoch() {
    if (++epoch == 0) {
      std::fill(clean_stamp.begin(), clean_stamp.end(), 0);
      std::fill(any_stamp.begin(), any_stamp.end(), 0);
      epoch = 1;
    }
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

size_t thread_stripe() {
  static std::atomic<size_t> next{0};
  thread_local size_t stripe = next.fetch_add(1, std::memory_order_relaxed);
  return stripe;
}

}  // namespace

struct Matcher::Impl {
  // A node of the tree of field paths rules use; the root is the event object. Children
  // are found through `key_table`, not through the node.
  struct FieldNode {
    std::string key;
    uint32_t parent = kNone;
    uint32_t refs = 0;      // steps targeting this node + children
    uint32_t targets = 0;   // steps targeting this node
    uint32_t children = 0;  // child nodes
    // Bit min(length, 63) is set for the length of every child key: most keys of an
    // event that no rule uses are dismissed by their length alone. Bits may outlive the
    // children that set them (cleared only when the last child goes).
    uint64_t child_lengths = 0;
  };
  // One (parent, key) -> child entry of the open-addressing `key_table`; hash 0: empty.
  // The first 8 bytes and the length of the key are kept here, so a lookup of a key of at
  // most 8 bytes reads one entry and nothing else.
  struct KeyEntry {
    uint64_t hash = 0;
    uint64_t head = 0;
    uint32_t parent = 0;
    uint32_t child = 0;
    uint32_t len = 0;
  };

  // The first min(8, size) bytes of `key` as a little-endian number; reads nothing beyond
  // the key.
  [[gnu::always_inline]] static uint64_t key_head(std::string_view key) {
    const char* p = key.data();
    size_t n = key.size();
    auto load = [p](size_t at, size_t bytes) {
      uint64_t v = 0;
      std::memcpy(&v, p + at, bytes);  // fixed sizes: compiled to plain loads
      return v;
    };
    if (n >= 8) return load(0, 8);
    if (n >= 4) return load(0, 4) | (load(n - 4, 4) << ((n - 4) * 8));
    if (n >= 2) return load(0, 2) | (load(n - 2, 2) << ((n - 2) * 8));
    return n == 1 ? load(0, 1) : 0;
  }
  // A key is looked up by its parent, length and first 8 bytes: one multiplication away
  // from a table slot, and for keys of up to 8 bytes an exact comparison.
  static uint64_t key_hash(uint32_t parent, size_t len, uint64_t head) {
    uint64_t h = (head ^ (uint64_t{parent} << 32 | len)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return h ? h : 1;
  }
  static uint64_t length_bit(size_t len) { return uint64_t{1} << (len < 63 ? len : 63); }
  static uint64_t key_hash(uint32_t parent, std::string_view key) {
    return key_hash(parent, key.size(), key_head(key));
  }
  struct SetDef {
    std::vector<Alternative> alts;
    uint32_t refs = 0;
    uint8_t rank = 0;
  };
  // One value set on an edge and the state it leads to. The test is laid out in the slot
  // so that the common cases touch little else: one exact string (compared by leaf_hash,
  // then the text, which `ptr` points at inside the set's atom), one exact number (by
  // number_key), one other test (`ptr` is the atom); any other set is evaluated from its
  // alternatives (`ptr`, `n_alts`). Pointers into a SetDef stay valid while the slot
  // references the set.
  enum class SlotTest : uint8_t { general, string, number, atom };
  struct Slot {
    uint32_t next = kNone;
    uint32_t refs = 0;  // 0: free
    uint32_t set = kNone;
    SlotTest test = SlotTest::general;
    uint16_t n_alts = 0;
    uint64_t key = 0;
    const void* ptr = nullptr;
  };
  // An edge's slots after the first: one allocation holding its size, capacity and slots,
  // so that the edge itself keeps one pointer (an edge is then one cache line).
  class MoreSlots {
   public:
    MoreSlots() = default;
    MoreSlots(MoreSlots&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
    MoreSlots& operator=(MoreSlots&& o) noexcept {
      std::swap(block_, o.block_);
      return *this;
    }
    ~MoreSlots() { ::operator delete(block_); }

    uint32_t size() const { return block_ ? block_->size : 0; }
    size_t capacity() const { return block_ ? block_->capacity : 0; }
    Slot& operator[](uint32_t i) { return slots()[i]; }
    const Slot& operator[](uint32_t i) const { return slots()[i]; }
    const Slot* begin() const { return block_ ? slots() : nullptr; }
    const Slot* end() const { return block_ ? slots() + block_->size : nullptr; }
    void emplace_back() {
      if (size() == capacity()) {
        uint32_t cap = block_ ? 2 * block_->capacity : 1;
        auto* b = static_cast<Block*>(::operator new(sizeof(Block) + cap * sizeof(Slot)));
        b->size = size();
        b->capacity = cap;
        if (block_) std::memcpy(static_cast<void*>(b + 1), slots(), block_->size * sizeof(Slot));
        ::operator delete(block_);
        block_ = b;
      }
      new (slots() + block_->size) Slot{};
      ++block_->size;
    }

   private:
    struct Block {
      uint32_t size;
      uint32_t capacity;
    };
    static_assert(sizeof(Block) % alignof(Slot) == 0 && std::is_trivially_copyable_v<Slot>);
    Slot* slots() const { return reinterpret_cast<Slot*>(block_ + 1); }
    Block* block_ = nullptr;
  };
  struct BigEdge {
    ValueIndex index;
    std::unordered_map<uint32_t, uint32_t> slot_of;  // set -> slot
    std::vector<uint32_t> free_slots;
  };
  // The first slot of an edge and the first edge of a state are stored inline: most states
  // are links of a chain (one edge, one slot), which then cost one cache line or two. What
  // the walk reads of every edge (field, absence, whether it is indexed) comes first, and a
  // state's accepted rules before its first edge; a state is aligned to fill two cache lines.
  struct Edge {
    uint32_t field = kNone;
    uint32_t absent_next = kNone;
    uint32_t absent_refs = 0;
    uint32_t live = 0;             // slots in use
    std::unique_ptr<BigEdge> big;  // once the edge has more than kSmallEdge sets
    Slot first_slot;
    MoreSlots more_slots;

    uint32_t slot_count() const { return 1 + static_cast<uint32_t>(more_slots.size()); }
    Slot& slot(uint32_t i) { return i == 0 ? first_slot : more_slots[i - 1]; }
    const Slot& slot(uint32_t i) const { return i == 0 ? first_slot : more_slots[i - 1]; }
  };
  static_assert(sizeof(Edge) == 64);
  struct alignas(64) State {
    RuleIds accepts;
    Edge first_edge;  // first_edge.field == kNone: no edges
    std::vector<Edge, LineAllocator<Edge>> more_edges;

    size_t edge_count() const { return first_edge.field == kNone ? 0 : 1 + more_edges.size(); }
    Edge& edge(size_t i) { return i == 0 ? first_edge : more_edges[i - 1]; }
    const Edge& edge(size_t i) const { return i == 0 ? first_edge : more_edges[i - 1]; }
    size_t add_edge(uint32_t field) {
      if (first_edge.field == kNone) {
        first_edge = Edge{};
        first_edge.field = field;
        return 0;
      }
      more_edges.emplace_back();
      more_edges.back().field = field;
      return more_edges.size();
    }
    void erase_edge(size_t i) {
      if (i == 0) {
        if (more_edges.empty()) {
          first_edge = Edge{};
        } else {
          first_edge = std::move(more_edges.back());
          more_edges.pop_back();
        }
      } else {
        if (i != more_edges.size()) std::swap(more_edges[i - 1], more_edges.back());
        more_edges.pop_back();
      }
    }
  };
  struct Rule {
    std::vector<std::vector<Step>> branches;
  };

  MatcherOptions options;
  std::vector<FieldNode> nodes;
  std::vector<uint32_t> free_nodes;
  std::vector<KeyEntry> key_table = std::vector<KeyEntry>(16);  // size: a power of 2
  size_t key_count = 0;
  std::vector<SetDef> sets;
  std::vector<uint32_t> free_sets;
  StringMap<uint32_t> set_ids;
  std::vector<State> states;
  std::vector<uint32_t> free_states;
  std::unordered_map<uint64_t, Rule> rules;
  size_t branch_count = 0;

  explicit Impl(MatcherOptions o) : options(o) {
    nodes.emplace_back();   // the event object
    states.emplace_back();  // the start state
  }

  // --- building ---

  [[gnu::always_inline]] uint32_t find_child(uint32_t node, std::string_view key) const {
    uint64_t head = key_head(key);
    uint64_t hash = key_hash(node, key.size(), head);
    size_t mask = key_table.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const KeyEntry& e = key_table[i];
      if (e.hash == hash && e.head == head && e.len == key.size() && e.parent == node &&
          (key.size() <= 8 || nodes[e.child].key == key)) {
        return e.child;
      }
      if (e.hash == 0) return kNone;
    }
  }

  void key_insert(const KeyEntry& entry) {
    if ((key_count + 1) * 2 > key_table.size()) {
      std::vector<KeyEntry> old(key_table.size() * 2);
      old.swap(key_table);
      key_count = 0;
      for (const KeyEntry& e : old) {
        if (e.hash != 0) key_insert(e);
      }
    }
    size_t mask = key_table.size() - 1;
    size_t i = entry.hash & mask;
    while (key_table[i].hash != 0) i = (i + 1) & mask;
    key_table[i] = entry;
    ++key_count;
  }

  // Removes the entry of `child`; linear probing with backward-shift deletion.
  void key_erase(uint32_t child) {
    const FieldNode& n = nodes[child];
    size_t mask = key_table.size() - 1;
    size_t i = key_hash(n.parent, n.key) & mask;
    while (key_table[i].child != child || key_table[i].hash == 0) i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; key_table[j].hash != 0; j = (j + 1) & mask) {
      size_t home = key_table[j].hash & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        key_table[i] = key_table[j];
        i = j;
      }
    }
    key_table[i] = KeyEntry{};
    --key_count;
  }

  uint32_t intern_field(const std::vector<std::string>& path) {
    uint32_t node = kRootNode;
    for (const std::string& seg : path) {
      uint32_t child = find_child(node, seg);
      if (child == kNone) {
        if (!free_nodes.empty()) {
          child = free_nodes.back();
          free_nodes.pop_back();
        } else {
          child = static_cast<uint32_t>(nodes.size());
          nodes.emplace_back();
        }
        nodes[child] = FieldNode{};
        nodes[child].key = seg;
        nodes[child].parent = node;
        ++nodes[node].children;
        ++nodes[node].refs;
        nodes[node].child_lengths |= length_bit(seg.size());
        key_insert(KeyEntry{key_hash(node, seg), key_head(seg), node, child,
                            static_cast<uint32_t>(seg.size())});
      }
      node = child;
    }
    ++nodes[node].refs;
    ++nodes[node].targets;
    return node;
  }

  void release_field(uint32_t node) {
    --nodes[node].targets;
    --nodes[node].refs;
    while (node != kRootNode && nodes[node].refs == 0) {
      uint32_t parent = nodes[node].parent;
      key_erase(node);
      if (--nodes[parent].children == 0) nodes[parent].child_lengths = 0;
      --nodes[parent].refs;
      nodes[node] = FieldNode{};
      free_nodes.push_back(node);
      node = parent;
    }
  }

  uint32_t intern_set(const Condition& c) {
    std::string key = c.key();
    auto it = set_ids.find(key);
    if (it != set_ids.end()) {
      ++sets[it->second].refs;
      return it->second;
    }
    uint32_t id;
    if (!free_sets.empty()) {
      id = free_sets.back();
      free_sets.pop_back();
    } else {
      id = static_cast<uint32_t>(sets.size());
      sets.emplace_back();
    }
    sets[id].alts = c.alternatives;
    sets[id].refs = 1;
    sets[id].rank = selectivity_rank(c.alternatives);
    set_ids.emplace(std::move(key), id);
    return id;
  }

  void release_set(uint32_t id) {
    if (--sets[id].refs > 0) return;
    Condition c;
    c.alternatives = std::move(sets[id].alts);
    set_ids.erase(c.key());
    sets[id] = SetDef{};
    free_sets.push_back(id);
  }

  uint32_t new_state() {
    if (!free_states.empty()) {
      uint32_t s = free_states.back();
      free_states.pop_back();
      return s;
    }
    states.emplace_back();
    return static_cast<uint32_t>(states.size() - 1);
  }

  void free_state(uint32_t s) {
    states[s] = State{};
    free_states.push_back(s);
  }

  static size_t find_edge(const State& st, uint32_t field) {
    for (size_t i = 0, n = st.edge_count(); i < n; ++i) {
      if (st.edge(i).field == field) return i;
    }
    return kNone;
  }

  uint32_t find_slot(const Edge& e, uint32_t set) const {
    if (e.big) {
      auto it = e.big->slot_of.find(set);
      return it == e.big->slot_of.end() ? kNone : it->second;
    }
    for (uint32_t i = 0, n = e.slot_count(); i < n; ++i) {
      if (e.slot(i).refs > 0 && e.slot(i).set == set) return i;
    }
    return kNone;
  }

  // A free slot of `e`, appended if there is none.
  static uint32_t free_slot(Edge& e) {
    if (e.big && !e.big->free_slots.empty()) {
      uint32_t i = e.big->free_slots.back();
      e.big->free_slots.pop_back();
      return i;
    }
    if (!e.big) {
      for (uint32_t i = 0, n = e.slot_count(); i < n; ++i) {
        if (e.slot(i).refs == 0) return i;
      }
    }
    e.more_slots.emplace_back();
    return static_cast<uint32_t>(e.more_slots.size());
  }

  Slot make_slot(uint32_t set, uint32_t next) const {
    Slot slot;
    slot.next = next;
    slot.set = set;
    const auto& alts = sets[set].alts;
    slot.ptr = alts.data();
    slot.n_alts = static_cast<uint16_t>(alts.size());
    if (alts.size() == 1 && alts[0].kind == Alternative::Kind::is) {
      const Atom& a = alts[0].atoms.front();
      if (a.kind == AtomKind::string_eq) {
        slot.test = SlotTest::string;
        slot.key = hash_bytes(a.text);
        slot.ptr = &a.text;
      } else if (a.kind == AtomKind::number_eq) {
        slot.test = SlotTest::number;
        slot.key = number_key(a.number);
      } else {
        slot.test = SlotTest::atom;
        slot.ptr = &a;
      }
    }
    return slot;
  }

  // Follows or creates the edge for `step` out of state `s`; returns the next state.
  // new_state() may move `states`, so references into it are taken afresh after it.
  uint32_t extend(uint32_t s, const Step& step) {
    size_t ei = find_edge(states[s], step.field);
    if (ei == kNone) ei = states[s].add_edge(step.field);
    if (step.set == kAbsent) {
      if (states[s].edge(ei).absent_next == kNone) {
        uint32_t n = new_state();
        states[s].edge(ei).absent_next = n;
      }
      Edge& e = states[s].edge(ei);
      ++e.absent_refs;
      return e.absent_next;
    }
    uint32_t slot = find_slot(states[s].edge(ei), step.set);
    if (slot == kNone) {
      uint32_t n = new_state();
      Edge& e = states[s].edge(ei);
      slot = free_slot(e);
      e.slot(slot) = make_slot(step.set, n);
      ++e.live;
      if (e.big) {
        e.big->index.add(n, sets[step.set].alts);
        e.big->slot_of.emplace(step.set, slot);
      } else if (e.live > kSmallEdge) {
        e.big = std::make_unique<BigEdge>();
        for (uint32_t i = 0, count = e.slot_count(); i < count; ++i) {
          const Slot& sl = e.slot(i);
          if (sl.set == kNone) {
            e.big->free_slots.push_back(i);
            continue;
          }
          e.big->index.add(sl.next, sets[sl.set].alts);
          e.big->slot_of.emplace(sl.set, i);
        }
      }
    }
    Slot& sl = states[s].edge(ei).slot(slot);
    ++sl.refs;
    return sl.next;
  }

  // Undoes one extend(): drops the reference `step` holds from state `s`.
  void retract(uint32_t s, const Step& step) {
    size_t ei = find_edge(states[s], step.field);
    Edge& e = states[s].edge(ei);
    if (step.set == kAbsent) {
      if (--e.absent_refs == 0) {
        free_state(e.absent_next);
        e.absent_next = kNone;
      }
    } else {
      uint32_t slot = find_slot(e, step.set);
      Slot& sl = e.slot(slot);
      if (--sl.refs == 0) {
        if (e.big) {
          e.big->index.remove(sl.next, sets[step.set].alts);
          e.big->slot_of.erase(step.set);
          e.big->free_slots.push_back(slot);
        }
        free_state(sl.next);
        sl = Slot{};
        --e.live;
      }
    }
    if (e.live == 0 && e.absent_refs == 0) states[s].erase_edge(ei);
  }

  Status add(uint64_t rule_id, const Pattern& pattern) {
    if (pattern.empty()) {
      return make_error(Errc::invalid_argument, "cannot add an empty pattern; compile one first");
    }
    remove(rule_id);
    Rule rule;
    for (const Branch& branch : expand_branches(pattern)) {
      std::vector<Step> steps;
      for (const Condition& c : branch) {
        steps.push_back(Step{intern_field(c.path), c.absent() ? kAbsent : intern_set(c)});
      }
      std::sort(steps.begin(), steps.end(), [this](const Step& a, const Step& b) {
        uint8_t ra = a.set == kAbsent ? 8 : sets[a.set].rank;
        uint8_t rb = b.set == kAbsent ? 8 : sets[b.set].rank;
        return ra != rb ? ra < rb : a < b;
      });
      rule.branches.push_back(std::move(steps));
    }
    // Identical branches (possible with $or) would only duplicate work.
    std::sort(rule.branches.begin(), rule.branches.end());
    for (size_t i = 1; i < rule.branches.size();) {
      if (rule.branches[i] == rule.branches[i - 1]) {
        for (const Step& st : rule.branches[i]) release_step_refs(st);
        rule.branches.erase(rule.branches.begin() + static_cast<ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    for (const auto& steps : rule.branches) {
      uint32_t s = kRootState;
      for (const Step& st : steps) s = extend(s, st);
      states[s].accepts.push_back(rule_id);
    }
    branch_count += rule.branches.size();
    rules.emplace(rule_id, std::move(rule));
    return {};
  }

  void release_step_refs(const Step& st) {
    if (st.set != kAbsent) release_set(st.set);
    release_field(st.field);
  }

  void remove(uint64_t rule_id) {
    auto it = rules.find(rule_id);
    if (it == rules.end()) return;
    for (const auto& steps : it->second.branches) {
      std::vector<uint32_t> path{kRootState};
      for (const Step& st : steps) {
        const State& cur = states[path.back()];
        const Edge& e = cur.edge(find_edge(cur, st.field));
        path.push_back(st.set == kAbsent ? e.absent_next : e.slot(find_slot(e, st.set)).next);
      }
      states[path.back()].accepts.erase(rule_id);
      for (size_t i = steps.size(); i-- > 0;) retract(path[i], steps[i]);
      for (const Step& st : steps) release_step_refs(st);
    }
    branch_count -= it->second.branches.size();
    rules.erase(it);
  }

  // --- matching ---

  // simdjson reads up to SIMDJSON_PADDING bytes past the end of its input (without using
  // them). When those bytes lie on the same memory page as the event's last byte they are
  // readable and the event is parsed in place; otherwise it is copied into a padded buffer.
  // Sanitizers would report the over-read, so their builds always copy.
  static bool padding_readable(std::string_view json) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)json;
    return false;
#else
    if (json.empty()) return false;
    auto last = reinterpret_cast<uintptr_t>(json.data() + json.size() - 1);
    return last / 4096 == (last + simdjson::SIMDJSON_PADDING) / 4096;
#endif
  }

  // Reads the leaf values at the field paths rules use. simdjson's On-Demand parser indexes
  // the event's structure once and then walks only into the parts some rule's field paths
  // lead into; everything else is skipped without being parsed (nor fully validated: the log
  // holds validated events). What it cannot read (numbers beyond simdjson's range, malformed
  // text) is read again with the lenient DOM parser, so the answer stays the same.
  // Out of line, so that profiles show the reader apart from the walk.
  [[gnu::noinline]] bool extract(std::string_view json, Scratch& sc) const {
    if (extract_scan(json, sc)) return true;
    for (uint32_t node : sc.touched) sc.head[node] = kNone;
    sc.touched.clear();
    sc.leaves.clear();
    sc.trails.clear();
    sc.pending.clear();
    simdjson::dom::element root;
    if (parse_lenient_json(sc.parser, json, padding_readable(json), sc.buffer, root)) return false;
    if (root.type() != simdjson::dom::element_type::OBJECT) return false;
    extract_object(simdjson::dom::object(root), kRootNode, Span{}, sc);
    return true;
  }

  // The one-pass reader: a recursive descent over the event's text that follows only the
  // keys of the field tree (each looked up by hash) and skips every other value by finding
  // its end in the bitmasks of scan::EventText. Strings without escapes are used in place;
  // escaped ones are unescaped into sc.strings, sized for the whole event so that it never
  // moves. False when the event must be read by the DOM parser instead (see json_scan.h).
  bool extract_scan(std::string_view json, Scratch& sc) const {
    if (sc.strings.size() < json.size()) sc.strings.resize(json.size());
    sc.strings_used = 0;
    // Invalid UTF-8, bad escapes and raw control characters in strings, wherever they are,
    // are refused as the DOM parser refuses them.
    if (!sc.text.classify(json)) return false;
    const char* end = json.data() + json.size();
    const char* p = scan::skip_ws(json.data(), end);
    if (p == end || *p != '{') return false;
    Reader reader{*this, sc, end};
    p = reader.object(p, kRootNode, Span{}, scan::kMaxDepth - 1);
    return p && scan::skip_ws(p, end) == end;
  }

  // One event's read. Functions take the position to read at and return the one just past
  // what they read, or nullptr when the event must go to the DOM parser; positions stay in
  // registers, and what the loops read of the matcher is copied here once.
  struct Reader {
    const Impl& m;
    Scratch& sc;
    const char* end;
    const scan::EventText& text = sc.text;
    bool backslash = sc.text.has_backslash();
    const KeyEntry* keys = m.key_table.data();
    size_t key_mask = m.key_table.size() - 1;
    const FieldNode* nodes = m.nodes.data();
    uint64_t* seen = sc.seen.data();

    [[gnu::always_inline]] uint32_t child(uint32_t node, std::string_view key) const {
      if ((nodes[node].child_lengths & length_bit(key.size())) == 0) return kNone;
      uint64_t head = key_head(key);
      uint64_t hash = key_hash(node, key.size(), head);
      for (size_t i = hash & key_mask;; i = (i + 1) & key_mask) {
        const KeyEntry& e = keys[i];
        if (e.hash == hash && e.head == head && e.len == key.size() && e.parent == node &&
            (key.size() <= 8 || same_key(e.child, key))) {
          return e.child;
        }
        if (e.hash == 0) return kNone;
      }
    }
    [[gnu::noinline]] bool same_key(uint32_t node, std::string_view key) const {
      return nodes[node].key == key;
    }
    // Whether the raw contents of a string hold an escape.
    bool escaped(std::string_view raw) const {
      return backslash && std::memchr(raw.data(), '\\', raw.size()) != nullptr;
    }

    // `p` is just past whitespace and at `c`: returns the first byte after it, or nullptr.
    // Compact JSON has no whitespace: one comparison then.
    [[gnu::always_inline]] const char* past(const char* p, char c) const {
      if (p < end && *p == c) return p + 1;
      p = scan::skip_ws_slow(p, end);
      return p < end && *p == c ? p + 1 : nullptr;
    }

    // `p` is at '{'.
    const char* object(const char* p, uint32_t node, Span trail, size_t depth_left) {
      uint64_t instance = ++sc.objects;
      uint32_t unseen = nodes[node].children;  // children whose key has not come yet
      p = scan::skip_ws(p + 1, end);
      if (p < end && *p == '}') return p + 1;
      for (;;) {
        if (p == end || *p != '"') return nullptr;
        const char* key_end = text.string_end(p);
        if (!key_end) return nullptr;
        std::string_view key(p + 1, static_cast<size_t>(key_end - p - 1));
        if (escaped(key)) {
          if (sc.key_buffer.size() < key.size()) sc.key_buffer.resize(key.size());
          ptrdiff_t n = scan::unescape(key, sc.key_buffer.data());
          if (n < 0) return nullptr;
          key = std::string_view(sc.key_buffer.data(), static_cast<size_t>(n));
        }
        uint32_t c = child(node, key);
        p = past(key_end + 1, ':');
        if (!p) return nullptr;
        p = scan::skip_ws(p, end);
        if (p == end) return nullptr;
        if (c == kNone || seen[c] == instance) {  // duplicate keys: the first counts
          p = text.skip_value(p, depth_left);
        } else {
          seen[c] = instance;
          p = *p == '{' || *p == '[' ? value(p, c, trail, sc.pending.size(), depth_left)
                                     : scalar(p, c, trail);
          --unseen;
        }
        if (!p) return nullptr;
        if (p < end && *p == ',') {
          // Once every child has come, the rest of the object (later duplicates, keys no
          // rule uses) is skipped to its end in the bitmasks.
          if (unseen == 0) return text.skip_rest(p + 1, depth_left);
          p = scan::skip_ws(p + 1, end);
          continue;
        }
        p = scan::skip_ws(p, end);
        if (p == end) return nullptr;
        if (*p == '}') return p + 1;
        if (*p != ',') return nullptr;
        if (unseen == 0) return text.skip_rest(p + 1, depth_left);
        p = scan::skip_ws(p + 1, end);
      }
    }

    // `p` is at a value (not at the end, no whitespace before it).
    const char* value(const char* p, uint32_t node, Span trail, size_t pending_base,
                      size_t depth_left) {
      switch (*p) {
        case '{':
          if (nodes[node].children == 0 || depth_left == 0) return text.skip_value(p, depth_left);
          // Entering an object inside lists binds those list elements.
          return object(p, node, m.bind(trail, pending_base, sc), depth_left - 1);
        case '[': {
          if (depth_left == 0) return nullptr;
          uint32_t id = ++sc.arrays;
          uint32_t index = 0;
          p = scan::skip_ws(p + 1, end);
          if (p < end && *p == ']') return p + 1;
          for (;;) {
            if (p == end) return nullptr;
            sc.pending.push_back(Binding{id, index++});
            p = value(p, node, trail, pending_base, depth_left - 1);
            sc.pending.pop_back();
            if (!p) return nullptr;
            p = scan::skip_ws(p, end);
            if (p == end) return nullptr;
            if (*p == ']') return p + 1;
            if (*p != ',') return nullptr;
            p = scan::skip_ws(p + 1, end);
          }
        }
        default:
          return scalar(p, node, trail);
      }
    }

    // `p` is at a value that is not an object or a list (objects' fields are read here
    // without a call: most values are scalars).
    [[gnu::always_inline]] const char* scalar(const char* p, uint32_t node, Span trail) {
      bool target = nodes[node].targets > 0;
      LeafValue leaf;
      switch (*p) {
        case '"': {
          const char* close = text.string_end(p);
          if (!close || !target) return close ? close + 1 : nullptr;
          std::string_view raw(p + 1, static_cast<size_t>(close - p - 1));
          leaf.type = LeafValue::Type::string;
          leaf.str = raw;
          if (escaped(raw)) {
            char* out = sc.strings.data() + sc.strings_used;
            ptrdiff_t len = scan::unescape(raw, out);
            if (len < 0) return nullptr;
            sc.strings_used += static_cast<size_t>(len);
            leaf.str = std::string_view(out, static_cast<size_t>(len));
          }
          p = close + 1;
          break;
        }
        case 't':
          p = scan::literal(p, end, "true");
          leaf.type = LeafValue::Type::boolean_true;
          break;
        case 'f':
          p = scan::literal(p, end, "false");
          leaf.type = LeafValue::Type::boolean_false;
          break;
        case 'n':
          p = scan::literal(p, end, "null");
          leaf.type = LeafValue::Type::null;
          break;
        default: {
          // Not into leaf.num: a leaf whose address is taken lives in memory, and copying it
          // then reads what was just stored in other widths (a store-forwarding stall).
          double num = 0;
          p = scan::number(p, end, num);
          leaf.num = num;
          leaf.type = LeafValue::Type::number;
          break;
        }
      }
      if (p && target) m.add_leaf(leaf, node, trail, sc);
      return p;
    }
  };

  // The trail of list elements a value inside an object is bound to (see extract_value).
  Span bind(Span trail, size_t pending_base, Scratch& sc) const {
    if (sc.pending.size() <= pending_base) return trail;
    Span t{static_cast<uint32_t>(sc.trails.size()), 0};
    for (uint32_t i = 0; i < trail.len; ++i) sc.trails.push_back(sc.trails[trail.off + i]);
    for (size_t i = pending_base; i < sc.pending.size(); ++i) sc.trails.push_back(sc.pending[i]);
    t.len = static_cast<uint32_t>(sc.trails.size()) - t.off;
    return t;
  }

  [[gnu::always_inline]] void add_leaf(const LeafValue& leaf, uint32_t node, Span trail,
                                       Scratch& sc) const {
    auto idx = static_cast<uint32_t>(sc.leaves.size());
    uint32_t& head = sc.head[node];
    if (head == kNone) sc.touched.push_back(node);
    // Field by field: copying a whole Leaf built on the stack stalls on store forwarding.
    Leaf& l = sc.leaves.push();
    l.value.type = leaf.type;
    l.value.str = leaf.str;
    l.value.num = leaf.num;
    l.trail = trail;
    l.next = head;
    head = idx;
  }

  void extract_object(simdjson::dom::object obj, uint32_t node, Span trail, Scratch& sc) const {
    uint64_t instance = ++sc.objects;
    for (auto field : obj) {
      uint32_t child = find_child(node, field.key);
      if (child == kNone) continue;
      if (sc.seen[child] == instance) continue;  // a duplicate key: the first one counts
      sc.seen[child] = instance;
      extract_value(field.value, child, trail, sc.pending.size(), sc);
    }
  }

  void extract_value(simdjson::dom::element v, uint32_t node, Span trail, size_t pending_base,
                     Scratch& sc) const {
    using simdjson::dom::element_type;
    const FieldNode& n = nodes[node];
    LeafValue leaf;
    switch (v.type()) {
      case element_type::OBJECT:
        // Entering an object inside lists binds those list elements.
        if (n.children > 0) {
          extract_object(simdjson::dom::object(v), node, bind(trail, pending_base, sc), sc);
        }
        return;
      case element_type::ARRAY: {
        uint32_t id = ++sc.arrays;
        uint32_t index = 0;
        for (simdjson::dom::element e : simdjson::dom::array(v)) {
          sc.pending.push_back(Binding{id, index++});
          extract_value(e, node, trail, pending_base, sc);
          sc.pending.pop_back();
        }
        return;
      }
      case element_type::STRING:
        if (n.targets == 0) return;
        leaf.type = LeafValue::Type::string;
        leaf.str = std::string_view(v);
        break;
      case element_type::INT64:
        if (n.targets == 0) return;
        leaf.type = LeafValue::Type::number;
        leaf.num = static_cast<double>(int64_t(v));
        break;
      case element_type::UINT64:
        if (n.targets == 0) return;
        leaf.type = LeafValue::Type::number;
        leaf.num = static_cast<double>(uint64_t(v));
        break;
      case element_type::DOUBLE:
        if (n.targets == 0) return;
        leaf.type = LeafValue::Type::number;
        leaf.num = double(v);
        break;
      case element_type::BOOL:
        if (n.targets == 0) return;
        leaf.type = bool(v) ? LeafValue::Type::boolean_true : LeafValue::Type::boolean_false;
        break;
      case element_type::NULL_VALUE:
        if (n.targets == 0) return;
        leaf.type = LeafValue::Type::null;
        break;
    }
    add_leaf(leaf, node, trail, sc);
  }

  // Evaluates `edge` on one leaf; appends the next states to sc.hits.
  void step(const Edge& edge, uint32_t l, Scratch& sc) const {
    LeafForms& forms = sc.forms[l];
    const LeafValue& value = forms.value();
    sc.hits.clear();
    if (edge.big) {
      edge.big->index.lookup(forms, sc.negatives, [&](uint32_t next) { sc.hits.push_back(next); });
      if (sc.hits.size() > 1) {
        std::sort(sc.hits.begin(), sc.hits.end());
        sc.hits.erase(std::unique(sc.hits.begin(), sc.hits.end()), sc.hits.end());
      }
      return;
    }
    auto test = [&](const Slot& slot) {
      if (slot.refs == 0) return;
      switch (slot.test) {
        case SlotTest::string:
          if (value.type == LeafValue::Type::string && slot.key == forms.hash() &&
              *static_cast<const std::string*>(slot.ptr) == value.str) {
            sc.hits.push_back(slot.next);
          }
          return;
        case SlotTest::number:
          if (value.type == LeafValue::Type::number && slot.key == number_key(value.num)) {
            sc.hits.push_back(slot.next);
          }
          return;
        case SlotTest::atom:
          if (atom_holds(*static_cast<const Atom*>(slot.ptr), forms)) sc.hits.push_back(slot.next);
          return;
        case SlotTest::general:
          if (set_holds(static_cast<const Alternative*>(slot.ptr), slot.n_alts, forms)) {
            sc.hits.push_back(slot.next);
          }
          return;
      }
    };
    test(edge.first_slot);
    for (const Slot& slot : edge.more_slots) test(slot);
  }

  // A state with several indexed edges (the start state above all) looks up several
  // values in large tables: start loading all their first entries before using any, so the
  // memory accesses overlap instead of queueing.
  void prefetch_lookups(const State& st, Scratch& sc) const {
    for (size_t ei = 0, ne = st.edge_count(); ei < ne; ++ei) {
      const Edge& edge = st.edge(ei);
      if (!edge.big) continue;
      uint32_t l = sc.head[edge.field];
      if (l == kNone) continue;
      LeafForms& forms = sc.forms[l];
      edge.big->index.prefetch(forms.value().type, forms.hash());
    }
  }

  // A state about to be queued: start loading its first cache line (its accepted rules and
  // the head of its first edge) before the walk reaches it. Loading its second line or its
  // other edges here too was measured slower: most of that is not read, and the queue is
  // short, so the extra loads compete with the ones the walk is waiting for.
  void prefetch_state(uint32_t n) const {
    __builtin_prefetch(&states[n]);
  }

  static bool compatible(const Scratch& sc, Span constraint, Span trail) {
    for (uint32_t i = 0; i < trail.len; ++i) {
      const Binding& b = sc.trails[trail.off + i];
      for (uint32_t j = 0; j < constraint.len; ++j) {
        const Binding& c = sc.constraints[constraint.off + j];
        if (c.array == b.array && c.index != b.index) return false;
      }
    }
    return true;
  }

  static Span merge(Scratch& sc, Span constraint, Span trail) {
    Span out{static_cast<uint32_t>(sc.constraints.size()), 0};
    for (uint32_t j = 0; j < constraint.len; ++j)
      sc.constraints.push_back(sc.constraints[constraint.off + j]);
    for (uint32_t i = 0; i < trail.len; ++i) {
      const Binding& b = sc.trails[trail.off + i];
      bool have = false;
      for (uint32_t j = 0; j < constraint.len; ++j)
        have |= sc.constraints[constraint.off + j].array == b.array;
      if (!have) sc.constraints.push_back(b);
    }
    out.len = static_cast<uint32_t>(sc.constraints.size()) - out.off;
    return out;
  }

  // The exact walk: candidates carry their list bindings. Returns false when it gave up
  // because the event needs more than the budget of list-bound candidates.
  //
  // The automaton is a trie: a state has one parent edge, so without list bindings it can
  // only be reached twice through two values of the same field (a list in the event). The
  // hits of one edge are therefore de-duplicated locally, and no visited-set is needed.
  bool walk_exact(Scratch& sc, std::vector<uint64_t>& out) const {
    size_t budget = options.array_budget;
    sc.stack.clear();
    sc.constraints.clear();
    sc.stack.push_back({kRootState, {}, false});
    // Neither changes during the walk; held here, they are not reloaded after every store.
    const Leaf* leaves = sc.leaves.begin();
    const uint32_t* head = sc.head.data();
    // First in, first out: the walk advances many paths in turn, so the state prefetched
    // when a candidate is queued has arrived by the time the candidate is taken.
    for (size_t next = 0; next < sc.stack.size(); ++next) {
      Scratch::Candidate cand = sc.stack[next];
      const State& st = states[cand.state];
      for (uint64_t r : st.accepts) out.push_back(r);
      if (st.edge_count() > 1) prefetch_lookups(st, sc);
      for (size_t ei = 0, ne = st.edge_count(); ei < ne; ++ei) {
        const Edge& edge = st.edge(ei);
        uint32_t l = head[edge.field];
        if (l == kNone) {
          if (edge.absent_next != kNone) {
            if (cand.constraint.len > 0 && budget-- == 0) return false;
            sc.stack.push_back({edge.absent_next, cand.constraint, false});
          }
          continue;
        }
        if (edge.live == 0) continue;
        bool several = leaves[l].next != kNone;
        sc.collected.clear();
        for (; l != kNone; l = leaves[l].next) {
          const Leaf& leaf = leaves[l];
          if (leaf.trail.len > 0 && cand.constraint.len > 0 &&
              !compatible(sc, cand.constraint, leaf.trail)) {
            continue;
          }
          step(edge, l, sc);
          if (sc.hits.empty()) continue;
          if (leaf.trail.len == 0 && cand.constraint.len == 0) {
            sc.collected.append(sc.hits.begin(), sc.hits.end());
            continue;
          }
          Span merged = merge(sc, cand.constraint, leaf.trail);
          for (uint32_t n : sc.hits) {
            if (budget-- == 0) return false;
            prefetch_state(n);
            sc.stack.push_back({n, merged, false});
          }
        }
        if (several && sc.collected.size() > 1) {
          std::sort(sc.collected.begin(), sc.collected.end());
          sc.collected.erase(std::unique(sc.collected.begin(), sc.collected.end()),
                             sc.collected.end());
        }
        for (uint32_t n : sc.collected) {
          prefetch_state(n);
          sc.stack.push_back({n, {}, false});
        }
      }
    }
    return true;
  }

  // The bounded walk: list bindings are ignored (so it finds a superset), each state is
  // visited at most twice, and rules reached only through list-bound values are confirmed
  // with the reference interpreter.
  void walk_loose(std::string_view event_json, Scratch& sc, std::vector<uint64_t>& out) const {
    sc.stack.clear();
    sc.verify.clear();
    auto push = [this, &sc](uint32_t n, bool dirty) {
      if (!dirty) {
        if (sc.clean_stamp[n] == sc.epoch) return;
        sc.clean_stamp[n] = sc.epoch;
      } else if (sc.any_stamp[n] == sc.epoch) {
        return;
      }
      sc.any_stamp[n] = sc.epoch;
      __builtin_prefetch(&states[n]);
      sc.stack.push_back({n, {}, dirty});
    };
    push(kRootState, false);
    for (size_t next = 0; next < sc.stack.size(); ++next) {
      Scratch::Candidate cand = sc.stack[next];
      const State& st = states[cand.state];
      auto& dest = cand.dirty ? sc.verify : out;
      for (uint64_t r : st.accepts) dest.push_back(r);
      for (size_t ei = 0, ne = st.edge_count(); ei < ne; ++ei) {
        const Edge& edge = st.edge(ei);
        uint32_t l = sc.head[edge.field];
        if (l == kNone) {
          if (edge.absent_next != kNone) push(edge.absent_next, cand.dirty);
          continue;
        }
        if (edge.live == 0) continue;
        for (; l != kNone; l = sc.leaves[l].next) {
          Leaf& leaf = sc.leaves[l];
          step(edge, l, sc);
          bool dirty = cand.dirty || leaf.trail.len > 0;
          for (uint32_t n : sc.hits) push(n, dirty);
        }
      }
    }
    std::sort(out.begin(), out.end());
    std::sort(sc.verify.begin(), sc.verify.end());
    sc.verify.erase(std::unique(sc.verify.begin(), sc.verify.end()), sc.verify.end());
    size_t confirmed_from = out.size();
    for (uint64_t rule_id : sc.verify) {
      if (std::binary_search(out.begin(), out.begin() + static_cast<ptrdiff_t>(confirmed_from),
                             rule_id))
        continue;
      if (any_branch_matches(branches_of(rule_id), event_json)) out.push_back(rule_id);
    }
  }

  // The branches of a rule in the form the reference interpreter reads.
  std::vector<Branch> branches_of(uint64_t rule_id) const {
    std::vector<Branch> out;
    auto it = rules.find(rule_id);
    if (it == rules.end()) return out;
    for (const auto& steps : it->second.branches) {
      Branch b;
      for (const Step& st : steps) {
        Condition c;
        for (uint32_t n = st.field; n != kRootNode; n = nodes[n].parent)
          c.path.push_back(nodes[n].key);
        std::reverse(c.path.begin(), c.path.end());
        if (st.set == kAbsent) {
          Alternative a;
          a.kind = Alternative::Kind::absent;
          c.alternatives.push_back(a);
        } else {
          c.alternatives = sets[st.set].alts;
        }
        b.push_back(std::move(c));
      }
      out.push_back(std::move(b));
    }
    return out;
  }

  void match(std::string_view event_json, std::vector<uint64_t>& out) const {
    out.clear();
    if (rules.empty()) return;
    Scratch& sc = scratch();
    if (sc.head.size() < nodes.size()) {
      sc.head.resize(nodes.size(), kNone);
      sc.seen.resize(nodes.size(), 0);
    }
    if (sc.clean_stamp.size() < states.size()) {
      sc.clean_stamp.resize(states.size(), 0);
      sc.any_stamp.resize(states.size(), 0);
    }
    sc.leaves.clear();
    sc.trails.clear();
    sc.pending.clear();
    bool parsed = extract(event_json, sc);
    if (parsed) {
      if (sc.forms.size() < sc.leaves.size()) sc.forms.resize(sc.leaves.size());
      for (size_t i = 0; i < sc.leaves.size(); ++i) sc.forms[i].reset(sc.leaves[i].value);
      sc.next_epoch();
      if (!walk_exact(sc, out)) {
        out.clear();
        sc.next_epoch();
        walk_loose(event_json, sc, out);
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    }
    for (uint32_t node : sc.touched) sc.head[node] = kNone;
    sc.touched.clear();
  }

  MatcherStats stats() const {
    MatcherStats s;
    s.rules = rules.size();
    s.branches = branch_count;
    s.states = states.size() - free_states.size();
    s.value_sets = sets.size() - free_sets.size();
    s.fields = nodes.size() - free_nodes.size();
    size_t b = states.capacity() * sizeof(State) + nodes.capacity() * sizeof(FieldNode) +
               sets.capacity() * sizeof(SetDef);
    for (const State& st : states) {
      s.edges += st.edge_count();
      b += st.more_edges.capacity() * sizeof(Edge) + st.accepts.heap_bytes();
      for (size_t i = 0; i < st.edge_count(); ++i) {
        const Edge& e = st.edge(i);
        b += e.more_slots.capacity() * sizeof(Slot);
        if (e.big) {
          b += sizeof(BigEdge) + e.big->index.memory_bytes() + e.big->slot_of.size() * 32 +
               e.big->free_slots.capacity() * sizeof(uint32_t);
        }
      }
    }
    for (const SetDef& d : sets) {
      b += d.alts.capacity() * sizeof(Alternative);
      for (const Alternative& a : d.alts) {
        b += a.atoms.capacity() * sizeof(Atom);
        for (const Atom& at : a.atoms) b += at.text.size() > 15 ? at.text.capacity() + 1 : 0;
      }
    }
    b += set_ids.size() * 80 + set_ids.bucket_count() * sizeof(void*);
    b += rules.size() * 64 + rules.bucket_count() * sizeof(void*);
    for (const auto& [id, r] : rules) {
      b += r.branches.capacity() * sizeof(std::vector<Step>);
      for (const auto& br : r.branches) b += br.capacity() * sizeof(Step);
    }
    s.memory_bytes = b;
    return s;
  }
};

Matcher::Matcher(MatcherOptions options) : impl_(std::make_unique<Impl>(options)) {}
Matcher::~Matcher() = default;

void Matcher::lock_all() const {
  for (auto& s : stripes_) s.mu.lock();
}
void Matcher::unlock_all() const {
  for (auto& s : stripes_) s.mu.unlock();
}

Status Matcher::add(uint64_t rule_id, const Pattern& pattern) {
  lock_all();
  Status st = impl_->add(rule_id, pattern);
  unlock_all();
  return st;
}

void Matcher::remove(uint64_t rule_id) {
  lock_all();
  impl_->remove(rule_id);
  unlock_all();
}

bool Matcher::contains(uint64_t rule_id) const {
  std::shared_lock lock(stripes_[thread_stripe() % kStripes].mu);
  return impl_->rules.count(rule_id) > 0;
}

size_t Matcher::size() const {
  std::shared_lock lock(stripes_[thread_stripe() % kStripes].mu);
  return impl_->rules.size();
}

void Matcher::match(std::string_view event_json, std::vector<uint64_t>& out) const {
  std::shared_lock lock(stripes_[thread_stripe() % kStripes].mu);
  impl_->match(event_json, out);
}

MatcherStats Matcher::stats() const {
  std::shared_lock lock(stripes_[thread_stripe() % kStripes].mu);
  return impl_->stats();
}

}  // namespace eddy::rules
