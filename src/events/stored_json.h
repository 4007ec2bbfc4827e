// Reading the stored form of an event (cloud_event.h) without a JSON library, for paths
// that only need an attribute or two (push delivery, replies, dead letters).
//
// StoredMembers walks the top-level members of a JSON object text. It finds value
// boundaries without validating the values, so it is meant for text this codec wrote (or
// any valid JSON object); on malformed text it stops and reports failure, never reading
// out of bounds. Member names are compared by their raw text, which for stored events
// (names of a-z, 0-9 and `_`, never escaped) is the name itself.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eddy::events {

class StoredMembers {
 public:
  explicit StoredMembers(std::string_view json) : json_(json) {}

  // Moves to the next member: false at the end of the object, or when the text is not a
  // JSON object (then failed() is true).
  bool next();
  bool failed() const { return failed_; }

  // The current member's name as written between its quotes, and its value's JSON text.
  std::string_view name() const { return name_; }
  std::string_view value() const { return value_; }

 private:
  bool fail() {
    failed_ = true;
    return false;
  }
  void skip_space();
  bool skip_string();  // at `"`: moves past the closing quote
  bool skip_value();

  std::string_view json_;
  size_t pos_ = 0;
  bool started_ = false;
  bool done_ = false;
  bool failed_ = false;
  std::string_view name_;
  std::string_view value_;
};

// The JSON text of top-level member `name`, or nullopt when absent or the text is malformed.
std::optional<std::string_view> find_member(std::string_view json, std::string_view name);

// An attribute of a stored event as text: a string unescaped, an integer or boolean as its
// JSON text; nullopt when absent, null, an object or array, or malformed.
std::optional<std::string> attribute(std::string_view stored_json, std::string_view name);

// The value of a JSON string literal (quotes included), or nullopt when it is not one.
// Handles every escape, including surrogate pairs; a lone surrogate is malformed.
std::optional<std::string> unescape_json_string(std::string_view literal);

}  // namespace eddy::events
