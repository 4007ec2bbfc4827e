// libFuzzer target for the parsers of untrusted bytes on the publish path (build and run
// commands in README.md). The first byte picks the entry point; the rest is the body.
// Beyond "no crash", it checks the codec's promises: whatever is accepted is JSON to an
// independent parser (Boost.JSON), an accepted event's stored form parses back to itself,
// and it converts to binary mode and is accepted back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>

#include "events/attribute_syntax.h"
#include "events/cloud_event.h"
#include "events/stored_json.h"

namespace {

using eddy::events::Event;
using eddy::events::Header;
using eddy::events::Limits;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  check(!ec);
}

void check_event(const Event& event, const Limits& limits) {
  check(event.json.size() <= limits.max_event_bytes);
  check_json(event.json);
  auto again = eddy::events::parse_structured(event.json, limits);
  check(again.ok() && again->size() == 1 && (*again)[0].json == event.json &&
        (*again)[0].id == event.id && (*again)[0].partition_key == event.partition_key);
  check(eddy::events::attribute(event.json, "id") == event.id);
  auto binary = eddy::events::to_binary(event.json);
  check(binary.ok());
  std::vector<Header> headers;
  for (const auto& [name, value] : binary->headers) headers.push_back({name, value});
  // Binary mode carries no types, so only acceptance and the id are compared. One message
  // is legitimately refused: base64 data whose datacontenttype claims JSON, sent as a body
  // that is then not JSON.
  auto back =
      eddy::events::parse_binary(headers, binary->content_type, binary->body, Limits{1 << 24});
  const bool json_claimed_for_bytes =
      eddy::events::find_member(event.json, "data_base64").has_value() &&
      eddy::events::is_json_media_type(
          eddy::events::attribute(event.json, "datacontenttype").value_or(""));
  check(json_claimed_for_bytes || (back.ok() && back->id == event.id));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Limits limits{4096};
  const uint8_t mode = data[0] % 3;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode == 0) {
    if (auto events = eddy::events::parse_structured(body, limits); events.ok()) {
      check_json(body);
      check(events->size() == 1);
      check_event((*events)[0], limits);
    }
  } else if (mode == 1) {
    if (auto events = eddy::events::parse_batch(body, limits); events.ok()) {
      check_json(body);
      for (const Event& event : *events) check_event(event, limits);
    }
  } else {
    if (auto event = eddy::events::wrap_plain(body, "fuzz", "id-1", 0, limits); event.ok()) {
      check_json(body);
      check_event(*event, limits);
    }
  }
  return 0;
}
