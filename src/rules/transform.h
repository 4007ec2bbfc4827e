// Transforms: what a subscription delivers instead of the whole event.
//
// Two forms, given as JSON:
//   {"select": "$.data.order"}
//       delivers the JSON value at that path (`null` when it is missing);
//   {"input_paths": {"id": "$.data.order.id", "who": "$.source"},
//    "input_template": "{\"order\": <id>, \"text\": \"from <who>\"}"}
//       the EventBridge input transformer: each `<name>` in the template is replaced by
//       the value at input_paths[name]. A template whose first non-blank character is `{` or
//       `[` is a JSON template: a placeholder outside a JSON string becomes the value as JSON
//       (`null` when missing); inside a string it becomes the value's text, escaped for JSON
//       (strings without their quotes). Any other template is text: strings are inserted
//       unquoted, other values as JSON, missing values as nothing. `<aws.events.event.json>`
//       is the whole event. `<` sequences that name no input path are left as they are.
// Paths are `$` followed by `.name`, `['name']` or `[index]` steps.
//
// Threading: a Transform is an immutable value; copies share state; use from any thread.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::rules {

class Transform {
 public:
  Transform() = default;  // empty: apply() returns the event unchanged
  bool empty() const { return data_ == nullptr; }
  // Whether apply() produces JSON: false only for a text template.
  bool json_output() const;

 private:
  struct Data;
  friend Result<Transform> compile_transform(const boost::json::value&);
  friend Result<std::string> apply(const Transform&, std::string_view);
  std::shared_ptr<const Data> data_;
};

// Validates a transform. Errors (invalid_argument) name the offending member, e.g.
// `input_paths.id: "data.id" is not a path; paths start with "$", like "$.data.id"`.
Result<Transform> compile_transform(const boost::json::value& spec);

// Applies the transform to a CloudEvent in structured JSON. Fails with invalid_event when
// the event is not valid JSON. Call it qualified (`rules::apply`): with a std::string
// argument an unqualified call finds std::apply by argument-dependent lookup.
Result<std::string> apply(const Transform& transform, std::string_view event_json);

}  // namespace eddy::rules
