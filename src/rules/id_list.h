// SmallIds: a small list of ids with room for a few inline, growing onto the heap. IdList
// (uint32, two inline) holds index targets, most of which point at one or two states;
// RuleIds (uint64, one inline) holds the rules a state accepts, usually one. Saves an
// allocation, and a cache miss when reading, per entry. A value type; not thread-safe for
// writes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace eddy::rules {

template <class T, uint32_t kInline>
class SmallIds {
 public:
  SmallIds() = default;
  SmallIds(const SmallIds& o) { copy_from(o); }
  SmallIds& operator=(const SmallIds& o) {
    if (this != &o) {
      release();
      copy_from(o);
    }
    return *this;
  }
  SmallIds(SmallIds&& o) noexcept { steal(o); }
  SmallIds& operator=(SmallIds&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  ~SmallIds() { release(); }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T operator[](uint32_t i) const { return data()[i]; }

  void push_back(T id) {
    if (size_ == capacity()) grow();
    data()[size_++] = id;
  }
  // Removes one occurrence of `id`; returns whether it was there. Order is not kept.
  bool erase(T id) {
    T* d = data();
    for (uint32_t i = 0; i < size_; ++i) {
      if (d[i] == id) {
        d[i] = d[--size_];
        return true;
      }
    }
    return false;
  }
  bool contains(T id) const { return std::find(begin(), end(), id) != end(); }
  size_t heap_bytes() const { return cap_ > kInline ? cap_ * sizeof(T) : 0; }

 private:
  uint32_t capacity() const { return cap_ > kInline ? cap_ : kInline; }
  T* data() { return cap_ > kInline ? heap_ : inline_; }
  const T* data() const { return cap_ > kInline ? heap_ : inline_; }
  void grow() {
    uint32_t cap = capacity() * 2;
    auto* p = static_cast<T*>(std::malloc(cap * sizeof(T)));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, data(), size_ * sizeof(T));
    release();
    heap_ = p;
    cap_ = cap;
  }
  void release() {
    if (cap_ > kInline) std::free(heap_);
    cap_ = 0;
  }
  void copy_from(const SmallIds& o) {
    size_ = 0;
    cap_ = 0;
    for (T id : o) push_back(id);
  }
  void steal(SmallIds& o) {
    size_ = o.size_;
    cap_ = o.cap_;
    if (o.cap_ > kInline) {
      heap_ = o.heap_;
    } else {
      std::memcpy(inline_, o.inline_, sizeof inline_);
    }
    o.size_ = 0;
    o.cap_ = 0;
  }

  uint32_t size_ = 0;
  uint32_t cap_ = 0;  // 0..kInline: inline storage
  union {
    T inline_[kInline] = {};
    T* heap_;
  };
};

using IdList = SmallIds<uint32_t, 2>;
using RuleIds = SmallIds<uint64_t, 1>;

}  // namespace eddy::rules
