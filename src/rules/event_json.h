// Parsing events (and patterns) for matching, shared by the matcher, the reference
// interpreter and the pattern compiler so that all of them see the same values.
//
// simdjson refuses numbers it cannot hold (integers beyond 64 bits, exponents beyond the
// double range), but such numbers are valid JSON and the events subsystem keeps them
// verbatim. They are read as the nearest double (beyond the range: the largest finite double
// of that sign; below it: zero), so an event holding one still matches the rules that do
// not care about it, and numeric tests on it behave as on a very large number.
//
// Threading: pure functions over caller-owned parsers and buffers.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

namespace eddy::rules {

// Parses `json` with `parser`. `data` must be readable for SIMDJSON_PADDING bytes past the
// end (padded) or the text is copied into `buffer`. On success `out` is the root element,
// valid until the parser or `buffer` is used again.
simdjson::error_code parse_lenient_json(simdjson::dom::parser& parser, std::string_view json, bool padded,
                                      std::string& buffer, simdjson::dom::element& out);

// `json` with every number that simdjson cannot hold rewritten as described above; other
// text unchanged. Exposed for tests.
std::string widen_numbers(std::string_view json);

}  // namespace eddy::rules
