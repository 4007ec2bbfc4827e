// Instance: one function process and the interface it gets its jobs through. Each instance
// has its own, so the connection itself says which process asks: a timeout kills exactly
// the process that holds the request, and a crash fails exactly its job. Two interfaces:
//
// The AWS Lambda Runtime API, for `provided` runtimes (custom bootstraps, aws-lambda-ric):
// a listener on 127.0.0.1:0 per instance, AWS_LAMBDA_RUNTIME_API points at it.
// Runtime API served (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
//   GET  /2018-06-01/runtime/invocation/next            -> the job (long-poll)
//   POST /2018-06-01/runtime/invocation/{id}/response   -> success
//   POST /2018-06-01/runtime/invocation/{id}/error      -> function error
//   POST /2018-06-01/runtime/init/error                 -> the runtime could not start
//
// The channel, for eddy's own runtime clients (runtimes/node, runtimes/python): one end of
// a Unix socketpair, inherited as descriptor 3, carrying length-prefixed frames, so no HTTP
// is parsed on either side and a job is written from the thread that dispatches it. A
// frame is a u32 length (little-endian, of what follows), a u8 type and fields, each a u32
// length and its bytes:
//   eddy → runtime  J  request id, deadline (ms since the epoch, decimal), invoked function
//                      ARN, trace id, client context (JSON, may be empty), init document
//                      (may be empty), payload
//   runtime → eddy  N  (no fields) ready for work: sent once, after loading the code
//                   R  request id, late code load in ms (decimal, may be empty), response
//                   E  request id, late code load in ms, {"errorType","errorMessage",
//                      "stackTrace"}
//                   I  {"errorType","errorMessage","stackTrace"}: the code did not load
// After R or E the runtime waits for the next J.
//
// Pre-started processes are eddy's runtime clients, so they have a channel: the first job
// given to one carries the init document (JSON: env, task root, handler), and the client
// loads the function's code then.
//
// Lifecycle: create() opens the listener; start() spawns the process (or adopt() binds a
// pre-started one to a function). The owner is told, on the instance's strand, when the
// runtime first asks for work (ready), when a job ends (result, function error, timeout,
// crash), log lines, and when the process is gone. stop() kills the process group.
//
// Threading: every public method is thread-safe (work is posted, or for dispatch() deferred,
// to the instance's strand).
// Owner callbacks run on that strand, one at a time per instance; the owner must not block.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "functions/process.h"

namespace boost::asio {
class io_context;
}

namespace eddy::functions {

class Instance;
class MemoryCgroups;

// One invocation as an instance runs it.
struct Job {
  uint64_t id = 0;
  std::string request_id;
  std::string payload;
  std::string function_arn;
  std::string client_context;  // Lambda-Runtime-Client-Context, if any
  int64_t timeout_ms = 3000;
};

// How a job ended.
struct JobOutcome {
  enum class Kind { success, function_error, timeout, crash, oom };
  Kind kind = Kind::success;
  std::string payload;     // success: the result; otherwise the Lambda error JSON
  std::string error_type;  // errorType, when not success
  std::string error_message;
  double duration_ms = 0;         // from delivery to the result (minus a late code load)
  std::optional<double> init_ms;  // first job of an instance: its start-up time
  int64_t max_rss_kb = 0;
  bool instance_ends = false;  // the instance will not take another job (killed, init failed)
};

// Why an instance ended.
struct ExitReport {
  ExitInfo exit;
  bool oom = false;
  bool stopped = false;         // by stop() (idle, superseded, shutdown)
  bool was_ready = false;       // it asked for work at least once
  std::string init_error_type;  // from /runtime/init/error, or a start failure
  std::string init_error_message;
};

class InstanceOwner {
 public:
  virtual ~InstanceOwner() = default;
  virtual void instance_ready(const std::shared_ptr<Instance>& inst) = 0;
  virtual void job_done(const std::shared_ptr<Instance>& inst, Job job, JobOutcome outcome) = 0;
  virtual void instance_exited(const std::shared_ptr<Instance>& inst, const ExitReport& report) = 0;
  virtual void log_line(const std::shared_ptr<Instance>& inst, const std::string& request_id,
                        std::string_view stream, std::string_view line) = 0;
};

struct InstanceSetup {
  std::string label;     // for logs and the cgroup name, e.g. "hello-3"
  SpawnSpec spawn;       // env without AWS_LAMBDA_RUNTIME_API (added by start())
  bool channel = false;  // eddy's runtime client: the channel, not the Runtime API
  // null: no cgroup (rlimit in `spawn` if any). Shared: an instance may outlive its manager
  // while the io_context drops its pending handlers at shutdown, and still removes its group.
  std::shared_ptr<MemoryCgroups> cgroups;
  int64_t memory_mb = 0;  // cgroup limit; 0: none yet (pre-started)
  std::chrono::milliseconds init_timeout{10000};
};

class Instance : public std::enable_shared_from_this<Instance> {
 public:
  // Opens the Runtime API listener or the channel. Nothing runs until start().
  static Result<std::shared_ptr<Instance>> create(boost::asio::io_context& io,
                                                  std::weak_ptr<InstanceOwner> owner,
                                                  InstanceSetup setup);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // Spawns the process. On error nothing is running and no callback will come.
  Status start(Launcher& launcher);
  // Binds a running (pre-started) instance to a new owner and function: its memory cap
  // (`memory_mb`, 0 for none) and the init document its first job carries. If it is
  // already waiting for work, the new owner hears instance_ready.
  // `cgroup_name` names its new memory group when there is a limit.
  Status adopt(std::weak_ptr<InstanceOwner> owner, std::string cgroup_name, int64_t memory_mb,
               std::string init_json);
  // Hands it a job; it must be ready or have just finished one (one job at a time).
  void dispatch(Job job);
  // Kills the process; the owner then hears instance_exited (stopped = true), and a
  // running job ends as a crash.
  void stop();

  uint16_t port() const { return port_; }  // the Runtime API's; 0 with a channel
  pid_t pid() const { return pid_.load(std::memory_order_relaxed); }
  const std::string& label() const { return label_; }
  std::chrono::steady_clock::time_point created() const { return created_; }

  // The function-level identity the owner attaches (e.g. its pool id and version), and the
  // index of the io thread whose io_context it was created on.
  uint64_t pool_id = 0;
  int64_t version = 0;
  unsigned home = 0;

 private:
  struct Impl;
  explicit Instance(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<pid_t> pid_{-1};  // set by start(), read by describe() on other threads
  std::string label_;
  std::chrono::steady_clock::time_point created_;
};

}  // namespace eddy::functions
