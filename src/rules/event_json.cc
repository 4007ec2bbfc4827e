#include "rules/event_json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace eddy::rules {

namespace {

bool number_char(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Whether simdjson reads this number token as it is.
bool fits(std::string_view token) {
  bool integer = token.find_first_of(".eE") == std::string_view::npos;
  if (integer) {
    size_t digits = token.size() - (token[0] == '-' ? 1 : 0);
    return digits <= 18;  // within int64 for sure; longer ones are rewritten as doubles
  }
  double d;
  auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), d);
  return ec == std::errc() && p == token.data() + token.size() && std::isfinite(d);
}

std::string widened(std::string_view token) {
  std::string t(token);
  double d = std::strtod(t.c_str(), nullptr);  // saturates to +-HUGE_VAL, flushes tiny to 0
  if (std::isinf(d)) d = std::copysign(std::numeric_limits<double>::max(), d);
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  (void)ec;
  return std::string(buf, p);
}

}  // namespace

std::string widen_numbers(std::string_view json) {
  std::string out;
  out.reserve(json.size() + 16);
  bool in_string = false;
  for (size_t i = 0; i < json.size();) {
    char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[i + 1]);
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t j = i;
      while (j < json.size() && number_char(json[j])) ++j;
      std::string_view token = json.substr(i, j - i);
      out += fits(token) ? std::string(token) : widened(token);
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

simdjson::error_code parse_lenient_json(simdjson::dom::parser& parser, std::string_view json, bool padded,
                                      std::string& buffer, simdjson::dom::element& out) {
  const char* data = json.data();
  if (!padded) {
    buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(json.data(), json.size());
    data = buffer.data();
  }
  auto err = parser.parse(data, json.size(), false).get(out);
  if (err != simdjson::NUMBER_ERROR) return err;
  std::string wide = widen_numbers(json);
  buffer.reserve(wide.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(wide);
  return parser.parse(buffer.data(), buffer.size(), false).get(out);
}

}  // namespace eddy::rules
