// The JSON side of the codec: structured and batch mode, plain bodies, and canonical JSON,
// all on simdjson's On-Demand API. On-Demand only checks what it is asked for, so every
// value is visited and consumed: strings with escapes through get_string(), strings
// without as their raw text (stage 1 has checked their bytes), numbers against the JSON
// grammar here (so big numbers in data survive), literals by their exact text, and the end
// of the document for trailing content.
#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <memory>

#include "common/json_util.h"
#include "common/rfc3339.h"
#include "events/attribute_syntax.h"
#include "events/canonical_json.h"
#include "events/cloud_event.h"
#include "events/event_builder.h"
#include "events/json_text.h"

namespace eddy::events {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// Deeper JSON is refused; keeps recursion bounded whatever the input.
constexpr int kMaxDepth = 256;
// Per-thread buffers grown past this are released after the call.
constexpr size_t kKeepScratchBytes = 4 << 20;

// Per-thread state reused across calls: the parser's internal buffers, a padded copy of
// the body (simdjson reads up to SIMDJSON_PADDING bytes past the end), the canonical
// `data` of the event being built, and the builder.
struct Scratch {
  od::parser parser;
  std::unique_ptr<char[]> padded;
  size_t padded_capacity = 0;
  std::string data;
  EventBuilder builder;
  size_t largest_body = 0;

  simdjson::padded_string_view pad(std::string_view body) {
    const size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (need > padded_capacity) {
      padded_capacity = std::max(need, padded_capacity * 2);
      padded = std::make_unique<char[]>(padded_capacity);
    }
    std::memcpy(padded.get(), body.data(), body.size());
    std::memset(padded.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    largest_body = std::max(largest_body, body.size());
    return simdjson::padded_string_view(padded.get(), body.size(), padded_capacity);
  }

  // Gives memory back after an unusually large body.
  void trim() {
    if (largest_body <= kKeepScratchBytes) return;
    padded.reset();
    padded_capacity = 0;
    parser = od::parser();
    data = std::string();
    largest_body = 0;
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Releases large buffers when a parse returns, however it returns.
struct TrimOnExit {
  Scratch& s;
  ~TrimOnExit() { s.trim(); }
};

std::string_view reason(error_code e) {
  switch (e) {
    case simdjson::TAPE_ERROR:
      return "a comma, colon, bracket or brace is missing or misplaced";
    case simdjson::INCOMPLETE_ARRAY_OR_OBJECT:
      return "brackets and braces do not balance (the text ends inside an object or array, or "
             "has extra text)";
    case simdjson::STRING_ERROR:
      return "a string has an invalid escape sequence";
    case simdjson::UNCLOSED_STRING:
      return "a string is not closed";
    case simdjson::UNESCAPED_CHARS:
      return "a string holds an unescaped control character";
    case simdjson::UTF8_ERROR:
      return "the text is not valid UTF-8";
    case simdjson::NUMBER_ERROR:
      return "a number is malformed";
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "a number's exponent has more than 6 digits";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR:
    case simdjson::INCORRECT_TYPE:
      return "a word is not true, false or null";
    case simdjson::TRAILING_CONTENT:
      return "there is more text after the JSON value";
    case simdjson::DEPTH_ERROR:
      return "objects and arrays are nested more than 256 deep";
    case simdjson::EMPTY:
      return "there is no JSON value";
    default:
      return simdjson::error_message(e);
  }
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 8259 section 8.1 lets a parser ignore a leading byte order mark; some clients send one.
std::string_view without_bom(std::string_view body) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  return body;
}

// Exponents longer than this many significant digits are refused: JSON sets no bound, but
// no number type reaches them and some parsers (Boost.JSON among them) reject the text.
constexpr size_t kMaxExponentDigits = 6;

// RFC 8259 number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
// NUMBER_ERROR when the grammar is not met, NUMBER_OUT_OF_RANGE for a huge exponent.
error_code check_number(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return simdjson::NUMBER_ERROR;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return simdjson::NUMBER_ERROR;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !is_digit(s[i])) return simdjson::NUMBER_ERROR;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return simdjson::NUMBER_ERROR;
    while (i < n && s[i] == '0') ++i;
    const size_t significant = i;
    while (i < n && is_digit(s[i])) ++i;
    if (i - significant > kMaxExponentDigits) {
      return i == n ? simdjson::NUMBER_OUT_OF_RANGE : simdjson::NUMBER_ERROR;
    }
  }
  return i == n ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
}

error_code append_value(od::value value, std::string& out, int depth);

// A string value written without escapes is its own canonical form and its own unescaped
// text: stage 1 has already checked that it is closed, holds no raw control character and
// is valid UTF-8. In that case consumes the value, sets `content` (between the quotes) and
// returns true; otherwise leaves the value for get_string().
//
// The value must be consumed, not just looked at: On-Demand skips an unconsumed string
// followed by `:` as if it were a key, which would let `"data":"a":1` through.
// (Unconsumed numbers and literals are safe to skip: the separator after them is checked.)
bool plain_string(od::value& value, std::string_view& content) {
  const std::string_view token = trim_ws(value.raw_json_token());
  if (token.size() < 2 || token.front() != '"' || token.back() != '"') return false;
  // Between the quotes only a backslash can need escaping (stage 1 refused the rest).
  const std::string_view inner = token.substr(1, token.size() - 2);
  if (needs_json_escape(inner)) return false;
  od::raw_json_string consumed;
  if (value.get_raw_json_string().get(consumed)) return false;
  content = inner;
  return true;
}

error_code append_scalar_token(od::json_type type, std::string_view token, std::string& out) {
  token = trim_ws(token);
  switch (type) {
    case od::json_type::number:
      if (auto e = check_number(token)) return e;
      break;
    case od::json_type::boolean:
      if (token != "true" && token != "false") return simdjson::T_ATOM_ERROR;
      break;
    case od::json_type::null:
      if (token != "null") return simdjson::N_ATOM_ERROR;
      break;
    default:
      return simdjson::INCORRECT_TYPE;
  }
  out += token;
  return simdjson::SUCCESS;
}

error_code append_object(od::object object, std::string& out, int depth) {
  out.push_back('{');
  bool first = true;
  for (auto member : object) {
    od::field field;
    if (auto e = std::move(member).get(field)) return e;
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    if (auto e = append_value(field.value(), out, depth + 1)) return e;
  }
  out.push_back('}');
  return simdjson::SUCCESS;
}

error_code append_array(od::array array, std::string& out, int depth) {
  out.push_back('[');
  bool first = true;
  for (auto element : array) {
    od::value value;
    if (auto e = element.get(value)) return e;
    if (!first) out.push_back(',');
    first = false;
    if (auto e = append_value(value, out, depth + 1)) return e;
  }
  out.push_back(']');
  return simdjson::SUCCESS;
}

error_code append_value(od::value value, std::string& out, int depth) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto e = value.get_object().get(object)) return e;
      return append_object(object, out, depth);
    }
    case od::json_type::array: {
      od::array array;
      if (auto e = value.get_array().get(array)) return e;
      return append_array(array, out, depth);
    }
    case od::json_type::string: {
      std::string_view plain;
      if (plain_string(value, plain)) {
        out.push_back('"');
        out += plain;
        out.push_back('"');
        return simdjson::SUCCESS;
      }
      std::string_view s;
      if (auto e = value.get_string().get(s)) return e;
      append_json_string(out, s);
      return simdjson::SUCCESS;
    }
    default:
      return append_scalar_token(type, value.raw_json_token(), out);
  }
}

