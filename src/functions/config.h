// A function's configuration as users write it (`PUT /v1/functions/{name}`) and as the
// catalog stores it. Parsing validates every field and fills the documented defaults, so a
// FunctionConfig that exists is one eddy can run.
//
// Threading: plain values; no shared state.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::functions {

enum class Runtime { nodejs, python, provided };

std::string_view runtime_name(Runtime r);
Result<Runtime> parse_runtime(std::string_view text);

// Where a result or a final failure of an async invocation goes.
struct Destination {
  enum class Kind { topic, function };
  Kind kind = Kind::topic;
  std::string name;
  bool operator==(const Destination&) const = default;
};

// Async retry policy. `max_attempts` counts the first attempt.
struct RetryPolicy {
  int64_t max_attempts = 3;
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 60000;
  int64_t max_age_ms = 21600000;
  bool operator==(const RetryPolicy&) const = default;

  // The delay before attempt `next_attempt` (2 for the first retry): capped exponential.
  int64_t backoff_ms(int64_t next_attempt) const;
};

// Server-wide defaults a function inherits for the fields it leaves out.
struct FunctionDefaults {
  int64_t memory_mb = 128;
  int64_t timeout_ms = 3000;
  int64_t max_concurrency = 8;
  int64_t idle_timeout_ms = 60000;
};

struct FunctionConfig {
  std::string name;
  Runtime runtime = Runtime::nodejs;
  std::string handler;            // "index.handler" (node), "app.main" (python); optional for provided
  std::string code_path;          // {"code":{"path":DIR}}: a directory on the server's disk
  int64_t code_upload = 0;        // >0: the uploaded archive with this sequence number is the code
  int64_t memory_mb = 128;
  int64_t timeout_ms = 3000;
  int64_t max_concurrency = 8;
  int64_t min_instances = 0;
  int64_t idle_timeout_ms = 60000;
  std::map<std::string, std::string> env;
  RetryPolicy retry;
  std::optional<Destination> on_success;
  std::optional<Destination> on_failure;
  int64_t version = 0;            // set by the registry: 1 for the first deploy, +1 per change
};

// Function names: 1-64 characters of A-Z a-z 0-9 - _ (what Lambda allows).
Status validate_function_name(std::string_view name);

// Reads a `PUT /v1/functions/{name}` body. Fields left out take `defaults`; `code` may be
// left out only when `previous` (the function's current config) has code to keep. Errors are
// invalid_argument naming the field and what to send instead.
Result<FunctionConfig> parse_function_config(std::string_view name, const boost::json::object& body,
                                             const FunctionDefaults& defaults,
                                             const FunctionConfig* previous);

// The stored/served form: every field, as parse_function_config reads it back (plus
// `version`, and `code` as {"path"} or {"upload"}).
boost::json::object to_json(const FunctionConfig& c);
// Reads the stored form back (what to_json wrote).
Result<FunctionConfig> from_stored_json(std::string_view name, std::string_view json,
                                        const FunctionDefaults& defaults);

}  // namespace eddy::functions
