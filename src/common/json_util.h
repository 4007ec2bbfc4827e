// Small JSON helpers for hand-built responses on hot paths (where building a DOM would cost
// more than the work itself) and for reading request bodies with clear errors.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy {

// Appends `s` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

// Compact JSON text of `v`, as boost::json::serialize writes it except for doubles: those are
// written in their shortest round-trip decimal form (9.99, 300, 1e+21), as JavaScript and
// Python write them, not as Boost does (9.99E0). Doubles that are not finite become null.
std::string json_text(const boost::json::value& v);
std::string json_text(const boost::json::object& o);
std::string json_text(const boost::json::array& a);
void append_json_text(std::string& out, const boost::json::value& v);

// Parses a request body that must be a JSON object ("" is an empty object).
Result<boost::json::object> parse_json_object(std::string_view body);

// Typed optional field readers: absent or null gives nullopt; a wrong type is an
// invalid_argument error naming the field.
Result<std::optional<int64_t>> get_int(const boost::json::object& o, std::string_view field);
Result<std::optional<std::string>> get_string(const boost::json::object& o,
                                              std::string_view field);
Result<std::optional<bool>> get_bool(const boost::json::object& o, std::string_view field);

// Fails with invalid_argument naming the first field of `o` not in `known`.
Status reject_unknown_fields(const boost::json::object& o,
                             std::initializer_list<std::string_view> known);

}  // namespace eddy
