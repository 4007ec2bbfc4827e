// Internals of the Flusher (partition.h): the thread, the group-commit queue and the
// interval schedule. Internal to src/log/.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "log/partition.h"

namespace eddy::log {

// What the flusher syncs: a partition.
class FlushTarget {
 public:
  virtual ~FlushTarget() = default;
  // Runs on the flusher thread: fsyncs what has been written and completes the waiters that
  // sync covers. Never called for the same target twice at once. A completion callback may
  // destroy the target, so flush() touches nothing of it after running them.
  virtual void flush() = 0;
};

struct Flusher::Impl {
  Impl();
  ~Impl();

  // Registers a target, or changes the schedule of a registered one. With `interval`,
  // flush() runs every interval; without, only on request().
  void add(FlushTarget* target, std::optional<std::chrono::milliseconds> interval);
  // Unregisters a target; on return its flush() will not run again, and is not running
  // unless remove() was called from inside it (on the flusher thread).
  void remove(FlushTarget* target);
  // Asks for target->flush() soon: at once if the thread is idle, else right after the
  // flush in progress (which may not cover the caller's records). Requests made while a
  // target is already queued share its flush.
  void request(FlushTarget* target);

 private:
  struct Entry {
    std::optional<std::chrono::milliseconds> interval;
    std::chrono::steady_clock::time_point due;
    bool queued = false;
  };
  void run();

  std::mutex mu_;
  std::condition_variable work_cv_;  // queue_ grew, a schedule changed, or stop_
  std::condition_variable idle_cv_;  // current_ changed
  std::unordered_map<FlushTarget*, Entry> targets_;
  std::vector<FlushTarget*> queue_;
  FlushTarget* current_ = nullptr;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace eddy::log
