// FunctionManager: eddy's functions. It owns the registry (specs in the catalog, uploaded
// code under <data-dir>/functions/<name>/code-<n>/), one Pool of instance processes per
// function, the pre-started generic runtime processes, the async invocation queue (a log
// topic) with retries and destinations, and the per-function logs, invocation records and
// usage.
//
// In-process invoke API (the gateway, subscriptions, routes, webhooks, buckets all use it):
//
//   functions.invoke("resize", payload_json, InvokeOptions{}, [](Result<InvokeResult> r) {
//     if (!r) ...               // not_found, throttled (sync only), invalid_argument, unavailable
//     else if (r->function_error) ...  // the function failed: r->payload is Lambda's error JSON
//     else ...                  // r->payload is the function's result
//   });
//
// `done` is called exactly once, on an arbitrary thread (an instance's strand or the
// caller's), and must not block. With `InvokeOptions::queue_when_throttled` the call waits
// for a free instance instead of failing with `throttled`: use it for event delivery, where
// backpressure is better than errors. invoke_async() appends the invocation to the durable
// queue and calls back once it is durable (the function runs later, with retries).
//
// Threading: thread-safe. Instances run on the io thread that started them (a request's
// own thread, when it is one); a job prefers an idle instance on its own thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "functions/config.h"
#include "functions/process.h"
#include "functions/records.h"

namespace eddy {
class IoThreads;
}
namespace eddy::catalog {
class Catalog;
}
namespace eddy::bus {
class TopicManager;
}

namespace eddy::functions {

struct FunctionsOptions {
  std::filesystem::path data_dir;        // code lives under data_dir/functions
  FunctionDefaults defaults;
  std::string node = "";                 // node binary; "" = find `node` on PATH
  std::string python = "/usr/bin/python3";
  std::string user = "nobody";           // functions run as this user when eddy is root
  int prestart = 2;                      // pre-started processes per runtime in use (0: off)
  std::string region = "us-east-1";
  bool use_cgroups = true;               // memory caps via cgroups when writable
};

struct InvokeOptions {
  bool queue_when_throttled = false;  // wait for capacity instead of failing with throttled
  std::string request_id;             // "" = a new one
  std::string client_context;         // base64 JSON, passed to the function as Lambda does
  bool payload_is_json = false;       // eddy built or checked it: not validated again
  bool async = false;                 // recorded as an async attempt (set by the queue)
  int64_t attempt = 1;
};

struct InvokeResult {
  std::string request_id;
  int64_t version = 0;
  bool function_error = false;   // payload is {"errorType","errorMessage","stackTrace"}
  std::string error_type;
  std::string payload;
};

using InvokeCallback = std::function<void(Result<InvokeResult>)>;

class FunctionManager {
 public:
  FunctionManager(IoThreads& io, catalog::Catalog& catalog,
                  bus::TopicManager& topics, const Clock& clock, FunctionsOptions options,
                  std::unique_ptr<Launcher> launcher = nullptr);
  ~FunctionManager();
  FunctionManager(const FunctionManager&) = delete;
  FunctionManager& operator=(const FunctionManager&) = delete;

  // Loads functions from the catalog, detects cgroups, opens the async queue and starts
  // min_instances and pre-started processes. `endpoint` is eddy's URL as functions reach
  // it (AWS_ENDPOINT_URL / EDDY_ENDPOINT).
  Status start(std::string endpoint);
  // Stops every instance and the async consumer; waiting invocations fail with unavailable.
  void stop();

  // Registry. put() deploys a new version when anything changed; returns the description
  // and whether it was created.
  Result<std::pair<boost::json::object, bool>> put(std::string_view name,
                                                   const boost::json::object& body);
  // Stores an uploaded archive as the function's code. If the function exists it is
  // redeployed with it at once; otherwise the next put() without `code` uses it.
  Result<boost::json::object> put_code(std::string_view name, std::string_view archive);
  Result<boost::json::object> describe(std::string_view name) const;
  boost::json::array list() const;
  Status remove(std::string_view name);

  // Invocation (see the header comment).
  void invoke(std::string_view name, std::string payload, InvokeOptions options,
              InvokeCallback done);
  // Appends an async invocation to the durable queue; `done` gets the request id once it is
  // durable.
  void invoke_async(std::string_view name, std::string payload,
                    std::function<void(Result<std::string>)> done);
  bool exists(std::string_view name) const;

  // Logs, invocation records and usage.
  Result<std::vector<LogLine>> logs(std::string_view name, uint64_t after, size_t limit,
                                    const std::string& request_id) const;
  Result<std::string> log_tail(std::string_view name, const std::string& request_id,
                               size_t max_bytes) const;
  Result<std::vector<InvocationRecord>> invocations(std::string_view name, uint64_t before,
                                                    size_t limit) const;
  boost::json::object usage() const;

  // The function's ARN as Lambda clients expect it.
  std::string arn(std::string_view name) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace eddy::functions
