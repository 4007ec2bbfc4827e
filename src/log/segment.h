// One segment file of a partition and its two indexes. A partition has closed segments
// (immutable; indexes mapped from their files) and one active segment (appended to; indexes
// in memory until the segment is sealed at roll).
//
// Threading: the owning partition's mutex guards every member that changes (size, counts,
// indexes of the active segment). base(), fd() and path() never change, so a reader that
// copied a position and a size under the mutex can pread() without it; the descriptor stays
// open while any shared_ptr to the segment lives, even after its files are deleted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "log/format.h"
#include "log/index.h"
#include "log/io.h"

namespace eddy::log {

class Segment {
 public:
  // Creates an empty segment file named after `base` (fails if it exists).
  static Result<std::shared_ptr<Segment>> create(const std::filesystem::path& dir, uint64_t base,
                                                 uint32_t index_interval);
  // Opens a closed segment whose successor starts at `next_base`. Its index files are used
  // when valid; otherwise the segment is scanned and they are rewritten.
  static Result<std::shared_ptr<Segment>> open_closed(const std::filesystem::path& dir,
                                                      uint64_t base, uint64_t next_base,
                                                      uint32_t index_interval, bool sync);
  // Opens the newest segment: scans every batch, truncates the file at the first one that
  // fails validation (logged at warn), and builds the indexes in memory. Stale index files
  // of this segment are removed.
  static Result<std::shared_ptr<Segment>> open_active(const std::filesystem::path& dir,
                                                      uint64_t base, uint32_t index_interval,
                                                      bool sync);

  uint64_t base() const { return base_; }
  int fd() const { return file_.fd(); }
  const std::filesystem::path& path() const { return path_; }

  // Bytes of valid batches (the file may be longer only for a closed segment whose scan
  // found damage).
  uint64_t size() const { return size_; }
  uint64_t end_offset() const { return base_ + record_count_; }
  uint64_t record_count() const { return record_count_; }
  bool empty() const { return record_count_ == 0; }
  int64_t first_time_ms() const { return first_time_ms_; }
  int64_t max_time_ms() const { return max_time_ms_; }

  // Active segment: accounts for the batch `h` just written at position size().
  void add_batch(const format::BatchHeader& h);
  // Active segment: cuts the file back to `size` bytes (after a failed write).
  Status truncate_to(uint64_t size);
  // Writes both index files (fsynced when `sync`), completing the time index with the
  // segment's newest time. Called when the segment stops being active.
  Status write_indexes(bool sync);
  // Serves lookups from read-only mappings of the index files written by write_indexes()
  // instead of memory. On failure the in-memory indexes stay in use.
  Status map_indexes();
  // Fsyncs the segment file and the index files written by write_indexes() (index files
  // that no longer exist are skipped: retention may have deleted the segment).
  Status sync_files() const;
  // Deletes the segment's files, the log file first.
  void remove_files() const;

  // File position of the batch holding `offset`, or of an earlier batch (scan forward).
  uint64_t position_for(uint64_t offset) const;
  // An offset from which a forward scan finds the first batch appended at or after
  // `time_ms`: every record before it is older.
  uint64_t time_scan_start(int64_t time_ms) const;

 private:
  Segment(std::filesystem::path dir, uint64_t base, io::File file, uint32_t index_interval);
  // Reads batches from position 0, checks each, and indexes them. Stops at the first bad
  // batch; returns its description (empty if the whole file was good).
  Result<std::string> scan(uint64_t file_bytes);

  std::filesystem::path dir_;
  std::filesystem::path path_;
  uint64_t base_;
  io::File file_;
  uint32_t index_interval_;

  uint64_t size_ = 0;
  uint64_t record_count_ = 0;
  int64_t first_time_ms_ = 0;
  int64_t max_time_ms_ = INT64_MIN;
  uint32_t max_time_rel_ = 0;
  uint64_t bytes_since_index_ = 0;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
};

}  // namespace eddy::log
