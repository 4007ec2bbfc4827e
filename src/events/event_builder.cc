#include "events/event_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/rfc3339.h"
#include "events/attribute_syntax.h"
#include "events/base64.h"
#include "events/json_text.h"

namespace eddy::events {
namespace {

constexpr std::string_view kKnownNames[] = {"specversion",     "id",         "source",  "type",
                                            "datacontenttype", "dataschema", "subject", "time"};
constexpr std::string_view kPartitionKey = "partitionkey";

// Above this many extensions, duplicates are found by sorting instead of pairwise.
constexpr size_t kPairwiseDuplicateCheck = 16;

void append_integer(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

void EventBuilder::reset(Origin origin) {
  origin_ = origin;
  seen_ = 0;
  present_ = 0;
  extensions_.clear();
  data_json_ = {};
  data_base64_ = {};
  seen_data_ = seen_data_base64_ = has_data_ = has_data_base64_ = false;
}

int EventBuilder::known_index(std::string_view name) {
  for (int i = 0; i < kKnownCount; ++i) {
    if (kKnownNames[i] == name) return i;
  }
  return -1;
}

Error EventBuilder::error(std::string_view attribute, std::string_view problem) const {
  const std::string name = shown(attribute);
  if (origin_ == Origin::binary) {
    return make_error(Errc::invalid_event,
                      fmt::format("attribute '{}' (header ce-{}) {}", name, name, problem));
  }
  return make_error(Errc::invalid_event, fmt::format("attribute '{}' {}", name, problem));
}

Status EventBuilder::add_string(std::string_view name, std::string_view value) {
  return add(name, Kind::string, value, 0);
}

Status EventBuilder::add_integer(std::string_view name, int64_t value) {
  if (value < kMinInteger || value > kMaxInteger) {
    return error(name, fmt::format("must be an integer from {} to {} (got {})", kMinInteger,
                                   kMaxInteger, value));
  }
  return add(name, Kind::integer, {}, value);
}

Status EventBuilder::add_bool(std::string_view name, bool value) {
  return add(name, Kind::boolean, {}, value ? 1 : 0);
}

Status EventBuilder::add_null(std::string_view name) {
  return add(name, Kind::null, {}, 0);
}

Status EventBuilder::set_data_json(std::string_view json) {
  if (seen_data_) return error("data", "appears more than once");
  seen_data_ = has_data_ = true;
  data_json_ = json;
  return {};
}

Status EventBuilder::set_data_base64(std::string_view base64) {
  if (seen_data_base64_) return error("data_base64", "appears more than once");
  seen_data_base64_ = has_data_base64_ = true;
  data_base64_ = base64;
  return {};
}

Status EventBuilder::add(std::string_view name, Kind kind, std::string_view text, int64_t number) {
  if (const int index = known_index(name); index >= 0) return add_known(index, kind, text);

  if (name == "data") {
    return error(name, origin_ == Origin::binary
                           ? "cannot be a header; send the data as the request body"
                           : "was given in a way that cannot be stored");
  }
  if (name == "data_base64" && origin_ == Origin::json) {
    if (seen_data_base64_) return error(name, "appears more than once");
    seen_data_base64_ = true;
    if (kind == Kind::null) return {};
    if (kind != Kind::string) return error(name, "must be a base64 string");
    if (!is_base64(text)) {
      return error(name, "is not valid base64 (RFC 4648 standard alphabet, no whitespace)");
    }
    has_data_base64_ = true;
    data_base64_ = text;
    return {};
  }
  if (!is_attribute_name(name)) {
    return make_error(
        Errc::invalid_event,
        fmt::format("attribute name '{}' is invalid: CloudEvents attribute names use only "
                    "lowercase letters a-z and digits 0-9{}",
                    shown(name), origin_ == Origin::binary ? " after the ce- prefix" : ""));
  }
  if (name == kPartitionKey && kind != Kind::string && kind != Kind::null) {
    return error(name, "must be a string (the partitioning extension's key)");
  }
  extensions_.push_back(Extension{name, kind, text, number});
  if (extensions_.size() <= kPairwiseDuplicateCheck) {
    for (size_t i = 0; i + 1 < extensions_.size(); ++i) {
      if (extensions_[i].name == name) return error(name, "appears more than once");
    }
  }
  return {};
}

Status EventBuilder::add_known(int index, Kind kind, std::string_view value) {
  const std::string_view name = kKnownNames[index];
  const uint32_t bit = 1u << index;
  if (seen_ & bit) return error(name, "appears more than once");
  seen_ |= bit;
  if (kind == Kind::null) return {};
  if (kind != Kind::string) return error(name, "must be a string");

  switch (index) {
    case kSpecversion:
      if (value != "1.0") {
        return error(name, fmt::format("must be \"1.0\" (got \"{}\"); eddy speaks CloudEvents 1.0",
                                       shown(value)));
      }
      break;
    case kId:
    case kType:
    case kSubject:
      if (value.empty()) return error(name, "must be a non-empty string");
      break;
    case kSource:
      if (value.empty()) return error(name, "must be a non-empty URI-reference");
      if (!is_uri_reference(value)) {
        return error(name, fmt::format("must be a URI-reference (RFC 3986), got '{}'; "
                                       "percent-encode spaces and other characters a URI "
                                       "cannot hold",
                                       shown(value)));
      }
      break;
    case kDatacontenttype:
      if (!is_media_type(value)) {
        return error(name, fmt::format("must be a media type such as application/json "
                                       "(RFC 2046), got '{}'",
                                       shown(value)));
      }
      break;
    case kDataschema:
      if (!is_absolute_uri(value)) {
        return error(name, fmt::format("must be an absolute URI such as "
                                       "https://example.com/schema.json, got '{}'",
                                       shown(value)));
      }
      break;
    case kTime:
      if (auto t = parse_rfc3339_us(value); !t) {
        return error(name, "is invalid: " + t.error().message);
      }
      break;
    default:
      break;
  }
  present_ |= bit;
  known_[index] = value;
  return {};
}

Status EventBuilder::check_duplicate_extensions() const {
  if (extensions_.size() <= kPairwiseDuplicateCheck) return {};  // checked as they came
  std::vector<std::string_view> names;
  names.reserve(extensions_.size());
  for (const Extension& e : extensions_) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  if (auto it = std::adjacent_find(names.begin(), names.end()); it != names.end()) {
    return error(*it, "appears more than once");
  }
  return {};
}

Result<Event> EventBuilder::finish(const Limits& limits) {
  for (int index : {kSpecversion, kId, kSource, kType}) {
    if (!(present_ & (1u << index))) return error(kKnownNames[index], "is required");
  }
  if (has_data_ && has_data_base64_) {
    return make_error(Errc::invalid_event,
                      "attributes 'data' and 'data_base64' are both present; send only one");
  }
  if (auto s = check_duplicate_extensions(); !s) return std::move(s).error();

  Event event;
  std::string& out = event.json;
  size_t estimate = 16 + data_json_.size() + data_base64_.size();
  for (int i = 0; i < kKnownCount; ++i) {
    if (present_ & (1u << i)) estimate += kKnownNames[i].size() + known_[i].size() + 6;
  }
  for (const Extension& e : extensions_) estimate += e.name.size() + e.text.size() + 16;
  out.reserve(estimate);

  out.push_back('{');
  for (int i = 0; i < kKnownCount; ++i) {
    if (!(present_ & (1u << i))) continue;
    if (i != 0) out.push_back(',');
    out.push_back('"');
    out += kKnownNames[i];
    out += "\":";
    append_json_text(out, known_[i]);
  }
  for (const Extension& e : extensions_) {
    if (e.kind == Kind::null) continue;
    out += ",\"";
    out += e.name;
    out += "\":";
    switch (e.kind) {
      case Kind::string:
        append_json_text(out, e.text);
        if (e.name == kPartitionKey) event.partition_key.emplace(e.text);
        break;
      case Kind::integer:
        append_integer(out, e.number);
        break;
      case Kind::boolean:
        out += e.number ? "true" : "false";
        break;
      case Kind::null:
        break;
    }
  }
  if (has_data_) {
    out += ",\"data\":";
    out += data_json_;
  } else if (has_data_base64_) {
    out += ",\"data_base64\":\"";
    out += data_base64_;
    out.push_back('"');
  }
  out.push_back('}');

  if (out.size() > limits.max_event_bytes) {
    return make_error(Errc::too_large,
                      fmt::format("the event is {} bytes once stored; the limit is {} bytes per "
                                  "event (max_event_bytes); send large payloads by reference",
                                  out.size(), limits.max_event_bytes));
  }
  event.id.assign(known_[kId]);
  return event;
}

}  // namespace eddy::events
