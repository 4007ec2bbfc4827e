// In-process benchmarks of the log, run by `eddy bench append` (and `eddy bench
// recovery`). Each creates a partition under `dir` (which it leaves for the caller to
// remove) and returns its figures as a JSON object.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>

#include "log/partition.h"

namespace eddy::log {

struct BenchAppendOptions {
  size_t event_bytes = 100;     // payload bytes of each event
  size_t batch = 100;           // events per append() call
  uint64_t events = 0;          // events to append in all; 0: run for duration_ms
  uint64_t duration_ms = 3000;  // used when events == 0
  unsigned threads = 1;         // publishers; each waits for its append to be durable
  Durability durability;        // default `always`
  uint64_t segment_bytes = 128ull << 20;
};

// Appends batches from `threads` publishers, each waiting for when_durable() before its
// next append (a synchronous publisher). Figures: events_per_sec, mb_per_sec (payload
// bytes), append_p50_us / append_p99_us (append call to durable), events, seconds, fsyncs,
// and the options. On failure, an object with `error`.
boost::json::object bench_append(const std::filesystem::path& dir,
                                 const BenchAppendOptions& options);

struct BenchRecoveryOptions {
  uint64_t bytes = 1ull << 30;  // log size to write before reopening
  size_t event_bytes = 100;
  size_t batch = 100;
  uint64_t segment_bytes = 128ull << 20;
};

// Writes a partition of about `bytes` (durability never, then one sync), closes it and
// times Partition::open. Figures: open_ms, bytes, segments, records. The reopen reads from
// the page cache; a cold-cache figure needs the caller to drop caches between the steps.
boost::json::object bench_recovery(const std::filesystem::path& dir,
                                   const BenchRecoveryOptions& options);

}  // namespace eddy::log
