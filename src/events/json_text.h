// Writing JSON strings fast on the codec's hot path.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/json_util.h"

namespace eddy::events {

// True when `s` holds a byte JSON requires escaping (`"`, `\`, or below 0x20). Checks eight
// bytes at a time; bytes of multi-byte UTF-8 sequences (0x80 and up) never match.
inline bool needs_json_escape(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  auto has_zero_byte = [](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    const bool control = ((v - 0x20 * kOnes) & ~v & kHigh) != 0;
    if (control || has_zero_byte(v ^ ('"' * kOnes)) || has_zero_byte(v ^ ('\\' * kOnes))) {
      return true;
    }
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return true;
  }
  return false;
}

// Appends `s` as a quoted JSON string, escaped as eddy::append_json_string does (the
// canonical form), copying it in one piece when nothing needs escaping.
inline void append_json_text(std::string& out, std::string_view s) {
  if (needs_json_escape(s)) {
    append_json_string(out, s);
    return;
  }
  out.push_back('"');
  out.append(s);
  out.push_back('"');
}

}  // namespace eddy::events