// SUCCESS when the document has been read to its end, TRAILING_CONTENT when more follows.
error_code check_end(od::document& doc) {
  const char* location;
  const error_code e = doc.current_location().get(location);
  if (e == simdjson::OUT_OF_BOUNDS) return simdjson::SUCCESS;
  return e ? e : simdjson::TRAILING_CONTENT;
}

// Appends the document's single value in canonical form; objects, arrays and scalars alike.
// `input` is the text the document was iterated from (the padded copy).
error_code append_document(od::document& doc, std::string_view input, std::string& out) {
  od::json_type type;
  if (auto e = doc.type().get(type)) return e;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto e = doc.get_object().get(object)) return e;
      if (auto e = append_object(object, out, 1)) return e;
      return check_end(doc);
    }
    case od::json_type::array: {
      od::array array;
      if (auto e = doc.get_array().get(array)) return e;
      if (auto e = append_array(array, out, 1)) return e;
      return check_end(doc);
    }
    default: {
      std::string_view token;
      if (auto e = doc.raw_json_token().get(token)) return e;
      // A scalar's token runs to the next token or the end: anything after is trailing.
      if (token.data() + token.size() != input.data() + input.size()) {
        return simdjson::TRAILING_CONTENT;
      }
      if (type == od::json_type::string) {
        std::string_view s;
        if (auto e = doc.get_string().get(s)) return e;
        append_json_string(out, s);
        return simdjson::SUCCESS;
      }
      return append_scalar_token(type, token, out);
    }
  }
}

