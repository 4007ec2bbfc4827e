#include "bus/subscription_config.h"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>

#include "bus/topics.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "rules/pattern.h"
#include "rules/transform.h"

namespace eddy::bus {
namespace json = boost::json;
namespace {

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

// Reads an optional integer field into `slot`, checking [min, max].
Status read_int(const json::object& o, std::string_view field, int64_t min, int64_t max,
                int64_t& slot, std::string_view prefix = "") {
  auto v = get_int(o, field);
  if (!v) return invalid(fmt::format("{}{}", prefix, v.error().message));
  if (!*v) return {};
  if (**v < min || **v > max) {
    return invalid(
        fmt::format("'{}{}' must be between {} and {}, got {}", prefix, field, min, max, **v));
  }
  slot = **v;
  return {};
}

Result<const json::object*> get_object(const json::object& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return static_cast<const json::object*>(nullptr);
  if (!it->value().is_object()) return invalid(fmt::format("'{}' must be an object", field));
  return &it->value().as_object();
}

Status read_retry(const json::object& r, RetryPolicy& p) {
  if (auto s = reject_unknown_fields(r, {"max_attempts", "initial_backoff_ms", "max_backoff_ms",
                                         "max_age_ms", "retry_after_max_ms"});
      !s) {
    return invalid("retry: " + s.error().message);
  }
  int64_t attempts = p.max_attempts;
  for (auto s : {read_int(r, "max_attempts", 1, 1000, attempts, "retry."),
                 read_int(r, "initial_backoff_ms", 0, 3600000, p.initial_backoff_ms, "retry."),
                 read_int(r, "max_backoff_ms", 0, 86400000, p.max_backoff_ms, "retry."),
                 read_int(r, "max_age_ms", -1, INT64_MAX / 2, p.max_age_ms, "retry."),
                 read_int(r, "retry_after_max_ms", 0, 86400000, p.retry_after_max_ms, "retry.")}) {
    if (!s) return s;
  }
  p.max_attempts = static_cast<uint32_t>(attempts);
  if (p.max_age_ms == 0) return invalid("'retry.max_age_ms' must be positive, or -1 for no limit");
  if (p.max_backoff_ms < p.initial_backoff_ms) {
    return invalid(
        fmt::format("'retry.max_backoff_ms' ({}) must not be below "
                    "'retry.initial_backoff_ms' ({})",
                    p.max_backoff_ms, p.initial_backoff_ms));
  }
  return {};
}

Status read_target(const json::object& t, SubscriptionConfig& c) {
  constexpr std::string_view kForms =
      R"(use {"pull":{}}, {"url":"http://host:port/path"}, {"topic":"name"} or {"function":"name"})";
  if (t.size() != 1) return invalid(fmt::format("'target' must have exactly one key: {}", kForms));
  const auto& [key, value] = *t.begin();
  if (key == "pull") {
    if (!value.is_object() || !value.as_object().empty()) {
      return invalid(R"('target.pull' takes no options: write {"pull":{}})");
    }
    c.target = SubscriptionConfig::Target::pull;
    return {};
  }
  if (key == "url") {
    if (!value.is_string()) return invalid("'target.url' must be a string");
    std::string_view url = value.get_string();
    auto u = boost::urls::parse_absolute_uri(url);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty()) {
      return invalid(fmt::format(
          "'target.url' must be an absolute http:// or https:// URL with a host, got '{}'", url));
    }
    c.target = SubscriptionConfig::Target::url;
    c.target_url = url;
    return {};
  }
  if (key == "topic") {
    if (!value.is_string()) return invalid("'target.topic' must be a topic name");
    if (auto s = validate_topic_name(value.get_string()); !s)
      return invalid("target: " + s.error().message);
    c.target = SubscriptionConfig::Target::topic;
    c.target_topic = value.get_string();
    return {};
  }
  if (key == "function") {
    if (!value.is_string() || value.get_string().empty() || value.get_string().size() > 200) {
      return invalid("'target.function' must be the name of a function");
    }
    c.target = SubscriptionConfig::Target::function;
    c.target_function = value.get_string();
    return {};
  }
  return invalid(fmt::format("unknown target '{}': {}", std::string_view(key), kForms));
}

Status read_start(const json::value& v, StartPosition& s) {
  if (v.is_string()) {
    std::string_view text = v.get_string();
    if (text == "latest") {
      s = {StartPosition::Kind::latest, 0};
    } else if (text == "earliest") {
      s = {StartPosition::Kind::earliest, 0};
    } else {
      auto ms = parse_rfc3339_ms(text);
      if (!ms) {
        return invalid(
            fmt::format("'start' must be \"latest\", \"earliest\", an offset or an "
                        "RFC 3339 time: {}",
                        ms.error().message));
      }
      s = {StartPosition::Kind::time, *ms};
    }
    return {};
  }
  json::object wrap{{"start", v}};
  auto n = get_int(wrap, "start");
  if (!n || !*n || **n < 0) {
    return invalid(
        "'start' must be \"latest\", \"earliest\", an offset (integer >= 0) or an "
        "RFC 3339 time");
  }
  s = {StartPosition::Kind::offset, **n};
  return {};
}

}  // namespace

Status validate_subscription_name(std::string_view name) {
  if (auto s = validate_topic_name(name); !s) {
    return invalid(
        fmt::format("invalid subscription name '{}': use 1-200 characters of A-Z a-z "
                    "0-9 . _ -",
                    name));
  }
  return {};
}

