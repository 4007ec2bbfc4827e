#include "events/attribute_syntax.h"

#include <simdjson.h>

#include <algorithm>

#include "common/text.h"

namespace eddy::events {
namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// unreserved / gen-delims / sub-delims of RFC 3986 (everything a URI may hold besides %XX).
bool is_uri_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':  // unreserved
    case ':':
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':  // gen-delims
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':  // sub-delims
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// Length of the scheme at the start of `text` (without the colon), 0 when there is none.
size_t scheme_length(std::string_view text) {
  const size_t colon = text.find_first_of(":/?#");
  if (colon == std::string_view::npos || text[colon] != ':' || colon == 0) return 0;
  if (!is_alpha(text[0])) return 0;
  for (size_t i = 1; i < colon; ++i) {
    const char c = text[i];
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return colon;
}

// RFC 2045 token character: printable ASCII except space and tspecials.
bool is_token_char(char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return false;
    default:
      return true;
  }
}

}  // namespace

bool is_attribute_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || is_digit(c); });
}

bool is_uri_reference(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
      i += 2;
    } else if (!is_uri_char(c)) {
      return false;
    }
  }
  // A colon in the first segment is only allowed as the end of a scheme.
  const size_t first = text.find_first_of(":/?#");
  return first == std::string_view::npos || text[first] != ':' || scheme_length(text) > 0;
}

bool is_absolute_uri(std::string_view text) {
  return scheme_length(text) > 0 && is_uri_reference(text);
}

bool is_media_type(std::string_view text) {
  const std::string_view type_subtype = media_type_essence(text);
  const size_t slash = type_subtype.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type_subtype.size()) {
    return false;
  }
  const std::string_view type = type_subtype.substr(0, slash);
  const std::string_view subtype = type_subtype.substr(slash + 1);
  if (!std::all_of(type.begin(), type.end(), is_token_char) ||
      !std::all_of(subtype.begin(), subtype.end(), is_token_char)) {
    return false;
  }
  // Parameters: printable ASCII or blanks; their grammar is the producer's business.
  const size_t semi = text.find(';');
  if (semi == std::string_view::npos) return trim_ows(text) == type_subtype;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(semi), text.end(),
                     [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; });
}

bool is_json_media_type(std::string_view content_type) {
  const std::string_view e = media_type_essence(content_type);
  if (iequals(e, "application/json")) return true;
  const size_t slash = e.find('/');
  return slash != std::string_view::npos && e.size() - slash > 5 &&
         iequals(e.substr(e.size() - 5), "+json");
}

bool is_text_media_type(std::string_view content_type) {
  const std::string_view e = media_type_essence(content_type);
  return e.size() > 5 && iequals(e.substr(0, 5), "text/");
}

bool is_valid_utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

std::string shown(std::string_view text, size_t max) {
  std::string out;
  const size_t n = std::min(text.size(), max);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (n < text.size()) out += "...";
  return out;
}

}  // namespace eddy::events