std::string_view type_name(od::json_type type) {
  switch (type) {
    case od::json_type::object:
      return "an object";
    case od::json_type::array:
      return "an array";
    case od::json_type::string:
      return "a string";
    case od::json_type::number:
      return "a number";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

// "event[3]: " inside a batch, "" for a single event.
std::string prefix(std::optional<size_t> index) {
  return index ? fmt::format("event[{}]: ", *index) : std::string();
}

Error invalid_json(std::optional<size_t> index, error_code e) {
  return make_error(Errc::invalid_event,
                    fmt::format("{}not valid JSON: {}", prefix(index), reason(e)));
}

Error with_index(std::optional<size_t> index, Error error) {
  if (index) error.message = prefix(index) + error.message;
  return error;
}

// An integer attribute's value from its JSON number token, or an error naming it.
Status add_number_attribute(EventBuilder& builder, std::string_view name, std::string_view token) {
  token = trim_ws(token);
  if (check_number(token) == simdjson::NUMBER_ERROR) {
    return make_error(Errc::invalid_event,
                      fmt::format("attribute '{}' is not valid JSON: {}", shown(name),
                                  reason(simdjson::NUMBER_ERROR)));
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size() ||
      value < EventBuilder::kMinInteger || value > EventBuilder::kMaxInteger) {
    return make_error(Errc::invalid_event,
                      fmt::format("attribute '{}' must be a string, a boolean or an integer from "
                                  "{} to {} (got {})",
                                  shown(name), EventBuilder::kMinInteger, EventBuilder::kMaxInteger,
                                  shown(token)));
  }
  return builder.add_integer(name, value);
}

// Reads one event object into `s.builder` and finishes it.
Result<Event> read_event(od::object object, Scratch& s, std::optional<size_t> index,
                         const Limits& limits) {
  EventBuilder& builder = s.builder;
  builder.reset(EventBuilder::Origin::json);
  for (auto member : object) {
    od::field field;
    if (auto e = std::move(member).get(field)) return invalid_json(index, e);
    std::string_view name;
    if (auto e = field.unescaped_key().get(name)) return invalid_json(index, e);
    od::value value = field.value();

    if (name == "data") {
      s.data.clear();
      if (auto e = append_value(value, s.data, 2)) {
        return make_error(
            Errc::invalid_event,
            fmt::format("{}attribute 'data' is not valid JSON: {}", prefix(index), reason(e)));
      }
      if (auto st = builder.set_data_json(s.data); !st)
        return with_index(index, std::move(st).error());
      continue;
    }

    od::json_type type;
    if (auto e = value.type().get(type)) return invalid_json(index, e);
    Status added;
    switch (type) {
      case od::json_type::string: {
        std::string_view text;
        if (!plain_string(value, text)) {
          if (auto e = value.get_string().get(text)) return invalid_json(index, e);
        }
        added = builder.add_string(name, text);
        break;
      }
      case od::json_type::number:
        added = add_number_attribute(builder, name, value.raw_json_token());
        break;
      case od::json_type::boolean:
      case od::json_type::null: {
        const std::string_view token = trim_ws(value.raw_json_token());
        if (token == "true" || token == "false") {
          added = builder.add_bool(name, token == "true");
        } else if (token == "null") {
          added = builder.add_null(name);
        } else {
          return invalid_json(index, simdjson::T_ATOM_ERROR);
        }
        break;
      }
      case od::json_type::object:
      case od::json_type::array:
        added = make_error(
            Errc::invalid_event,
            fmt::format("attribute '{}' must be a string, integer or boolean, not {}; only "
                        "'data' may hold objects and arrays",
                        shown(name), type_name(type)));
        break;
    }
    if (!added) return with_index(index, std::move(added).error());
  }
  auto event = builder.finish(limits);
  if (!event) return with_index(index, std::move(event).error());
  return event;
}

Result<od::document> start(Scratch& s, std::string_view body, std::string_view expected) {
  body = without_bom(body);
  if (is_blank(body)) {
    return make_error(Errc::invalid_event,
                      fmt::format("the request body is empty; send {}", expected));
  }
  od::document doc;
  if (auto e = s.parser.iterate(s.pad(body)).get(doc)) return invalid_json(std::nullopt, e);
  return doc;
}

}  // namespace

Status append_canonical_json(std::string_view text, std::string& out, std::string_view what) {
  Scratch& s = scratch();
  TrimOnExit trim{s};
  text = without_bom(text);
  error_code e = simdjson::EMPTY;
  if (!is_blank(text)) {
    od::document doc;
    const simdjson::padded_string_view input = s.pad(text);
    e = s.parser.iterate(input).get(doc);
    if (!e) e = append_document(doc, input, out);
  }
  if (e) {
    return make_error(Errc::invalid_event,
                      fmt::format("{} is not valid JSON: {}", what, reason(e)));
  }
  return {};
}

Result<std::vector<Event>> parse_structured(std::string_view body, const Limits& limits) {
  Scratch& s = scratch();
  TrimOnExit trim{s};
  auto doc = start(s, body, "a CloudEvent as a JSON object");
  if (!doc) return std::move(doc).error();
  od::json_type type;
  if (auto e = doc->type().get(type)) return invalid_json(std::nullopt, e);
  if (type != od::json_type::object) {
    return make_error(Errc::invalid_event,
                      fmt::format("a structured-mode CloudEvent must be a JSON object; the body "
                                  "is {}",
                                  type_name(type)));
  }
  od::object object;
  if (auto e = doc->get_object().get(object)) return invalid_json(std::nullopt, e);
  auto event = read_event(object, s, std::nullopt, limits);
  if (!event) return std::move(event).error();
  if (auto e = check_end(*doc)) return invalid_json(std::nullopt, e);
  std::vector<Event> events;
  events.push_back(std::move(*event));
  return events;
}

Result<std::vector<Event>> parse_batch(std::string_view body, const Limits& limits) {
  Scratch& s = scratch();
  TrimOnExit trim{s};
  auto doc = start(s, body, "a JSON array of CloudEvents");
  if (!doc) return std::move(doc).error();
  od::json_type type;
  if (auto e = doc->type().get(type)) return invalid_json(std::nullopt, e);
  if (type != od::json_type::array) {
    return make_error(Errc::invalid_event,
                      fmt::format("a CloudEvents batch must be a JSON array of events; the body "
                                  "is {}",
                                  type_name(type)));
  }
  od::array array;
  if (auto e = doc->get_array().get(array)) return invalid_json(std::nullopt, e);

  std::vector<Event> events;
  events.reserve(std::min<size_t>(body.size() / 128 + 1, 4096));
  size_t index = 0;
  for (auto element : array) {
    od::value value;
    if (auto e = element.get(value)) return invalid_json(index, e);
    if (auto e = value.type().get(type)) return invalid_json(index, e);
    if (type != od::json_type::object) {
      return make_error(Errc::invalid_event,
                        fmt::format("event[{}]: must be a CloudEvent (a JSON object), not {}",
                                    index, type_name(type)));
    }
    od::object object;
    if (auto e = value.get_object().get(object)) return invalid_json(index, e);
    auto event = read_event(object, s, index, limits);
    if (!event) return std::move(event).error();
    events.push_back(std::move(*event));
    ++index;
  }
  if (auto e = check_end(*doc)) return invalid_json(std::nullopt, e);
  return events;
}

Result<Event> wrap_plain(std::string_view json_body, std::string_view topic,
                         std::string_view generated_id, int64_t now_ms, const Limits& limits) {
  if (is_blank(json_body)) {
    return make_error(Errc::invalid_event,
                      "the request body is empty; send a JSON value, or a CloudEvent with "
                      "Content-Type application/cloudevents+json");
  }
  std::string data;
  data.reserve(json_body.size());
  if (auto st = append_canonical_json(json_body, data, "the request body"); !st) {
    return std::move(st).error();
  }

  // `/topics/{topic}` with the topic percent-encoded where a path segment needs it.
  std::string source = "/topics/";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : topic) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      source.push_back(static_cast<char>(c));
    } else {
      source.push_back('%');
      source.push_back(kHex[c >> 4]);
      source.push_back(kHex[c & 15]);
    }
  }
  std::string time;
  append_rfc3339_ms(time, now_ms);

  EventBuilder builder;
  builder.reset(EventBuilder::Origin::json);
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{"specversion", "1.0"},
                             {"id", generated_id},
                             {"source", source},
                             {"type", "eddy.published"},
                             {"datacontenttype", "application/json"},
                             {"time", time}}) {
    if (auto st = builder.add_string(name, value); !st) return std::move(st).error();
  }
  if (auto st = builder.set_data_json(data); !st) return std::move(st).error();
  return builder.finish(limits);
}

}  // namespace eddy::events
