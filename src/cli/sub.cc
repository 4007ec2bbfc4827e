#include "cli/sub.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace json = boost::json;

namespace {

struct Options {
  std::string name;
  // create
  std::string topic, mode, url, to_topic, function, filter, transform, dead_letter_topic, start,
      spec;
  std::optional<int64_t> ack_deadline_ms, max_attempts, initial_backoff_ms, max_backoff_ms,
      max_age_ms, max_concurrency;
  // pull / ack / nack / seek
  int64_t max_events = 0;
  int64_t wait_ms = 0;
  bool ack = false;
  bool follow = false;
  std::vector<std::string> ack_ids;
  std::optional<int64_t> delay_ms;
  std::string offset, time;
  std::optional<int64_t> partition;
};

std::string path(const std::string& name, std::string_view verb = {}) {
  std::string out = "/v1/subscriptions/" + path_segment(name);
  if (!verb.empty()) out += "/" + std::string(verb);
  return out;
}

Result<json::object> create_body(const Options& o) {
  auto spec = spec_arg(o.spec);
  if (!spec) return std::move(spec).error();
  json::object body = std::move(*spec);
  if (!o.topic.empty()) body["topic"] = o.topic;
  if (!o.mode.empty()) body["mode"] = o.mode;
  if (!o.url.empty() + !o.to_topic.empty() + !o.function.empty() > 1) {
    return make_error(Errc::invalid_argument, "give one of --url, --to-topic and --function");
  }
  if (!o.url.empty()) body["target"] = json::object{{"url", o.url}};
  if (!o.to_topic.empty()) body["target"] = json::object{{"topic", o.to_topic}};
  if (!o.function.empty()) body["target"] = json::object{{"function", o.function}};
  for (auto [field, arg] : {std::pair{"filter", &o.filter}, std::pair{"transform", &o.transform}}) {
    if (arg->empty()) continue;
    auto v = json_arg(fmt::format("--{}", field), *arg);
    if (!v) return std::move(v).error();
    body[field] = std::move(*v);
  }
  if (!o.dead_letter_topic.empty()) body["dead_letter_topic"] = o.dead_letter_topic;
  if (o.ack_deadline_ms) body["ack_deadline_ms"] = *o.ack_deadline_ms;
  if (o.max_concurrency) body["max_concurrency"] = *o.max_concurrency;
  json::object retry;
  if (auto it = body.find("retry"); it != body.end() && it->value().is_object()) {
    retry = it->value().as_object();
  }
  if (o.max_attempts) retry["max_attempts"] = *o.max_attempts;
  if (o.initial_backoff_ms) retry["initial_backoff_ms"] = *o.initial_backoff_ms;
  if (o.max_backoff_ms) retry["max_backoff_ms"] = *o.max_backoff_ms;
  if (o.max_age_ms) retry["max_age_ms"] = *o.max_age_ms;
  if (!retry.empty()) body["retry"] = std::move(retry);
  if (!o.start.empty()) {
    bool digits = o.start.find_first_not_of("0123456789") == std::string::npos;
    if (digits) {
      body["start"] = std::stoll(o.start);
    } else {
      body["start"] = o.start;
    }
  }
  if (!body.contains("topic")) {
    return make_error(Errc::invalid_argument, "--topic is required (or a \"topic\" in --spec)");
  }
  return body;
}

// Pulls and prints messages as JSON lines; with `ack`, acks each batch once printed.
int pull(HttpClient& http, const Options& o) {
  for (;;) {
    json::object req;
    if (o.max_events > 0) req["max_events"] = o.max_events;
    req["wait_ms"] = o.follow && o.wait_ms == 0 ? 30000 : o.wait_ms;
    auto res = http.request("POST", path(o.name, "pull"), json_text(req));
    if (!res) return fail(res.error().message);
    if (res->status >= 300) return fail(error_message(*res));
    json::error_code ec;
    auto v = json::parse(res->body, ec);
    if (ec || !v.is_object() || !v.as_object()["messages"].is_array()) {
      return fail("the server sent a pull reply that is not JSON");
    }
    json::array ids;
    for (const auto& m : v.as_object()["messages"].as_array()) {
      std::cout << json_text(m) << "\n";
      if (m.is_object()) ids.push_back(m.as_object().at("ack_id"));
    }
    std::cout.flush();
    if (o.ack && !ids.empty()) {
      auto a = http.request("POST", path(o.name, "ack"),
                            json_text(json::object{{"ack_ids", ids}}));
      if (!a) return fail(a.error().message);
      if (a->status >= 300) return fail(error_message(*a));
    }
    if (!o.follow) return 0;
  }
}

}  // namespace

