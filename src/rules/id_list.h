// IdList: a small set of uint32 ids kept in insertion order, with room for two ids inline.
// Most index entries of a matcher point at one or two targets, so this saves an allocation
// per entry. A value type; not thread-safe for writes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace eddy::rules {

class IdList {
 public:
  IdList() = default;
  IdList(const IdList& o) { copy_from(o); }
  IdList& operator=(const IdList& o) {
    if (this != &o) {
      release();
      copy_from(o);
    }
    return *this;
  }
  IdList(IdList&& o) noexcept { steal(o); }
  IdList& operator=(IdList&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  ~IdList() { release(); }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint32_t* begin() const { return data(); }
  const uint32_t* end() const { return data() + size_; }
  uint32_t operator[](uint32_t i) const { return data()[i]; }

  void push_back(uint32_t id) {
    if (size_ == capacity()) grow();
    data()[size_++] = id;
  }
  // Removes one occurrence of `id`; returns whether it was there. Order is not kept.
  bool erase(uint32_t id) {
    uint32_t* d = data();
    for (uint32_t i = 0; i < size_; ++i) {
      if (d[i] == id) {
        d[i] = d[--size_];
        return true;
      }
    }
    return false;
  }
  bool contains(uint32_t id) const { return std::find(begin(), end(), id) != end(); }
  size_t heap_bytes() const { return cap_ > kInline ? cap_ * sizeof(uint32_t) : 0; }

 private:
  static constexpr uint32_t kInline = 2;
  uint32_t capacity() const { return cap_ > kInline ? cap_ : kInline; }
  uint32_t* data() { return cap_ > kInline ? heap_ : inline_; }
  const uint32_t* data() const { return cap_ > kInline ? heap_ : inline_; }
  void grow() {
    uint32_t cap = capacity() * 2;
    auto* p = static_cast<uint32_t*>(std::malloc(cap * sizeof(uint32_t)));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, data(), size_ * sizeof(uint32_t));
    release();
    heap_ = p;
    cap_ = cap;
  }
  void release() {
    if (cap_ > kInline) std::free(heap_);
    cap_ = 0;
  }
  void copy_from(const IdList& o) {
    size_ = 0;
    cap_ = 0;
    for (uint32_t id : o) push_back(id);
  }
  void steal(IdList& o) {
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
    uint32_t inline_[kInline] = {0, 0};
    uint32_t* heap_;
  };
};

}  // namespace eddy::rules
