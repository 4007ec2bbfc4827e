// Path templates of user HTTP routes: "/orders/{id}/items/{proxy+}". A template is a list of
// segments, each a literal, a parameter `{name}` (exactly one non-empty path segment) or, as
// the last segment only, a greedy parameter `{name+}` (one or more segments). Literals are
// compared byte for byte with the percent-decoded request segments, case-sensitively, as
// API Gateway does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace eddy::sources::http {

class PathTemplate {
 public:
  enum class Kind : uint8_t { literal, param, greedy };
  struct Segment {
    Kind kind;
    std::string text;  // the literal, or the parameter's name (without braces and `+`)
  };

  // Parses a template. It must start with `/`; "/" alone is the root. Parameter names are
  // 1-64 characters of A-Z a-z 0-9 _ - . and unique within the template; literals may not
  // hold `{`, `}`, `%`, `?` or `#`; empty segments ("//") are refused. A trailing slash is
  // ignored. Errors are invalid_argument saying what to fix.
  static Result<PathTemplate> parse(std::string_view path);

  const std::vector<Segment>& segments() const { return segments_; }
  // The canonical text, e.g. "/orders/{id}".
  const std::string& text() const { return text_; }
  // The text with parameter names erased ("/orders/{}/x/{+}"): two templates with the same
  // shape match exactly the same paths.
  std::string shape() const;

 private:
  std::vector<Segment> segments_;
  std::string text_;
};

}  // namespace eddy::sources::http
