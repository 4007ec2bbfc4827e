// Rewriting stored events for the bus: dead letters (the original plus delivery history),
// forwarded events (the original plus the hop) and redriven events (the dead letter minus
// its history). The event keeps every attribute and its data; only extensions change.
//
// Threading: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "common/error.h"
#include "events/cloud_event.h"

namespace eddy::bus {

struct ExtensionValue {
  std::string name;
  std::variant<std::string, int64_t> value;
};

// New data for an event: compact JSON and its content type.
struct NewData {
  std::string_view json;
  std::string_view content_type;
};

// The stored event `stored_json` without the extensions named in `remove` and with those
// in `set` (replacing same-named ones; new ones go last); with `data`, that replaces the
// event's data and datacontenttype. Fails with Errc::corrupt when `stored_json` is not a
// stored event, and as EventBuilder does for a bad extension or data. The result may be at
// most `max_event_bytes` long.
Result<events::Event> rewrite_event(std::string_view stored_json,
                                    std::span<const std::string_view> remove,
                                    std::span<const ExtensionValue> set, size_t max_event_bytes,
                                    const NewData* data = nullptr);

// The extensions a dead letter carries, in the order they are written.
inline constexpr std::string_view kDeadLetterExtensions[] = {"eddysubscription", "eddyattempts",
                                                             "eddyerror",        "eddystatus",
                                                             "eddyfirstattempt", "eddylastattempt"};

// What a dead letter records about the deliveries that failed.
struct DeliveryHistory {
  std::string subscription;
  uint32_t attempts = 0;
  std::string error;  // the last error
  int status = 0;     // the last HTTP status, 0 when none (then `eddystatus` is left out)
  int64_t first_attempt_ms = 0;
  int64_t last_attempt_ms = 0;
};

// The dead letter for a stored event: every attribute and the data of the original, plus
// the kDeadLetterExtensions (times as RFC 3339). An error longer than 1 KiB is cut.
Result<events::Event> make_dead_letter(std::string_view stored_json, const DeliveryHistory& h);

// The event a dead letter came from: the dead letter without kDeadLetterExtensions.
Result<events::Event> strip_dead_letter(std::string_view stored_json);

// The extension counting how many subscriptions forwarded an event topic to topic.
inline constexpr std::string_view kHopsExtension = "eddyhops";
// Forwarding stops (a permanent failure) past this many hops: a loop of topics.
inline constexpr int64_t kMaxHops = 32;

// The event as forwarded to another topic: same id and attributes, `eddyhops` one more, and
// `data` instead of its own when given (a subscription's transform). Fails with
// Errc::conflict past kMaxHops.
Result<events::Event> make_forwarded(std::string_view stored_json, size_t max_event_bytes,
                                     const NewData* data = nullptr);

}  // namespace eddy::bus
