// Retry timing for subscriptions: capped exponential backoff with jitter, and the
// `Retry-After` header of a push endpoint. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace eddy::bus {

struct RetryPolicy {
  uint32_t max_attempts = 5;  // deliveries in all, the first included
  int64_t initial_backoff_ms = 1000;
  int64_t max_backoff_ms = 60000;
  int64_t max_age_ms = -1;              // -1: retry events of any age
  int64_t retry_after_max_ms = 600000;  // a longer Retry-After is cut to this
};

// The wait after `failed_attempts` (>= 1) failed deliveries: initial * 2^(failed-1), capped
// at max_backoff_ms, of which the upper half is jitter: the result is uniform in [d/2, d]
// for `unit` uniform in [0, 1). Never negative; never overflows.
int64_t backoff_ms(const RetryPolicy& policy, uint32_t failed_attempts, double unit);

// A Retry-After value (RFC 9110: delay-seconds, or an HTTP-date such as
// `Sun, 06 Nov 1994 08:49:37 GMT`) as milliseconds from `now_ms`: a date in the past gives
// 0. nullopt when the value is malformed (the caller then uses its own backoff).
std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms);

// The wait before the next push after a failure: the endpoint's Retry-After when it sent
// one (capped at retry_after_max_ms), else backoff_ms().
int64_t retry_delay_ms(const RetryPolicy& policy, uint32_t failed_attempts,
                       std::optional<int64_t> retry_after_ms, double unit);

}  // namespace eddy::bus
