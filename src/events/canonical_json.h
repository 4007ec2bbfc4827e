// Canonical JSON: the compact form the stored events use for `data` (see cloud_event.h).
// Whitespace is removed, strings and keys are re-escaped canonically (only `"`, `\` and
// control characters), numbers are kept exactly as written once checked against the JSON
// grammar, and duplicate keys are kept in order. Thread-safe: it uses the calling thread's
// parser, the one parse_structured and parse_batch use, so it must not be called from
// inside them.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::events {

// Appends `text`, which must be exactly one JSON value (surrounding whitespace allowed), to
// `out` in canonical form. On error `out` may hold a partial value and the error is
// Errc::invalid_event "<what> is not valid JSON: <reason>".
Status append_canonical_json(std::string_view text, std::string& out, std::string_view what);

}  // namespace eddy::events
