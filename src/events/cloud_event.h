// CloudEvents 1.0 for eddy: the stored form of an event, validation, and the three HTTP
// content modes (structured, batch, binary) in and binary mode out.
//
// The stored form of an event is its structured-mode JSON, written by this codec only:
// one compact JSON object (no insignificant whitespace) whose members come in a fixed
// order — specversion, id, source, type, datacontenttype, dataschema, subject, time, the
// extensions in the order they arrived, then `data` or `data_base64` last. Strings are
// re-escaped canonically (only `"`, `\` and control characters are escaped; `\u0041` is
// stored as `A`), integers are written in plain decimal, null attributes are dropped, and
// `data` keeps its JSON with whitespace removed and its numbers exactly as sent (a 40-digit
// number stays 40 digits). So the text can be spliced verbatim into a reply
// (`"event":<json>`), compared byte for byte, and read by stored_json.h without a JSON
// library. See README.md for the rules in full.
//
// Validation follows CloudEvents 1.0.2 and fails with Errc::invalid_event and a message
// naming the attribute (in a batch prefixed by `event[i]: `); an event whose stored form is
// larger than Limits::max_event_bytes fails with Errc::too_large naming the limit. Every
// parse is all-or-nothing: on error no event is returned.
//
// Duplicate top-level members (`{"id":"a","id":"b"}`) are rejected, because readers would
// disagree on which one counts; duplicate keys inside `data` are kept as sent.
//
// Threading: every function here is thread-safe. The parsers keep per-thread scratch
// buffers (a simdjson parser and a padded copy of the body), so a thread's first call and
// calls with very large bodies allocate; a buffer grown past 4 MiB is released after use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace eddy::events {

// One validated event in its stored form, with the attributes routing and replies need.
struct Event {
  std::string json;                          // the stored form described above
  std::string id;                            // the `id` attribute, unescaped
  std::optional<std::string> partition_key;  // the `partitionkey` extension, if present
};

struct Limits {
  size_t max_event_bytes = 1 << 20;  // bytes of an event's stored form
};

// `application/cloudevents+json`: exactly one event object. Returns a vector of one event.
Result<std::vector<Event>> parse_structured(std::string_view body, const Limits& limits);

// `application/cloudevents-batch+json`: a JSON array of event objects (`[]` gives no
// events). Either every event is valid and all are returned, or an error names the first
// bad one by index.
Result<std::vector<Event>> parse_batch(std::string_view body, const Limits& limits);

// An HTTP header as the gateway received it; the name in any letter case. The views must
// stay valid for the duration of the call only.
struct Header {
  std::string_view name;
  std::string_view value;
};

// Binary mode. `headers` is every header of the request (the gateway passes them all; only
// names starting with `ce-`, in any case, are read — `ce-id` becomes `id`). Header values
// are percent-decoded as the CloudEvents HTTP binding requires and must then be UTF-8. All
// attributes arrive as strings (binary mode carries no types). A header that appears twice
// is an error, and so is `ce-datacontenttype`: the data's type is `content_type`.
//
// `content_type` is the request's Content-Type ("" when there is none); it becomes
// `datacontenttype`. The body becomes the event's data:
//   - empty body: no data;
//   - JSON media type (application/json or any */*+json): `data` is the body's JSON, which
//     must be valid;
//   - text/*: `data` is the body as a JSON string (if the body is not UTF-8 it is kept
//     losslessly in `data_base64` instead);
//   - anything else, or no content type: `data_base64`.
Result<Event> parse_binary(std::span<const Header> headers, std::string_view content_type,
                           std::string_view body, const Limits& limits);

// A plain JSON body published to a topic, wrapped as a CloudEvent: specversion 1.0, `id` =
// `generated_id`, `source` = `/topics/{topic}` (bytes a URI path segment cannot hold are
// percent-encoded), `type` = `eddy.published`, `time` = `now_ms` as RFC 3339 (UTC, ms),
// `datacontenttype` = application/json, `data` = the body, which must be one JSON value.
// The event is subject to `limits` like any other.
Result<Event> wrap_plain(std::string_view json_body, std::string_view topic,
                         std::string_view generated_id, int64_t now_ms, const Limits& limits);

// A new event id: a UUIDv7 (48-bit Unix ms time, then 74 random bits) in its 36-character
// text form, so ids sort roughly by creation time. Thread-safe; each thread draws from its
// own generator seeded once from the OS, so no call makes a system call after the first.
std::string new_event_id();

// An event in binary mode, for push delivery over HTTP.
struct BinaryMessage {
  // `ce-<name>` headers in the stored order, names lower case, values percent-encoded
  // where the HTTP binding requires it (space, `"`, `%`, and bytes outside 0x21-0x7E).
  // Integer and boolean attributes are written as their JSON text (`42`, `true`).
  std::vector<std::pair<std::string, std::string>> headers;
  // The Content-Type to send: `datacontenttype`, else `application/json` when the event has
  // `data`, else "" (send no Content-Type).
  std::string content_type;
  // `data` as its JSON text, except a JSON string under a non-JSON content type, which is
  // sent as the string itself; `data_base64` decoded; empty when there is no data.
  std::string body;
};

// The binary-mode message for a stored event. parse_binary(to_binary(e)) reproduces an
// event that came in binary mode exactly; one that came structured keeps every attribute
// but integers and booleans come back as strings, as binary mode cannot carry types.
// Does not use simdjson. Fails with Errc::corrupt when `stored_json` is not in the stored
// form (it never is, for text this codec wrote).
Result<BinaryMessage> to_binary(std::string_view stored_json);

}  // namespace eddy::events
