// EventBuilder: collects one event's attributes from any content mode, checks them against
// CloudEvents 1.0.2 and writes the stored form (see cloud_event.h). The one place the
// attribute rules live; the structured, batch, binary and plain paths all feed it, and
// code that derives a new event from a stored one (dead letters in bus/) uses it too, so
// derived events obey the same rules and come out in the same stored form.
//
// Not thread-safe; reuse one per thread via reset() to keep its buffers. The string views
// passed in must stay valid until finish() returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "events/cloud_event.h"

namespace eddy::events {

class EventBuilder {
 public:
  // Where attributes came from; only changes how errors name them (binary mode names the
  // `ce-` header to fix).
  enum class Origin { json, binary };

  EventBuilder() = default;
  EventBuilder(const EventBuilder&) = delete;
  EventBuilder& operator=(const EventBuilder&) = delete;

  // Forgets the previous event, keeping capacity.
  void reset(Origin origin);

  // One attribute each; `name` is as received (it is validated here). `data_base64` is
  // accepted through add_string; `data` only through set_data_json. A name seen twice
  // fails. Errors are Errc::invalid_event naming the attribute.
  Status add_string(std::string_view name, std::string_view value);
  Status add_integer(std::string_view name, int64_t value);  // must fit CloudEvents Integer
  Status add_bool(std::string_view name, bool value);
  Status add_null(std::string_view name);  // means absent
  // `data` as compact JSON text, already validated.
  Status set_data_json(std::string_view json);
  // `data_base64` as padded base64 this codec produced (binary mode's non-text bodies).
  Status set_data_base64(std::string_view base64);

  // Checks required attributes and writes the stored form. Errors as above, or
  // Errc::too_large when the stored form exceeds limits.max_event_bytes.
  Result<Event> finish(const Limits& limits);

  // The CloudEvents Integer range.
  static constexpr int64_t kMinInteger = -2147483648LL;
  static constexpr int64_t kMaxInteger = 2147483647LL;

 private:
  enum Known : int {
    kSpecversion,
    kId,
    kSource,
    kType,
    kDatacontenttype,
    kDataschema,
    kSubject,
    kTime,
    kKnownCount
  };
  enum class Kind : uint8_t { string, integer, boolean, null };
  struct Extension {
    std::string_view name;
    Kind kind;
    std::string_view text;  // string value
    int64_t number;         // integer or boolean value
  };

  static int known_index(std::string_view name);
  Status add(std::string_view name, Kind kind, std::string_view text, int64_t number);
  Status add_known(int index, Kind kind, std::string_view text);
  Error error(std::string_view attribute, std::string_view problem) const;
  Status check_duplicate_extensions() const;

  Origin origin_ = Origin::json;
  std::string_view known_[kKnownCount];
  uint32_t seen_ = 0;     // bit per Known attribute named, null or not
  uint32_t present_ = 0;  // bit per Known attribute with a value
  std::vector<Extension> extensions_;
  std::string_view data_json_;
  std::string_view data_base64_;
  bool seen_data_ = false;
  bool seen_data_base64_ = false;
  bool has_data_ = false;         // `data` present (null is a value here: JSON null data)
  bool has_data_base64_ = false;  // `data_base64` present and not null
};

}  // namespace eddy::events
