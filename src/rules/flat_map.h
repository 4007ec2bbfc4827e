// FlatMap: an open-addressing hash map from byte-string keys to values, for the matcher's
// hot lookups. Entries live in one array (linear probing, backward-shift deletion), each
// holding the key's 64-bit hash, so a probe usually costs one cache line and compares bytes
// only when hashes agree; keys up to 15 bytes sit inside the entry. Callers pass the hash
// (hash_bytes of the key), so a value looked up in several maps is hashed once.
// Not thread-safe for writes; concurrent const lookups are fine.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::rules {

namespace detail {
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t mum(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}
constexpr uint64_t kP0 = 0xa0761d6478bd642full, kP1 = 0xe7037ed1a0b428dbull, kP2 = 0x8ebc6af09c88c6e3ull;
}  // namespace detail

// A fast 64-bit hash of a byte string (multiply-mix, in the style of wyhash). Never 0.
inline uint64_t hash_bytes(const char* p, size_t n) {
  using namespace detail;
  uint64_t a, b, seed = kP0;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t(uint8_t(p[0])) << 16) | (uint64_t(uint8_t(p[n >> 1])) << 8) | uint8_t(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = 0;
    for (; i + 16 < n; i += 16) seed = mum(load64(p + i) ^ kP1, load64(p + i + 8) ^ seed);
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  uint64_t h = mum(kP1 ^ n, mum(a ^ kP2, b ^ seed));
  return h ? h : 1;
}
inline uint64_t hash_bytes(std::string_view s) { return hash_bytes(s.data(), s.size()); }

// a == b, inline: keys are short, and a call to memcmp costs more than comparing them. Reads
// nothing outside either view.
inline bool same_bytes(std::string_view a, std::string_view b) {
  using namespace detail;
  size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n > 16) return std::memcmp(p, q, n) == 0;
  if (n >= 8) return ((load64(p) ^ load64(q)) | (load64(p + n - 8) ^ load64(q + n - 8))) == 0;
  if (n >= 4) return ((load32(p) ^ load32(q)) | (load32(p + n - 4) ^ load32(q + n - 4))) == 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

template <class V>
class FlatMap {
 public:
  FlatMap() = default;
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;
  FlatMap(FlatMap&&) = default;
  FlatMap& operator=(FlatMap&&) = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  const V* find(std::string_view key, uint64_t hash) const {
    if (size_ == 0) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.hash == 0) return nullptr;
      if (e.hash == hash && same_bytes(e.key(), key)) return &e.value;
    }
  }
  V* find(std::string_view key, uint64_t hash) {
    return const_cast<V*>(static_cast<const FlatMap*>(this)->find(key, hash));
  }
  // Starts loading the entry a lookup of `hash` reads first.
  void prefetch(uint64_t hash) const {
    if (size_ != 0) __builtin_prefetch(&entries_[hash & mask_]);
  }

  // The value for `key`, default-constructed if missing. References stay valid until the
  // next insertion or erase.
  V& at(std::string_view key, uint64_t hash, bool* inserted = nullptr) {
    if ((size_ + 1) * 4 > entries_.size() * 3) grow();
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      Entry& e = entries_[i];
      if (e.hash == 0) break;
      if (e.hash == hash && e.key() == key) {
        if (inserted) *inserted = false;
        return e.value;
      }
    }
    entries_[i].set(hash, key);
    ++size_;
    if (inserted) *inserted = true;
    return entries_[i].value;
  }

  bool erase(std::string_view key, uint64_t hash) {
    if (size_ == 0) return false;
    size_t i = hash & mask_;
    for (;; i = (i + 1) & mask_) {
      if (entries_[i].hash == 0) return false;
      if (entries_[i].hash == hash && entries_[i].key() == key) break;
    }
    // Backward-shift deletion keeps probe sequences unbroken without tombstones.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; entries_[j].hash != 0; j = (j + 1) & mask_) {
      size_t home = entries_[j].hash & mask_;
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        entries_[hole] = std::move(entries_[j]);
        hole = j;
      }
    }
    entries_[hole] = Entry{};
    --size_;
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const Entry& e : entries_) {
      if (e.hash != 0) f(e.key(), e.value);
    }
  }

  size_t memory_bytes() const {
    size_t b = entries_.capacity() * sizeof(Entry);
    for (const Entry& e : entries_) {
      if (e.len > kInline) b += e.len;
    }
    return b;
  }

 private:
  // Keys up to kInline bytes live in the entry, so that for IdList values an entry is one
  // 64-byte cache line and a lookup reads nothing else.
  static constexpr uint32_t kInline = 36;
  struct Entry {
    uint64_t hash = 0;  // 0: empty
    uint32_t len = 0;
    union {
      char inline_key[kInline];
      char* heap_key;
    };
    V value{};

    Entry() : inline_key{} {}
    Entry(Entry&& o) noexcept : hash(o.hash), len(o.len), value(std::move(o.value)) { take_key(o); }
    Entry& operator=(Entry&& o) noexcept {
      if (this != &o) {
        free_key();
        hash = o.hash;
        len = o.len;
        value = std::move(o.value);
        take_key(o);
      }
      return *this;
    }
    ~Entry() { free_key(); }

    std::string_view key() const { return {len > kInline ? heap_key : inline_key, len}; }
    void set(uint64_t h, std::string_view k) {
      free_key();
      hash = h;
      len = static_cast<uint32_t>(k.size());
      if (len > kInline) {
        heap_key = new char[len];
        std::memcpy(heap_key, k.data(), len);
      } else {
        std::memcpy(inline_key, k.data(), len);
      }
    }

   private:
    void take_key(Entry& o) {
      if (len > kInline) {
        heap_key = o.heap_key;
      } else {
        std::memcpy(inline_key, o.inline_key, kInline);
      }
      o.len = 0;
      o.hash = 0;
    }
    void free_key() {
      if (len > kInline) delete[] heap_key;
      len = 0;
    }
  };
  void grow() {
    size_t cap = entries_.empty() ? 8 : entries_.size() * 2;
    std::vector<Entry> old;
    old.swap(entries_);
    entries_.resize(cap);
    mask_ = cap - 1;
    for (Entry& e : old) {
      if (e.hash == 0) continue;
      size_t i = e.hash & mask_;
      while (entries_[i].hash != 0) i = (i + 1) & mask_;
      entries_[i] = std::move(e);
    }
  }

  std::vector<Entry> entries_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace eddy::rules
