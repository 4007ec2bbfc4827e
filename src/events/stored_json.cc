#include "events/stored_json.h"

#include <cstdint>

namespace eddy::events {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at `p`; -1 when they are not.
int32_t read_hex4(std::string_view s, size_t p) {
  if (p + 4 > s.size()) return -1;
  int32_t v = 0;
  for (size_t i = p; i < p + 4; ++i) {
    const int h = hex_value(s[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

void StoredMembers::skip_space() {
  while (pos_ < json_.size() && is_space(json_[pos_])) ++pos_;
}

bool StoredMembers::skip_string() {
  ++pos_;  // the opening quote
  while (pos_ < json_.size()) {
    const char c = json_[pos_++];
    if (c == '"') return true;
    if (c == '\\') ++pos_;  // the escaped character cannot end the string
  }
  return false;
}

bool StoredMembers::skip_value() {
  if (pos_ >= json_.size()) return false;
  const char c = json_[pos_];
  if (c == '"') return skip_string();
  if (c == '{' || c == '[') {
    size_t depth = 0;
    while (pos_ < json_.size()) {
      const char d = json_[pos_];
      if (d == '"') {
        if (!skip_string()) return false;
        continue;
      }
      ++pos_;
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return true;
      }
    }
    return false;
  }
  const size_t start = pos_;
  while (pos_ < json_.size() && !is_space(json_[pos_]) && json_[pos_] != ',' &&
         json_[pos_] != '}' && json_[pos_] != ']') {
    ++pos_;
  }
  return pos_ > start;
}

bool StoredMembers::next() {
  if (done_ || failed_) return false;
  skip_space();
  if (!started_) {
    started_ = true;
    if (pos_ >= json_.size() || json_[pos_] != '{') return fail();
    ++pos_;
    skip_space();
    if (pos_ < json_.size() && json_[pos_] == '}') {
      done_ = true;
      return false;
    }
  } else {
    if (pos_ >= json_.size()) return fail();
    if (json_[pos_] == '}') {
      done_ = true;
      return false;
    }
    if (json_[pos_] != ',') return fail();
    ++pos_;
    skip_space();
  }
  if (pos_ >= json_.size() || json_[pos_] != '"') return fail();
  const size_t name_start = pos_ + 1;
  if (!skip_string()) return fail();
  name_ = json_.substr(name_start, pos_ - 1 - name_start);
  skip_space();
  if (pos_ >= json_.size() || json_[pos_] != ':') return fail();
  ++pos_;
  skip_space();
  const size_t value_start = pos_;
  if (!skip_value()) return fail();
  value_ = json_.substr(value_start, pos_ - value_start);
  return true;
}

std::optional<std::string_view> find_member(std::string_view json, std::string_view name) {
  StoredMembers members(json);
  while (members.next()) {
    if (members.name() == name) return members.value();
  }
  return std::nullopt;
}

std::optional<std::string> attribute(std::string_view stored_json, std::string_view name) {
  const auto value = find_member(stored_json, name);
  if (!value || value->empty()) return std::nullopt;
  const char c = value->front();
  if (c == '"') return unescape_json_string(*value);
  if (c == '{' || c == '[' || *value == "null") return std::nullopt;
  return std::string(*value);
}

std::optional<std::string> unescape_json_string(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string out;
  out.reserve(s.size() - 2);
  const size_t end = s.size() - 1;
  for (size_t i = 1; i < end; ++i) {
    const char c = s[i];
    if (c == '"') return std::nullopt;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= end) return std::nullopt;
    switch (s[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        int32_t cp = read_hex4(s.substr(0, end), i + 1);
        if (cp < 0) return std::nullopt;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return std::nullopt;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 2 >= end || s[i + 1] != '\\' || s[i + 2] != 'u') return std::nullopt;
          const int32_t low = read_hex4(s.substr(0, end), i + 3);
          if (low < 0xDC00 || low > 0xDFFF) return std::nullopt;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        append_utf8(out, static_cast<uint32_t>(cp));
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

}  // namespace eddy::events
