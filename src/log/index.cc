#include "log/index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "log/format.h"
#include "log/io.h"

namespace eddy::log {

using format::kOffsetEntryBytes;
using format::kTimeEntryBytes;
using format::load;
using format::store;

IndexBytes::~IndexBytes() {
  if (mapped_) ::munmap(const_cast<char*>(mapped_), mapped_size_);
}

IndexBytes::IndexBytes(IndexBytes&& o) noexcept
    : owned_(std::move(o.owned_)), mapped_(o.mapped_), mapped_size_(o.mapped_size_) {
  o.mapped_ = nullptr;
  o.mapped_size_ = 0;
}

IndexBytes& IndexBytes::operator=(IndexBytes&& o) noexcept {
  if (this != &o) {
    if (mapped_) ::munmap(const_cast<char*>(mapped_), mapped_size_);
    owned_ = std::move(o.owned_);
    mapped_ = o.mapped_;
    mapped_size_ = o.mapped_size_;
    o.mapped_ = nullptr;
    o.mapped_size_ = 0;
  }
  return *this;
}

Result<IndexBytes> IndexBytes::map_file(const std::filesystem::path& path) {
  auto f = io::open_file(path, O_RDONLY);
  if (!f) return std::move(f).error();
  auto size = io::file_size(f->fd(), path);
  if (!size) return std::move(size).error();
  IndexBytes out;
  if (*size == 0) return out;
  void* p = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, f->fd(), 0);
  if (p == MAP_FAILED) return io::os_error("cannot map", path, errno);
  out.mapped_ = static_cast<const char*>(p);
  out.mapped_size_ = *size;
  return out;
}

Result<std::string> IndexBytes::read_file(const std::filesystem::path& path) {
  auto f = io::open_file(path, O_RDONLY);
  if (!f) return std::move(f).error();
  auto size = io::file_size(f->fd(), path);
  if (!size) return std::move(size).error();
  std::string out(*size, '\0');
  auto n = io::pread_full(f->fd(), out.data(), out.size(), 0, path);
  if (!n) return std::move(n).error();
  out.resize(*n);
  return out;
}

// ---- offset index ----

size_t OffsetIndex::size() const {
  return bytes_.bytes().size() / kOffsetEntryBytes;
}

OffsetEntry OffsetIndex::at(size_t i) const {
  const char* p = bytes_.bytes().data() + i * kOffsetEntryBytes;
  return {load<uint32_t>(p), load<uint32_t>(p + 4)};
}

void OffsetIndex::append(OffsetEntry e) {
  char buf[kOffsetEntryBytes];
  store<uint32_t>(buf, e.rel);
  store<uint32_t>(buf + 4, e.pos);
  bytes_.append(buf, sizeof buf);
}

OffsetEntry OffsetIndex::floor(uint32_t rel) const {
  size_t lo = 0, hi = size();  // find the first entry with entry.rel > rel
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).rel <= rel) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? OffsetEntry{} : at(lo - 1);
}

bool OffsetIndex::valid(std::string_view bytes, uint64_t file_bytes, uint64_t record_count) {
  if (bytes.size() % kOffsetEntryBytes != 0) return false;
  int64_t prev_rel = -1, prev_pos = -1;
  for (size_t i = 0; i < bytes.size(); i += kOffsetEntryBytes) {
    int64_t rel = load<uint32_t>(bytes.data() + i);
    int64_t pos = load<uint32_t>(bytes.data() + i + 4);
    if (rel <= prev_rel || pos <= prev_pos) return false;
    if (static_cast<uint64_t>(rel) >= record_count) return false;
    if (static_cast<uint64_t>(pos) + format::kBatchHeaderBytes > file_bytes) return false;
    prev_rel = rel;
    prev_pos = pos;
  }
  return true;
}

// ---- time index ----

size_t TimeIndex::size() const {
  return bytes_.bytes().size() / kTimeEntryBytes;
}

TimeEntry TimeIndex::at(size_t i) const {
  const char* p = bytes_.bytes().data() + i * kTimeEntryBytes;
  return {load<int64_t>(p), load<uint32_t>(p + 8)};
}

void TimeIndex::append(TimeEntry e) {
  char buf[kTimeEntryBytes];
  store<int64_t>(buf, e.time_ms);
  store<uint32_t>(buf + 8, e.rel);
  bytes_.append(buf, sizeof buf);
}

std::optional<TimeEntry> TimeIndex::last() const {
  size_t n = size();
  if (n == 0) return std::nullopt;
  return at(n - 1);
}

uint32_t TimeIndex::scan_start(int64_t time_ms) const {
  size_t lo = 0, hi = size();  // find the first entry with entry.time_ms >= time_ms
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).time_ms < time_ms) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo == 0 ? 0 : at(lo - 1).rel;
}

bool TimeIndex::valid(std::string_view bytes, uint64_t record_count) {
  if (bytes.size() % kTimeEntryBytes != 0) return false;
  if (record_count > 0 && bytes.empty()) return false;
  for (size_t i = 0; i < bytes.size(); i += kTimeEntryBytes) {
    int64_t t = load<int64_t>(bytes.data() + i);
    uint32_t rel = load<uint32_t>(bytes.data() + i + 8);
    if (rel >= record_count) return false;
    if (i == 0) {
      if (rel != 0) return false;
    } else {
      int64_t prev_t = load<int64_t>(bytes.data() + i - kTimeEntryBytes);
      uint32_t prev_rel = load<uint32_t>(bytes.data() + i - kTimeEntryBytes + 8);
      if (t <= prev_t || rel <= prev_rel) return false;
    }
  }
  return true;
}

Status write_index_file(const std::filesystem::path& path, std::string_view bytes, bool sync) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    auto f = io::open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return std::move(f).error();
    if (auto s = io::pwrite_full(f->fd(), bytes.data(), bytes.size(), 0, tmp); !s) return s;
    if (sync) {
      if (auto s = io::fdatasync_file(f->fd(), tmp); !s) return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io::os_error("cannot rename", tmp, errno);
  return {};
}

}  // namespace eddy::log
