// Time behind a seam: code that schedules, expires or stamps takes a Clock so tests can
// drive time. SystemClock is the one real implementation.
#pragma once

#include <chrono>
#include <cstdint>

namespace eddy {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (event times, retention).
  virtual int64_t now_ms() const = 0;
  // Monotonic time for deadlines and intervals.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

}  // namespace eddy
