// Base64 (RFC 4648 section 4, the standard alphabet) for `data_base64`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eddy::events {

// True when `text` is standard-alphabet base64: groups of four characters, the last
// possibly padded with `=`, or left unpadded (accepted since many encoders omit it). No
// whitespace, no URL-safe alphabet.
bool is_base64(std::string_view text);

// The bytes `text` encodes, or nullopt when !is_base64(text).
std::optional<std::string> base64_decode(std::string_view text);

// Appends the padded encoding of `bytes` to `out`.
void append_base64(std::string& out, std::string_view bytes);

}  // namespace eddy::events
