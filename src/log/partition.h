// One partition of a topic: an append-only sequence of records numbered by offset, stored
// as segment files of CRC-checked record batches in `PartitionOptions::dir`. The on-disk
// format is described in docs/log_format.md.
//
// Threading: every method is thread-safe. append() and read() may run concurrently.
// Durability: after append() returns, the records are in the operating system (they survive
// kill -9 of the process) but not necessarily on stable storage. when_durable() reports
// when they are, under the partition's Durability policy. Readers see records up to
// visible_end(): under `always` that is the durable end (nobody reads what a power cut
// could still take away); under `interval` and `never` it is the written end.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace eddy::log {

// When a write counts as done: `always` fsyncs before an append is acknowledged (group
// commit: appends waiting at the same time share one fsync); `interval:MS` fsyncs every MS
// milliseconds; `never` leaves it to the OS.
struct Durability {
  enum class Mode { always, interval, never };
  Mode mode = Mode::always;
  std::chrono::milliseconds interval{100};

  // Parses "always", "interval:MS" (MS >= 1) or "never".
  static Result<Durability> parse(std::string_view text);
  std::string to_string() const;
};

struct PartitionOptions {
  std::filesystem::path dir;  // created if missing
  Durability durability;
  uint64_t segment_bytes = 128ull << 20;        // roll the active segment past this size
  int64_t segment_ms = 7ll * 24 * 3600 * 1000;   // ... or when it is this old
  int64_t retention_ms = -1;                     // -1: keep forever
  int64_t retention_bytes = -1;                  // -1: no size limit
  uint32_t index_interval_bytes = 4096;          // one sparse index entry per this many bytes
};

struct AppendResult {
  uint64_t first_offset = 0;  // offset of the first appended record
  uint64_t end_offset = 0;    // one past the last appended record
};

struct RecordView {
  uint64_t offset = 0;
  int64_t time_ms = 0;         // append time, ms since the Unix epoch
  std::string_view payload;    // points into the ReadResult's buffer
};

struct ReadResult {
  std::vector<RecordView> records;
  std::string buffer;          // owns the bytes the records point into
  uint64_t next_offset = 0;    // where a following read continues
};

struct PartitionStats {
  uint64_t start_offset = 0;    // oldest retained record
  uint64_t end_offset = 0;      // one past the newest written record
  uint64_t visible_end = 0;     // one past the newest record readers may see
  uint64_t size_bytes = 0;      // bytes of all segment files
  uint64_t segments = 0;
  uint64_t appended_records = 0;  // since open
  uint64_t fsyncs = 0;            // since open
};

class Flusher;

class Partition {
 public:
  // Opens (or creates) the partition in options.dir, validating the tail of the newest
  // segment and truncating a torn write. `flusher` performs the group commits and interval
  // syncs; it must outlive the partition.
  static Result<std::unique_ptr<Partition>> open(PartitionOptions options, Flusher& flusher,
                                                 const Clock& clock);
  virtual ~Partition() = default;

  // Appends the payloads as one batch stamped with the clock's current time. An empty span
  // appends nothing. Fails with io_error if the OS refuses the write (the partition then
  // stays at its previous end).
  virtual Result<AppendResult> append(std::span<const std::string_view> payloads) = 0;

  // Calls `done` once every record below `end_offset` is durable under the policy: after
  // the fsync that covers it for `always`, at once for `interval` and `never`. `done` runs
  // on the flusher's thread or inline; it must not block. It may release the last owner of
  // the partition. Waiters still pending when the partition closes get `unavailable`.
  virtual void when_durable(uint64_t end_offset, std::function<void(Status)> done) = 0;

  // Reads visible records from `offset`, up to `max_records` and about `max_bytes` (at
  // least one record when one is there). An offset below start_offset reads from the
  // start; at or past visible_end returns no records and next_offset = offset.
  virtual Result<ReadResult> read(uint64_t offset, size_t max_records,
                                  size_t max_bytes) const = 0;

  // The first offset whose record was appended at or after `time_ms` (visible_end if none).
  virtual uint64_t offset_for_time(int64_t time_ms) const = 0;

  virtual uint64_t start_offset() const = 0;
  virtual uint64_t end_offset() const = 0;
  virtual uint64_t visible_end() const = 0;

  // Registers `fn` to be called, without the partition's locks held, each time visible_end
  // advances, with the new value. It runs on the appending thread (interval, never) or the
  // flusher's thread (always); calls may overlap and may arrive out of order, so treat the
  // value as "visible_end is at least this". It must not block. It may read, remove
  // listeners and release the last owner of the partition. Returns an id for
  // remove_listener.
  virtual uint64_t add_listener(std::function<void(uint64_t visible_end)> fn) = 0;
  // Unregisters a listener; once it returns the listener is not running and will not run
  // (called from inside a listener of this partition, only the latter: it does not wait).
  virtual void remove_listener(uint64_t id) = 0;

  // Fsyncs everything written so far.
  virtual Status sync() = 0;
  // Deletes whole closed segments beyond retention_ms / retention_bytes; rolls a segment
  // older than segment_ms.
  virtual Status enforce_retention() = 0;
  // Applies a new durability policy, segment age and retention limits to the open partition;
  // its records and offsets stay. Waiters pending under `always` complete at once when the
  // new policy is not `always`.
  virtual Status reconfigure(Durability durability, int64_t segment_ms, int64_t retention_ms,
                             int64_t retention_bytes) = 0;
  virtual PartitionStats stats() const = 0;
};

// The thread that performs group commits (for `always`) and periodic syncs (for
// `interval`). One per server. Partitions register with it when opened.
class Flusher {
 public:
  Flusher();
  ~Flusher();  // stops the thread after a final sync of every registered partition
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::log
