// ASCII text helpers for protocol tokens (header names, media types, attribute names):
// no locale, no allocation unless a copy is asked for.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace eddy {

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = ascii_lower(c);
  return out;
}

// Equal ignoring ASCII case.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// `s` without the spaces and tabs HTTP allows around a value (OWS).
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The `type/subtype` of a Content-Type value, without parameters or surrounding blanks
// (compare it with iequals, or lower-case it).
inline std::string_view media_type_essence(std::string_view content_type) {
  return trim_ows(content_type.substr(0, content_type.find(';')));
}

}  // namespace eddy
