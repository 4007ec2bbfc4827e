#include "bus/event_rewrite.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>

#include "common/rfc3339.h"
#include "events/event_builder.h"
#include "events/stored_json.h"

namespace eddy::bus {
namespace {

constexpr size_t kMaxErrorBytes = 1024;
// Room a rewrite may add to an event that was at the size limit.
constexpr size_t kRewriteSlack = 4096;

Error not_stored(std::string_view why) {
  return make_error(Errc::corrupt, fmt::format("stored event is malformed: {}", why));
}

// Cuts `s` to at most `n` bytes without splitting a UTF-8 sequence.
std::string cut_utf8(std::string s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

}  // namespace

Result<events::Event> rewrite_event(std::string_view stored_json,
                                    std::span<const std::string_view> remove,
                                    std::span<const ExtensionValue> set, size_t max_event_bytes,
                                    const NewData* data) {
  events::EventBuilder builder;
  builder.reset(events::EventBuilder::Origin::json);
  std::deque<std::string> strings;  // unescaped values; the builder keeps views into them
  auto skipped = [&](std::string_view name) {
    return std::find(remove.begin(), remove.end(), name) != remove.end() ||
           std::any_of(set.begin(), set.end(),
                       [&](const ExtensionValue& e) { return e.name == name; });
  };
  events::StoredMembers members(stored_json);
  while (members.next()) {
    std::string_view name = members.name();
    std::string_view value = members.value();
    if (skipped(name)) continue;
    if (data && (name == "data" || name == "data_base64" || name == "datacontenttype")) continue;
    if (value.empty()) return not_stored("empty value");
    Status added;
    if (name == "data") {
      added = builder.set_data_json(value);
    } else if (value.front() == '"') {
      auto text = events::unescape_json_string(value);
      if (!text) return not_stored(fmt::format("attribute '{}' is not a JSON string", name));
      added = builder.add_string(name, strings.emplace_back(std::move(*text)));
    } else if (value == "true" || value == "false") {
      added = builder.add_bool(name, value == "true");
    } else if (value == "null") {
      continue;
    } else {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return not_stored(
            fmt::format("attribute '{}' is neither string, integer nor boolean", name));
      }
      added = builder.add_integer(name, n);
    }
    if (!added) return std::move(added).error();
  }
  if (members.failed()) return not_stored("not a JSON object");
  if (data) {
    if (auto s = builder.set_data_json(data->json); !s) return std::move(s).error();
    if (auto s = builder.add_string("datacontenttype", data->content_type); !s) {
      return std::move(s).error();
    }
  }
  for (const auto& e : set) {
    Status added = std::holds_alternative<int64_t>(e.value)
                       ? builder.add_integer(e.name, std::get<int64_t>(e.value))
                       : builder.add_string(e.name, std::get<std::string>(e.value));
    if (!added) return std::move(added).error();
  }
  return builder.finish(events::Limits{max_event_bytes});
}

Result<events::Event> make_dead_letter(std::string_view stored_json, const DeliveryHistory& h) {
  std::vector<ExtensionValue> ext;
  ext.push_back({"eddysubscription", h.subscription});
  ext.push_back({"eddyattempts", int64_t(h.attempts)});
  ext.push_back({"eddyerror", cut_utf8(h.error, kMaxErrorBytes)});
  if (h.status != 0) ext.push_back({"eddystatus", int64_t(h.status)});
  ext.push_back({"eddyfirstattempt", format_rfc3339_ms(h.first_attempt_ms)});
  ext.push_back({"eddylastattempt", format_rfc3339_ms(h.last_attempt_ms)});
  return rewrite_event(stored_json, kDeadLetterExtensions, ext, stored_json.size() + kRewriteSlack);
}

Result<events::Event> strip_dead_letter(std::string_view stored_json) {
  return rewrite_event(stored_json, kDeadLetterExtensions, {}, stored_json.size() + kRewriteSlack);
}

Result<events::Event> make_forwarded(std::string_view stored_json, size_t max_event_bytes,
                                     const NewData* data) {
  int64_t hops = 0;
  if (auto h = events::attribute(stored_json, kHopsExtension)) {
    auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), hops);
    if (ec != std::errc() || end != h->data() + h->size()) hops = 0;
  }
  if (hops >= kMaxHops) {
    return make_error(Errc::conflict,
                      fmt::format("the event was forwarded {} times already; topics forward in a "
                                  "loop: check the subscriptions whose target is a topic",
                                  hops));
  }
  ExtensionValue hop{std::string(kHopsExtension), hops + 1};
  return rewrite_event(stored_json, {}, std::span<const ExtensionValue>(&hop, 1),
                       std::max(max_event_bytes, stored_json.size() + kRewriteSlack), data);
}

}  // namespace eddy::bus
