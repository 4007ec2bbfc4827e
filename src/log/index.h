// The two sparse indexes of a segment. The offset index maps a record offset (relative to
// the segment's base) to the file position of the batch holding it; the time index maps an
// append time to the first batch at or after it. Entries are only added in increasing order.
//
// An index lives in memory while its segment is active and is written to disk when the
// segment rolls; a closed segment's index is a read-only mapping of its file, so it costs
// page cache, not heap. Not thread-safe: the owning partition serialises access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::log {

// Bytes of index entries: a growable heap buffer or a read-only mapping of a file.
class IndexBytes {
 public:
  IndexBytes() = default;
  ~IndexBytes();
  IndexBytes(IndexBytes&& other) noexcept;
  IndexBytes& operator=(IndexBytes&& other) noexcept;
  IndexBytes(const IndexBytes&) = delete;
  IndexBytes& operator=(const IndexBytes&) = delete;

  // Maps the file read-only (an empty file maps to no bytes).
  static Result<IndexBytes> map_file(const std::filesystem::path& path);
  // Reads the whole file into memory.
  static Result<std::string> read_file(const std::filesystem::path& path);

  std::string_view bytes() const {
    return mapped_ ? std::string_view(mapped_, mapped_size_) : owned_;
  }
  // Appends to an in-memory index (never called on a mapped one).
  void append(const char* p, size_t n) { owned_.append(p, n); }
  bool mapped() const { return mapped_ != nullptr; }

 private:
  std::string owned_;
  const char* mapped_ = nullptr;
  size_t mapped_size_ = 0;
};

struct OffsetEntry {
  uint32_t rel = 0;  // offset - segment base
  uint32_t pos = 0;  // file position of the batch that starts at that offset
};

struct TimeEntry {
  int64_t time_ms = 0;  // append time of the batch
  uint32_t rel = 0;     // its base offset - segment base
};

class OffsetIndex {
 public:
  OffsetIndex() = default;
  explicit OffsetIndex(IndexBytes bytes) : bytes_(std::move(bytes)) {}

  size_t size() const;
  OffsetEntry at(size_t i) const;
  void append(OffsetEntry e);
  // The last entry with rel <= `rel`, or {0, 0} (the segment start) when there is none.
  OffsetEntry floor(uint32_t rel) const;
  std::string_view bytes() const { return bytes_.bytes(); }

  // True when `bytes` is a well-formed index for a segment of `file_bytes` bytes holding
  // `record_count` records: whole entries, offsets and positions strictly increasing, every
  // position leaving room for a batch header inside the file.
  static bool valid(std::string_view bytes, uint64_t file_bytes, uint64_t record_count);

 private:
  IndexBytes bytes_;
};

class TimeIndex {
 public:
  TimeIndex() = default;
  explicit TimeIndex(IndexBytes bytes) : bytes_(std::move(bytes)) {}

  size_t size() const;
  TimeEntry at(size_t i) const;
  void append(TimeEntry e);
  std::optional<TimeEntry> last() const;
  // The rel of the last entry older than `time_ms` (every record before it is older too),
  // or 0 when there is none.
  uint32_t scan_start(int64_t time_ms) const;
  std::string_view bytes() const { return bytes_.bytes(); }

  // True when `bytes` is a well-formed time index for a segment of `record_count` records:
  // whole entries, first entry at rel 0 (when records exist), times and rels strictly
  // increasing, rels inside the segment.
  static bool valid(std::string_view bytes, uint64_t record_count);

 private:
  IndexBytes bytes_;
};

// Writes `bytes` to `path` through a temporary file and a rename, so a crash leaves either
// the old file or the whole new one. Fsyncs the data first when `sync`.
Status write_index_file(const std::filesystem::path& path, std::string_view bytes, bool sync);

}  // namespace eddy::log