Result<SubscriptionConfig> SubscriptionConfig::from_json(const json::object& body) {
  if (auto s = reject_unknown_fields(
          body, {"name", "topic", "mode", "filter", "transform", "target", "ack_deadline_ms",
                 "retry", "dead_letter_topic", "batch", "start", "max_concurrency", "stats"});
      !s) {
    return std::move(s).error();
  }
  SubscriptionConfig c;
  auto topic = get_string(body, "topic");
  if (!topic) return std::move(topic).error();
  if (!*topic) return invalid("'topic' is required: the topic to subscribe to");
  if (auto s = validate_topic_name(**topic); !s) return std::move(s).error();
  c.topic = **topic;

  auto mode = get_string(body, "mode");
  if (!mode) return std::move(mode).error();
  if (*mode) {
    if (**mode == "queue") {
      c.mode = SubscriptionMode::queue;
    } else if (**mode == "stream") {
      c.mode = SubscriptionMode::stream;
    } else {
      return invalid(fmt::format("'mode' must be \"queue\" or \"stream\", got \"{}\"", **mode));
    }
  }

  if (auto it = body.find("filter"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object())
      return invalid("'filter' must be an event pattern (a JSON object)");
    auto pattern = rules::compile_pattern(json_text(it->value()));
    if (!pattern) {
      return make_error(Errc::invalid_pattern, "filter: " + pattern.error().message);
    }
    c.filter = pattern->json();
  }
  if (auto it = body.find("transform"); it != body.end() && !it->value().is_null()) {
    auto transform = rules::compile_transform(it->value());
    if (!transform) return std::move(transform).error();
    c.transform = json_text(it->value());
  }

  auto target = get_object(body, "target");
  if (!target) return std::move(target).error();
  if (*target) {
    if (auto s = read_target(**target, c); !s) return std::move(s).error();
  }

  if (auto s = read_int(body, "ack_deadline_ms", 10, 600000, c.ack_deadline_ms); !s) {
    return std::move(s).error();
  }
  auto retry = get_object(body, "retry");
  if (!retry) return std::move(retry).error();
  if (*retry) {
    if (auto s = read_retry(**retry, c.retry); !s) return std::move(s).error();
  }

  auto dlq = get_string(body, "dead_letter_topic");
  if (!dlq) return std::move(dlq).error();
  if (*dlq) {
    if (auto s = validate_topic_name(**dlq); !s) {
      return invalid("dead_letter_topic: " + s.error().message);
    }
    c.dead_letter_topic = **dlq;
  }

  auto batch = get_object(body, "batch");
  if (!batch) return std::move(batch).error();
  if (*batch) {
    if (auto s = reject_unknown_fields(**batch, {"max_events", "window_ms"}); !s) {
      return invalid("batch: " + s.error().message);
    }
    int64_t n = c.batch_max_events;
    if (auto s = read_int(**batch, "max_events", 1, 10000, n, "batch."); !s)
      return std::move(s).error();
    c.batch_max_events = static_cast<uint32_t>(n);
    if (auto s = read_int(**batch, "window_ms", 0, 300000, c.batch_window_ms, "batch."); !s) {
      return std::move(s).error();
    }
    const bool batches = c.target == Target::pull || c.target == Target::function;
    if (!batches && (c.batch_max_events > 1 || c.batch_window_ms > 0)) {
      return invalid(
          "'batch' applies to pull and function targets; a url or topic target gets "
          "one event at a time");
    }
    if (c.target == Target::pull && c.batch_window_ms > 0) {
      return invalid(
          "'batch.window_ms' applies to function targets; a pull returns what is "
          "there (use wait_ms to wait for the first event)");
    }
  }

  int64_t concurrency = c.max_concurrency;
  if (auto s = read_int(body, "max_concurrency", 1, 1000, concurrency); !s)
    return std::move(s).error();
  c.max_concurrency = static_cast<uint32_t>(concurrency);

  if (auto it = body.find("start"); it != body.end() && !it->value().is_null()) {
    if (auto s = read_start(it->value(), c.start); !s) return std::move(s).error();
  }
  return c;
}

json::object SubscriptionConfig::to_json() const {
  json::object o;
  o["topic"] = topic;
  o["mode"] = mode == SubscriptionMode::queue ? "queue" : "stream";
  if (!filter.empty()) {
    o["filter"] = json::parse(filter);
  }
  if (!transform.empty()) o["transform"] = json::parse(transform);
  switch (target) {
    case Target::pull:
      o["target"] = json::object{{"pull", json::object()}};
      break;
    case Target::url:
      o["target"] = json::object{{"url", target_url}};
      break;
    case Target::topic:
      o["target"] = json::object{{"topic", target_topic}};
      break;
    case Target::function:
      o["target"] = json::object{{"function", target_function}};
      break;
  }
  o["ack_deadline_ms"] = ack_deadline_ms;
  o["retry"] = json::object{{"max_attempts", retry.max_attempts},
                            {"initial_backoff_ms", retry.initial_backoff_ms},
                            {"max_backoff_ms", retry.max_backoff_ms},
                            {"max_age_ms", retry.max_age_ms},
                            {"retry_after_max_ms", retry.retry_after_max_ms}};
  if (!dead_letter_topic.empty()) o["dead_letter_topic"] = dead_letter_topic;
  o["batch"] = json::object{{"max_events", max_events()}, {"window_ms", batch_window_ms}};
  o["max_concurrency"] = max_concurrency;
  switch (start.kind) {
    case StartPosition::Kind::latest:
      o["start"] = "latest";
      break;
    case StartPosition::Kind::earliest:
      o["start"] = "earliest";
      break;
    case StartPosition::Kind::offset:
      o["start"] = start.value;
      break;
    case StartPosition::Kind::time:
      o["start"] = format_rfc3339_ms(start.value);
      break;
  }
  return o;
}

}  // namespace eddy::bus
