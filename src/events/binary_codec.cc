// Binary content mode (CloudEvents HTTP binding section 3.1): attributes in `ce-*` headers,
// the data in the body. parse_binary reads it; to_binary writes it from the stored form for
// push delivery, without simdjson.
#include <fmt/format.h>

#include <algorithm>

#include "common/json_util.h"
#include "common/text.h"
#include "events/attribute_syntax.h"
#include "events/base64.h"
#include "events/canonical_json.h"
#include "events/cloud_event.h"
#include "events/event_builder.h"
#include "events/stored_json.h"

namespace eddy::events {
namespace {

constexpr char kHexDigits[] = "0123456789ABCDEF";

bool has_ce_prefix(std::string_view name) {
  return name.size() >= 3 && ascii_lower(name[0]) == 'c' && ascii_lower(name[1]) == 'e' &&
         name[2] == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX sequences decoded; nullopt when a `%` is not followed by two hex digits. (`+` is a
// plus sign here, not a space: this is not form encoding.)
std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Space, `"`, `%` and bytes outside printable ASCII become %XX, as the binding requires.
void append_percent_encoded(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '%') {
      out.push_back('%');
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

Error corrupt(std::string_view what) {
  return make_error(Errc::corrupt, fmt::format("stored event is not in the stored form: {}", what));
}

}  // namespace

Result<Event> parse_binary(std::span<const Header> headers, std::string_view content_type,
                           std::string_view body, const Limits& limits) {
  struct Attribute {
    std::string name;
    std::string value;
  };
  std::vector<Attribute> attributes;
  for (const Header& header : headers) {
    if (!has_ce_prefix(header.name)) continue;
    std::string name = ascii_lower(header.name.substr(3));
    if (name == "datacontenttype") {
      return make_error(Errc::invalid_event,
                        "header ce-datacontenttype is not used in binary mode; the data's media "
                        "type is the Content-Type header");
    }
    auto value = percent_decode(header.value);
    if (!value) {
      return make_error(Errc::invalid_event,
                        fmt::format("header '{}' is not properly percent-encoded: a % must be "
                                    "followed by two hex digits (send a literal % as %25)",
                                    shown(header.name)));
    }
    if (!is_valid_utf8(*value)) {
      return make_error(
          Errc::invalid_event,
          fmt::format("header '{}' is not UTF-8 once percent-decoded", shown(header.name)));
    }
    attributes.push_back(Attribute{std::move(name), std::move(*value)});
  }

  EventBuilder builder;
  builder.reset(EventBuilder::Origin::binary);
  for (const Attribute& a : attributes) {
    if (auto st = builder.add_string(a.name, a.value); !st) return std::move(st).error();
  }

  content_type = trim_ows(content_type);
  if (!content_type.empty()) {
    if (!is_media_type(content_type)) {
      return make_error(Errc::invalid_event,
                        fmt::format("Content-Type '{}' is not a media type such as "
                                    "application/json (RFC 2046)",
                                    shown(content_type)));
    }
    if (auto st = builder.add_string("datacontenttype", content_type); !st) {
      return std::move(st).error();
    }
  }

  std::string data;
  if (!body.empty()) {
    if (is_json_media_type(content_type)) {
      data.reserve(body.size());
      auto st = append_canonical_json(
          body, data, fmt::format("the body (Content-Type {})", shown(content_type)));
      if (!st) return std::move(st).error();
      if (auto s = builder.set_data_json(data); !s) return std::move(s).error();
    } else if (is_text_media_type(content_type) && is_valid_utf8(body)) {
      data.reserve(body.size() + 2);
      append_json_string(data, body);
      if (auto s = builder.set_data_json(data); !s) return std::move(s).error();
    } else {
      append_base64(data, body);
      if (auto s = builder.set_data_base64(data); !s) return std::move(s).error();
    }
  }
  return builder.finish(limits);
}

Result<BinaryMessage> to_binary(std::string_view stored_json) {
  BinaryMessage message;
  std::optional<std::string_view> data;
  StoredMembers members(stored_json);
  while (members.next()) {
    const std::string_view name = members.name();
    const std::string_view value = members.value();
    if (name == "data") {
      data = value;
      continue;
    }
    std::optional<std::string> text;
    if (value.front() == '"') {
      text = unescape_json_string(value);
      if (!text) return corrupt(fmt::format("attribute '{}' is not a JSON string", shown(name)));
    } else {
      text.emplace(value);  // an integer or boolean, already in its canonical JSON text
    }
    if (name == "data_base64") {
      auto bytes = base64_decode(*text);
      if (!bytes) return corrupt("data_base64 is not base64");
      message.body = std::move(*bytes);
    } else if (name == "datacontenttype") {
      message.content_type = std::move(*text);
    } else {
      std::string header_value;
      header_value.reserve(text->size());
      append_percent_encoded(header_value, *text);
      message.headers.emplace_back("ce-" + std::string(name), std::move(header_value));
    }
  }
  if (members.failed()) return corrupt("it is not a JSON object");

  if (data) {
    if (message.content_type.empty()) message.content_type = "application/json";
    if (!is_json_media_type(message.content_type) && data->front() == '"') {
      auto text = unescape_json_string(*data);
      if (!text) return corrupt("data is not a JSON string");
      message.body = std::move(*text);
    } else {
      message.body.assign(*data);
    }
  }
  return message;
}

}  // namespace eddy::events
