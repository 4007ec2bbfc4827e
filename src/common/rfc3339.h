// RFC 3339 timestamps (the `time` of a CloudEvent, `?time=` of the reading API, seeks).
//
// Parsing accepts exactly the RFC 3339 `date-time` production:
//   YYYY-MM-DD "T" hh:mm:ss [ "." 1*DIGIT ] ( "Z" | ("+"|"-") hh:mm )
// with `t` and `z` accepted in lower case as the RFC allows; a space instead of `T`, a
// missing offset, or a comma fraction are rejected. Days are checked against the month
// (leap years included). Fraction digits beyond the result's precision are truncated,
// which rounds toward the past. A leap second (`:60`) is accepted only where it can occur,
// at 23:59:60 UTC once the offset is applied (any day; the RFC leaves the table of actual
// leap seconds to the reader), and maps to the last representable instant of 23:59:59
// (.999 for ms, .999999 for µs, whatever its own fraction), so ordering is kept and no day
// rolls over; any other `:60` is an error.
//
// Formatting always writes UTC with a `Z` and exactly three fraction digits, e.g.
// `2026-11-27T13:33:34.120Z`, so formatted times sort as text. Times before year 0000 or
// after 9999 cannot be written in RFC 3339; format clamps them to those bounds.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy {

// Microseconds since the Unix epoch. Errors are Errc::invalid_argument with a message
// saying which part is wrong and showing the expected form.
Result<int64_t> parse_rfc3339_us(std::string_view text);
// Milliseconds since the Unix epoch; same rules.
Result<int64_t> parse_rfc3339_ms(std::string_view text);

// Appends `ms` (milliseconds since the epoch) as `YYYY-MM-DDThh:mm:ss.mmmZ`; no allocation
// beyond `out` growing by 24 bytes.
void append_rfc3339_ms(std::string& out, int64_t ms);
std::string format_rfc3339_ms(int64_t ms);

}  // namespace eddy
