#include "sources/http/path_template.h"

#include <fmt/format.h>

#include <algorithm>

namespace eddy::sources::http {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

}  // namespace

Result<PathTemplate> PathTemplate::parse(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return make_error(Errc::invalid_argument,
                      fmt::format("path '{}' must start with '/', e.g. /orders/{{id}}", path));
  }
  std::string_view rest = path.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  PathTemplate t;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (seg.empty()) {
      return make_error(Errc::invalid_argument,
                        fmt::format("path '{}' has an empty segment ('//')", path));
    }
    if (!t.segments_.empty() && t.segments_.back().kind == Kind::greedy) {
      return make_error(Errc::invalid_argument,
                        fmt::format("path '{}': a greedy parameter {{name+}} must be the last "
                                    "segment",
                                    path));
    }
    if (seg.front() == '{') {
      if (seg.size() < 3 || seg.back() != '}') {
        return make_error(Errc::invalid_argument,
                          fmt::format("path '{}': segment '{}' must be a whole parameter like "
                                      "{{id}} or {{proxy+}}",
                                      path, seg));
      }
      std::string_view name = seg.substr(1, seg.size() - 2);
      Kind kind = Kind::param;
      if (name.back() == '+') {
        kind = Kind::greedy;
        name.remove_suffix(1);
      }
      if (name.empty() || name.size() > 64 ||
          !std::all_of(name.begin(), name.end(), is_name_char)) {
        return make_error(Errc::invalid_argument,
                          fmt::format("path '{}': parameter names are 1-64 characters of "
                                      "A-Z a-z 0-9 _ - ., not '{}'",
                                      path, name));
      }
      for (const auto& s : t.segments_) {
        if (s.kind != Kind::literal && s.text == name) {
          return make_error(Errc::invalid_argument,
                            fmt::format("path '{}': parameter '{}' appears twice", path, name));
        }
      }
      t.segments_.push_back({kind, std::string(name)});
      continue;
    }
    if (seg.find_first_of("{}%?#") != std::string_view::npos) {
      return make_error(Errc::invalid_argument,
                        fmt::format("path '{}': segment '{}' may not contain {{, }}, %, ? or #; "
                                    "write literals unencoded and parameters as whole segments",
                                    path, seg));
    }
    t.segments_.push_back({Kind::literal, std::string(seg)});
  }
  for (const auto& s : t.segments_) {
    t.text_ += '/';
    if (s.kind == Kind::literal) {
      t.text_ += s.text;
    } else {
      t.text_ += '{';
      t.text_ += s.text;
      if (s.kind == Kind::greedy) t.text_ += '+';
      t.text_ += '}';
    }
  }
  if (t.text_.empty()) t.text_.push_back('/');
  return t;
}

std::string PathTemplate::shape() const {
  std::string out;
  for (const auto& s : segments_) {
    out += '/';
    if (s.kind == Kind::literal) {
      out += s.text;
    } else {
      out += s.kind == Kind::param ? "{}" : "{+}";
    }
  }
  return out.empty() ? "/" : out;
}

}  // namespace eddy::sources::http
