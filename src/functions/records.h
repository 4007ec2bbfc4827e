// What a function did: captured log lines, one record per invocation, and usage totals
// for metering. Kept in memory per function, newest last, bounded (the oldest entries are
// dropped past the capacity); usage totals are small and the manager persists them.
//
// Threading: thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace eddy::functions {

struct LogLine {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string request_id;  // "" for output outside an invocation (init, between calls)
  std::string stream;      // "stdout" | "stderr"
  std::string message;
};

struct InvocationRecord {
  uint64_t seq = 0;
  std::string request_id;
  int64_t start_ms = 0;           // wall clock when the invocation was accepted
  double duration_ms = 0;         // the function's run time (dispatch to result)
  int64_t billed_ms = 0;          // duration rounded up to 1 ms
  std::optional<double> init_ms;  // cold starts: time to start the instance and load code
  int64_t max_rss_kb = 0;
  int64_t memory_mb = 0;
  int64_t version = 0;
  std::string status;             // success | error | timeout | crash | oom
  std::string error;              // errorType: errorMessage, when not success
  bool async = false;
  int64_t attempt = 1;
};

struct Usage {
  uint64_t requests = 0;
  uint64_t errors = 0;
  int64_t billed_ms = 0;
  double gb_seconds = 0;  // memory_mb / 1024 * billed_ms / 1000, summed
};

class FunctionRecords {
 public:
  explicit FunctionRecords(size_t log_capacity = 10000, size_t invocation_capacity = 10000);

  void add_log(int64_t time_ms, std::string request_id, std::string stream, std::string message);
  void add_invocation(InvocationRecord r);  // seq is assigned here; usage is updated

  // Log lines with seq > after, oldest first, at most `limit`; only `request_id`'s if set.
  std::vector<LogLine> logs(uint64_t after, size_t limit, const std::string& request_id) const;
  // The last `max_bytes` of a request's log lines (for X-Amz-Log-Result).
  std::string log_tail(const std::string& request_id, size_t max_bytes) const;
  // Invocations with seq < before (0: from the newest), newest first, at most `limit`.
  std::vector<InvocationRecord> invocations(uint64_t before, size_t limit) const;

  Usage usage() const;
  void restore_usage(const Usage& u);

 private:
  size_t log_capacity_, invocation_capacity_;
  mutable std::mutex mu_;
  std::deque<LogLine> logs_;
  std::deque<InvocationRecord> invocations_;
  uint64_t next_log_seq_ = 1, next_invocation_seq_ = 1;
  Usage usage_;
};

boost::json::object to_json(const LogLine& l);
boost::json::object to_json(const InvocationRecord& r);
boost::json::object to_json(const Usage& u);
Usage usage_from_json(const boost::json::object& o);

}  // namespace eddy::functions
