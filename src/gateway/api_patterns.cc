// /v1/patterns/test and /v1/patterns/backtest: try an event pattern on one event (with an
// explanation of a non-match), or over a topic's retained log before it goes live.
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "bus/topics.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "gateway/api.h"
#include "rules/interpreter.h"
#include "rules/matcher.h"
#include "rules/pattern.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr uint64_t kMaxBacktestEvents = 1'000'000;
constexpr int64_t kMaxSamples = 100;

// `pattern` may be given as a JSON object or as a string holding one.
Result<rules::Pattern> pattern_field(const json::object& body) {
  const auto* p = body.if_contains("pattern");
  if (!p) return make_error(Errc::invalid_argument, "'pattern' is required");
  if (p->is_string()) return rules::compile_pattern(p->get_string());
  if (p->is_object()) return rules::compile_pattern(json_text(*p));
  return make_error(Errc::invalid_pattern, "$: a pattern must be a JSON object");
}

json::object pattern_summary(const rules::Pattern& p) {
  return json::object{{"branches", p.branch_count()}, {"complexity", p.complexity()}};
}

Response test(const Request& req) {
  auto body = parse_json_object(req.body());
  if (!body) return error_reply(body.error());
  if (auto s = reject_unknown_fields(*body, {"pattern", "event", "explain"}); !s) {
    return error_reply(s.error());
  }
  auto pattern = pattern_field(*body);
  if (!pattern) return error_reply(pattern.error());
  const auto* event = body->if_contains("event");
  if (!event || !event->is_object()) {
    return error_reply(Errc::invalid_argument, "'event' is required and must be a JSON object");
  }
  auto explain = get_bool(*body, "explain");
  if (!explain) return error_reply(explain.error());
  std::string event_json = json_text(*event);
  json::object out;
  if (explain->value_or(false)) {
    auto why = rules::explain(*pattern, event_json);
    out["match"] = why.match;
    if (!why.match) {
      json::array mismatches;
      for (const auto& m : why.mismatches) {
        mismatches.push_back(json::object{{"path", m.path}, {"reason", m.reason}});
      }
      out["explanation"] = json::object{{"message", why.message}, {"mismatches", mismatches}};
    }
  } else {
    out["match"] = rules::matches(*pattern, event_json);
  }
  out["pattern"] = pattern_summary(*pattern);
  return json_reply(http::status::ok, json::value(std::move(out)));
}

// Times for `from`/`to`: RFC 3339 strings; absent means the whole retained log.
Result<int64_t> time_field(const json::object& body, std::string_view field, int64_t fallback) {
  auto v = get_string(body, field);
  if (!v) return std::move(v).error();
  if (!*v) return fallback;
  auto ms = parse_rfc3339_ms(**v);
  if (!ms) {
    return make_error(Errc::invalid_argument,
                      fmt::format("'{}': {}", field, ms.error().message));
  }
  return *ms;
}

Response backtest(Context& ctx, const Request& req) {
  auto body = parse_json_object(req.body());
  if (!body) return error_reply(body.error());
  if (auto s = reject_unknown_fields(*body, {"topic", "pattern", "from", "to", "samples"}); !s) {
    return error_reply(s.error());
  }
  auto topic_name = get_string(*body, "topic");
  if (!topic_name) return error_reply(topic_name.error());
  if (!*topic_name) return error_reply(Errc::invalid_argument, "'topic' is required");
  auto topic = ctx.services.topics.find(**topic_name);
  if (!topic) {
    return error_reply(Errc::not_found, fmt::format("topic '{}' does not exist", **topic_name));
  }
  auto pattern = pattern_field(*body);
  if (!pattern) return error_reply(pattern.error());
  auto from = time_field(*body, "from", INT64_MIN);
  auto to = time_field(*body, "to", INT64_MAX);
  if (!from) return error_reply(from.error());
  if (!to) return error_reply(to.error());
  if (*from > *to) return error_reply(Errc::invalid_argument, "'from' is after 'to'");
  auto samples_wanted = get_int(*body, "samples");
  if (!samples_wanted) return error_reply(samples_wanted.error());
  int64_t max_samples = samples_wanted->value_or(10);
  if (max_samples < 0 || max_samples > kMaxSamples) {
    return error_reply(Errc::invalid_argument,
                       fmt::format("'samples' must be from 0 to {}", kMaxSamples));
  }

  // The compiled matcher, exactly as a subscription filter would run it.
  rules::Matcher matcher;
  if (auto s = matcher.add(1, *pattern); !s) return error_reply(s.error());
  uint64_t scanned = 0, matched = 0;
  bool truncated = false;
  std::string samples = "[";
  std::vector<uint64_t> hits;
  for (uint32_t p = 0; p < topic->partition_count() && !truncated; ++p) {
    auto& part = topic->partition(p);
    uint64_t offset = *from == INT64_MIN ? part.start_offset() : part.offset_for_time(*from);
    for (;;) {
      auto r = part.read(offset, 1000, 4u << 20);
      if (!r) return error_reply(r.error());
      if (r->records.empty()) break;
      bool past_end = false;
      for (const auto& rec : r->records) {
        if (rec.time_ms > *to) {
          past_end = true;
          break;
        }
        if (scanned == kMaxBacktestEvents) {
          truncated = true;
          break;
        }
        ++scanned;
        hits.clear();
        matcher.match(rec.payload, hits);
        if (hits.empty()) continue;
        if (int64_t(matched) < max_samples) {
          if (matched) samples += ',';
          fmt::format_to(std::back_inserter(samples), R"({{"partition":{},"offset":{},"time":")",
                         p, rec.offset);
          append_rfc3339_ms(samples, rec.time_ms);
          samples += R"(","event":)";
          samples += rec.payload;
          samples += '}';
        }
        ++matched;
      }
      if (past_end || truncated) break;
      offset = r->next_offset;
    }
  }
  samples += ']';
  std::string out = fmt::format(R"({{"topic":)");
  append_json_string(out, topic->name());
  fmt::format_to(std::back_inserter(out),
                 R"(,"scanned":{},"matched":{},"truncated":{},"pattern":{},"samples":{}}})",
                 scanned, matched, truncated, json_text(pattern_summary(*pattern)), samples);
  return json_reply(http::status::ok, std::move(out));
}

}  // namespace

asio::awaitable<Response> handle_patterns(Context& ctx, Request& req, const Target& t) {
  const auto& seg = t.segments;
  if (seg.size() == 3 && (seg[2] == "test" || seg[2] == "backtest")) {
    if (req.method() != http::verb::post) co_return method_not_allowed("POST");
    co_return seg[2] == "test" ? test(req) : backtest(ctx, req);
  }
  co_return error_reply(Errc::not_found,
                        fmt::format("no such endpoint: {}", std::string_view(req.target())));
}

}  // namespace eddy::gateway