Command add_sub_command(CLI::App& app) {
  auto* sub = app.add_subcommand("sub", "Create, inspect and consume subscriptions");
  sub->require_subcommand(1);
  auto o = std::make_shared<Options>();

  auto* create = sub->add_subcommand("create", "Create a subscription (or update one)");
  create->add_option("name", o->name)->required();
  create->add_option("--topic", o->topic, "the topic to subscribe to");
  create->add_option("--mode", o->mode, "queue (default) | stream");
  create->add_option("--url", o->url, "push each event to this http:// URL");
  create->add_option("--to-topic", o->to_topic, "forward each event to this topic");
  create->add_option("--function", o->function, "invoke this function with each event");
  create->add_option("--filter", o->filter, "event pattern (JSON, or @FILE)");
  create->add_option("--transform", o->transform,
                     "rewrite delivered events: {\"select\":PATH} or {\"input_paths\","
                     "\"input_template\"} (JSON, or @FILE)");
  create->add_option("--dead-letter-topic", o->dead_letter_topic,
                     "where events out of attempts go");
  create->add_option("--ack-deadline-ms", o->ack_deadline_ms,
                     "redeliver unacked events after this");
  create->add_option("--max-attempts", o->max_attempts, "deliveries before dead-lettering");
  create->add_option("--initial-backoff-ms", o->initial_backoff_ms, "first push retry delay");
  create->add_option("--max-backoff-ms", o->max_backoff_ms, "longest push retry delay");
  create->add_option("--max-age-ms", o->max_age_ms, "stop retrying events older than this");
  create->add_option("--max-concurrency", o->max_concurrency, "push requests in flight at once");
  create->add_option("--start", o->start, "latest | earliest | OFFSET | RFC 3339 time");
  create->add_option("--spec", o->spec, "the whole request body as JSON (flags override it)");
  auto* list = sub->add_subcommand("list", "List subscriptions");
  auto* get = sub->add_subcommand("get", "Show a subscription's configuration and stats");
  get->add_option("name", o->name)->required();
  auto* del = sub->add_subcommand("delete", "Delete a subscription");
  del->add_option("name", o->name)->required();
  auto* pull_cmd = sub->add_subcommand("pull", "Pull events; print one JSON message per line");
  pull_cmd->add_option("name", o->name)->required();
  pull_cmd->add_option("--max-events", o->max_events, "at most this many per pull");
  pull_cmd->add_option("--wait-ms", o->wait_ms, "wait this long for the first event");
  pull_cmd->add_flag("--ack", o->ack, "ack what was printed");
  pull_cmd->add_flag("-f,--follow", o->follow, "keep pulling");
  auto* ack = sub->add_subcommand("ack", "Ack events by ack id");
  ack->add_option("name", o->name)->required();
  ack->add_option("ack_ids", o->ack_ids)->required();
  auto* nack = sub->add_subcommand("nack", "Ask for events to be redelivered");
  nack->add_option("name", o->name)->required();
  nack->add_option("ack_ids", o->ack_ids)->required();
  nack->add_option("--delay-ms", o->delay_ms, "redeliver after this long (default at once)");
  auto* seek = sub->add_subcommand("seek", "Move a subscription to an offset or a time");
  seek->add_option("name", o->name)->required();
  auto* seek_offset = seek->add_option("--offset", o->offset, "OFFSET | earliest | latest");
  auto* seek_time = seek->add_option("--time", o->time, "RFC 3339 time");
  seek->add_option("--partition", o->partition, "only this partition (with --offset)");
  seek_offset->excludes(seek_time);
  auto* redrive = sub->add_subcommand("redrive", "Deliver this subscription's dead letters again");
  redrive->add_option("name", o->name)->required();

  Command cmd;
  cmd.parsed = [sub] { return sub->parsed(); };
  cmd.run = [=](const std::string& endpoint) -> int {
    auto connected = HttpClient::connect_to(endpoint);
    if (!connected) return fail(connected.error().message);
    HttpClient& http = **connected;
    if (create->parsed()) {
      auto body = create_body(*o);
      if (!body) return fail(body.error().message);
      return http.print("PUT", path(o->name), json_text(*body));
    }
    if (list->parsed()) return http.print("GET", "/v1/subscriptions");
    if (get->parsed()) return http.print("GET", path(o->name));
    if (del->parsed()) return http.print("DELETE", path(o->name));
    if (pull_cmd->parsed()) return pull(http, *o);
    if (ack->parsed() || nack->parsed()) {
      json::array ids;
      for (const auto& id : o->ack_ids) ids.push_back(json::value(id));
      json::object body{{"ack_ids", std::move(ids)}};
      if (nack->parsed() && o->delay_ms) body["delay_ms"] = *o->delay_ms;
      return http.print("POST", path(o->name, ack->parsed() ? "ack" : "nack"),
                        json_text(body));
    }
    if (seek->parsed()) {
      json::object body;
      if (!o->time.empty()) {
        body["time"] = o->time;
      } else if (!o->offset.empty()) {
        bool digits = o->offset.find_first_not_of("0123456789") == std::string::npos;
        if (digits) {
          body["offset"] = std::stoll(o->offset);
        } else {
          body["offset"] = o->offset;
        }
        if (o->partition) body["partition"] = *o->partition;
      } else {
        return fail("give --offset or --time");
      }
      return http.print("POST", path(o->name, "seek"), json_text(body));
    }
    if (redrive->parsed()) return http.print("POST", path(o->name, "redrive"), "{}");
    return 1;
  };
  return cmd;
}

}  // namespace eddy::cli
