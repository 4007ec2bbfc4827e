// The benchmarks' HTTP/1.1 load generator: keep-alive connections on an io_context, each
// sending one prepared request back to back with one in flight, timing every response.
// Light enough that the machine's cores go to the servers being measured, not to it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace eddy::cli {

using BenchClock = std::chrono::steady_clock;

inline int64_t ns_between(BenchClock::time_point a, BenchClock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// The head of an HTTP/1.1 response: enough to find where it ends.
struct ResponseHead {
  int status = 0;
  size_t head_bytes = 0;  // through the blank line
  size_t content_length = 0;
};

// What the connections of one io thread saw in the measured window.
struct LoadStats {
  std::vector<int64_t> latencies_ns;
  uint64_t errors = 0;
  std::string first_error;
  BenchClock::time_point last_done{};
};

// The run every connection follows: what to send and when to stop.
struct LoadPlan {
  boost::asio::ip::tcp::endpoint address;
  BenchClock::time_point measure_start;
  BenchClock::time_point deadline;
  int64_t max_requests = 0;
  std::atomic<int64_t> measured{0};
  std::atomic<bool> limit_reached{false};
};

// Parses the status line and Content-Length of a response whose head is complete in `buf`;
// nullopt while it is not. A response without Content-Length is an error.
Result<std::optional<ResponseHead>> parse_head(std::string_view buf);

// One keep-alive connection sending `request` back to back, one in flight at a time.
class LoadConnection {
 public:
  LoadConnection(const LoadConnection&) = delete;
  LoadConnection& operator=(const LoadConnection&) = delete;
  LoadConnection(boost::asio::io_context& io, LoadPlan& plan, LoadStats& stats,
                 std::string request);

  // Connects, then sends until the plan's deadline or request limit.
  void start();

 private:
  void send();
  void read();
  void on_data();
  void record_error(std::string message);
  void fail(std::string message);

  boost::asio::ip::tcp::socket socket_;
  LoadPlan& plan_;
  LoadStats& stats_;
  std::string request_;
  std::vector<char> buf_;
  size_t have_ = 0;
  std::optional<ResponseHead> head_;
  BenchClock::time_point sent_at_{};
};

// What run_load() measured: latencies of the 2xx answers, sorted.
struct LoadRun {
  std::vector<int64_t> latencies_ns;
  uint64_t errors = 0;
  std::string first_error;
  double seconds = 0;
};

// Sends `request` (a whole HTTP/1.1 request) over `connections` connections from the calling
// thread until `requests` answers have come; gives up after `limit`.
LoadRun run_load(const boost::asio::ip::tcp::endpoint& address, const std::string& request,
                 int requests, int connections,
                 std::chrono::milliseconds limit = std::chrono::minutes(5));

}  // namespace eddy::cli
