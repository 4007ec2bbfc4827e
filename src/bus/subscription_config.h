// A subscription's configuration as users write it (`PUT /v1/subscriptions/{name}`):
// parsing with defaults and clear errors, and the JSON the catalog stores and GET shows.
// Field names and defaults are those of DESIGN.md.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bus/backoff.h"
#include "bus/partition_cursor.h"
#include "common/error.h"

namespace eddy::bus {

// Subscription names: the same rule as topic names (1-200 of A-Z a-z 0-9 . _ -).
Status validate_subscription_name(std::string_view name);

// Where a new subscription starts reading each partition.
struct StartPosition {
  enum class Kind { latest, earliest, offset, time };
  Kind kind = Kind::latest;
  int64_t value = 0;  // the offset, or the time in ms since the epoch
};

struct SubscriptionConfig {
  enum class Target { pull, url, topic, function };

  std::string topic;
  SubscriptionMode mode = SubscriptionMode::queue;
  std::string filter;     // the event pattern as minified JSON; empty: every event
  std::string transform;  // rules/transform.h's spec as minified JSON; empty: the event as it is
  Target target = Target::pull;
  std::string target_url;       // Target::url: http://host[:port][/path]
  std::string target_topic;     // Target::topic
  std::string target_function;  // Target::function
  int64_t ack_deadline_ms = 30000;
  RetryPolicy retry;
  std::string dead_letter_topic;  // empty: none (events out of attempts are dropped)
  // `batch.max_events`: the default max_events of a pull (default 100); for a function
  // target, events per invocation (default 1: the CloudEvent itself; more: {"Records":[...]}).
  // URL and topic targets take one event at a time.
  uint32_t batch_max_events = 0;  // 0: the target's default
  int64_t batch_window_ms = 0;    // function target: wait this long to fill a batch
  uint32_t max_events() const {
    return batch_max_events ? batch_max_events : target == Target::pull ? 100 : 1;
  }
  uint32_t max_concurrency = 16;  // push deliveries in flight at once
  StartPosition start;

  // Reads a request body. Unknown fields, wrong types and out-of-range values are
  // invalid_argument errors naming the field; a bad filter is invalid_pattern.
  static Result<SubscriptionConfig> from_json(const boost::json::object& body);
  // Every field, defaults included, in the request body's shape.
  boost::json::object to_json() const;
};

}  // namespace eddy::bus
