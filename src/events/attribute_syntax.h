// The lexical rules CloudEvents 1.0 puts on attribute names and values, and on the media
// types that decide how binary-mode data is carried. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace eddy::events {

// An attribute name: one or more of a-z and 0-9. (The spec asks names to be at most 20
// characters with SHOULD; longer names are accepted.)
bool is_attribute_name(std::string_view name);

// RFC 3986 URI-reference: only URI characters, well-formed %XX escapes, and a valid scheme
// when a `:` comes before any `/`, `?` or `#`. The empty string is a valid reference; the
// callers that need non-empty check that themselves.
bool is_uri_reference(std::string_view text);
// RFC 3986 absolute URI: a URI-reference that starts with a scheme.
bool is_absolute_uri(std::string_view text);

// RFC 2046 media type `type/subtype` with optional `; parameter` suffixes.
bool is_media_type(std::string_view text);
// application/json or any type whose subtype ends in +json, in any letter case, parameters
// ignored. The empty string is not JSON.
bool is_json_media_type(std::string_view content_type);
// Any text/* type.
bool is_text_media_type(std::string_view content_type);

bool is_valid_utf8(std::string_view text);

// `text` made safe and short for an error message: at most `max` bytes, bytes outside
// printable ASCII shown as `?`, `...` appended when cut.
std::string shown(std::string_view text, size_t max = 64);

}  // namespace eddy::events
