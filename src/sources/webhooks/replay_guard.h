// ReplayGuard: remembers the provider ids of accepted webhook deliveries for a window, so a
// delivery seen again within it is acknowledged without being acted on twice. A delivery is
// claimed before it is acted on and settled after: accepted (remembered until the window
// ends) or not (forgotten, so the sender's retry may succeed). A second delivery of an id
// still being acted on is reported as in flight (the gateway answers 409 so the sender
// retries, instead of 200 for something that may yet fail).
//
// Memory is bounded: at most `max_entries` ids; beyond that the oldest are forgotten first.
// Threading: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eddy::sources::webhooks {

class ReplayGuard {
 public:
  enum class Claim { fresh, duplicate, in_flight };

  explicit ReplayGuard(size_t max_entries = 1'000'000) : max_entries_(max_entries) {}

  // `fresh` makes the caller the owner of (hook, id) until settle().
  Claim claim(std::string_view hook, std::string_view id, int64_t now_ms);
  // Settles a fresh claim. With `accepted` the id is remembered until now_ms + window_ms.
  void settle(std::string_view hook, std::string_view id, bool accepted, int64_t now_ms,
              int64_t window_ms);
  // Records an id accepted earlier (when rebuilding after a restart).
  void remember(std::string_view hook, std::string_view id, int64_t expires_ms);
  // Forgets every id of a webhook (deleted or reconfigured).
  void forget(std::string_view hook);

  size_t size() const;

 private:
  static std::string key(std::string_view hook, std::string_view id);
  void prune(int64_t now_ms);  // mu_ held

  mutable std::mutex mu_;
  size_t max_entries_;
  // key -> expiry ms; kInFlight while a claim is unsettled.
  std::unordered_map<std::string, int64_t> entries_;
  std::deque<std::pair<int64_t, std::string>> expiries_;  // in insertion order
};

}  // namespace eddy::sources::webhooks
