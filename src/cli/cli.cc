#include "cli/cli.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/app.h"
#include "cli/bench.h"
#include "cli/function.h"
#include "cli/http_client.h"
#include "cli/pattern.h"
#include "cli/route.h"
#include "cli/sub.h"
#include "cli/webhook.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace json = boost::json;

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

// Server logs go to stderr, one line per record: UTC time, level, message.
void configure_logging() {
  auto logger = spdlog::stderr_logger_mt("eddy");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  if (const char* level = std::getenv("EDDY_LOG_LEVEL")) {
    logger->set_level(spdlog::level::from_str(level));
  }
  spdlog::set_default_logger(logger);
}

int serve(const app::AppOptions& options) {
  configure_logging();
  auto app = app::App::create(options);
  if (!app) return fail(app.error().message);
  auto port = (*app)->start();
  if (!port) return fail(port.error().message);
  auto colon = options.listen.rfind(':');
  spdlog::info("eddy listening on http://{}:{} (data dir {}, fsync {})",
               options.listen.substr(0, colon), *port, options.data_dir.string(),
               options.durability.to_string());
  (*app)->wait();
  return 0;
}

// Reads events for `eddy publish`: arguments, or one JSON value per line of stdin.
int publish(HttpClient& client, const std::string& topic, const std::vector<std::string>& args) {
  auto send = [&](const std::string& line) -> int {
    json::error_code ec;
    auto v = json::parse(line, ec);
    if (ec) return fail(fmt::format("not JSON: {}", line));
    bool structured = v.is_object() && v.as_object().contains("specversion");
    auto r = client.request("POST", "/v1/topics/" + path_segment(topic) + "/events", line,
                            structured ? "application/cloudevents+json" : "application/json");
    if (!r) return fail(r.error().message);
    if (r->status >= 300) return fail(error_message(*r));
    auto reply = json::parse(r->body, ec);
    if (!ec && reply.is_object()) {
      for (const auto& res : reply.as_object()["results"].as_array()) {
        std::cout << json_text(res) << "\n";
      }
    }
    return 0;
  };
  if (!args.empty()) {
    for (const auto& a : args) {
      if (int rc = send(a)) return rc;
    }
    return 0;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (int rc = send(line)) return rc;
  }
  return 0;
}

int tail(HttpClient& client, const std::string& topic, bool from_beginning, bool follow,
         std::optional<int> only_partition) {
  auto info = client.request("GET", "/v1/topics/" + path_segment(topic));
  if (!info) return fail(info.error().message);
  if (info->status >= 300) return fail(error_message(*info));
  auto desc = json::parse(info->body).as_object();
  std::vector<std::pair<int, uint64_t>> cursors;  // partition, next offset
  for (const auto& p : desc["stats"].as_object()["partitions"].as_array()) {
    const auto& po = p.as_object();
    int part = static_cast<int>(po.at("partition").to_number<int64_t>());
    if (only_partition && part != *only_partition) continue;
    uint64_t start = from_beginning ? po.at("start_offset").to_number<uint64_t>()
                                    : po.at("end_offset").to_number<uint64_t>();
    cursors.emplace_back(part, start);
  }
  if (cursors.empty()) return fail("no such partition");
  for (;;) {
    bool any = false;
    for (auto& [part, next] : cursors) {
      // Long-poll only when following a single partition; otherwise poll in turn.
      int wait = follow ? (cursors.size() == 1 ? 20000 : 100) : 0;
      auto r = client.request(
          "GET", fmt::format("/v1/topics/{}/events?partition={}&offset={}&limit=1000&wait_ms={}",
                             path_segment(topic), part, next, wait));
      if (!r) return fail(r.error().message);
      if (r->status >= 300) return fail(error_message(*r));
      auto body = json::parse(r->body).as_object();
      for (const auto& e : body["events"].as_array()) {
        std::cout << json_text(e) << "\n";
        any = true;
      }
      next = body["next_offset"].to_number<uint64_t>();
    }
    std::cout.flush();
    if (!any && !follow) return 0;
  }
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"eddy: event-driven serverless in one binary"};
  app.require_subcommand(1);
  std::string endpoint = env_or("EDDY_ENDPOINT", "http://127.0.0.1:8400");
  app.add_option("--endpoint", endpoint, "eddy server URL (env EDDY_ENDPOINT)");

  // serve
  auto* serve_cmd = app.add_subcommand("serve", "Run the eddy server");
  app::AppOptions opts;
  opts.listen = env_or("EDDY_LISTEN", "127.0.0.1:8400");
  std::string data_dir = env_or("EDDY_DATA_DIR", "./eddy-data");
  std::string fsync = "always";
  serve_cmd->add_option("--listen", opts.listen, "HOST:PORT to listen on (env EDDY_LISTEN)");
  serve_cmd->add_option("--data-dir", data_dir,
                        "where the log and catalog live (env EDDY_DATA_DIR)");
  serve_cmd->add_option("--fsync", fsync, "durability: always | interval:MS | never");
  serve_cmd->add_option("--max-event-bytes", opts.max_event_bytes, "largest event accepted");
  serve_cmd->add_option("--max-request-bytes", opts.max_request_bytes, "largest request accepted");
  serve_cmd->add_option("--threads", opts.threads,
                        "io threads, each serving its own connections and function instances "
                        "(0: one per core)");
  serve_cmd->add_option("--function-user", opts.functions.user,
                        "run functions as this user when root (default nobody)");
  serve_cmd->add_option("--node", opts.functions.node,
                        "node binary for nodejs functions (default: node on PATH)");
  serve_cmd->add_option("--python", opts.functions.python,
                        "python for python functions (default /usr/bin/python3)");
  serve_cmd->add_option("--prestart", opts.functions.prestart,
                        "pre-started runtime processes per runtime in use (default 2)");
  serve_cmd->add_option("--function-max-concurrency", opts.functions.defaults.max_concurrency,
                        "default max_concurrency of functions (default 8)");

  // topic
  auto* topic_cmd = app.add_subcommand("topic", "Create, list, show and delete topics");
  topic_cmd->require_subcommand(1);
  std::string topic_name;
  int64_t partitions = 0, retention_ms = 0, retention_bytes = 0;
  std::string topic_fsync;
  auto* tcreate = topic_cmd->add_subcommand("create", "Create a topic (or update its retention)");
  tcreate->add_option("name", topic_name)->required();
  tcreate->add_option("--partitions", partitions, "number of partitions (default 1)");
  tcreate->add_option("--retention-ms", retention_ms, "keep events this long (-1: forever)");
  tcreate->add_option("--retention-bytes", retention_bytes,
                      "keep at most this many bytes per partition (-1: no limit)");
  tcreate->add_option("--fsync", topic_fsync,
                      "durability for this topic: always | interval:MS | never");
  auto* tlist = topic_cmd->add_subcommand("list", "List topics");
  auto* tget = topic_cmd->add_subcommand("get", "Show a topic's configuration and stats");
  tget->add_option("name", topic_name)->required();
  auto* tdelete = topic_cmd->add_subcommand("delete", "Delete a topic and its events");
  tdelete->add_option("name", topic_name)->required();

  // publish
  auto* pub_cmd = app.add_subcommand(
      "publish", "Publish events: arguments, or one JSON event per line of stdin");
  std::vector<std::string> pub_events;
  pub_cmd->add_option("topic", topic_name)->required();
  pub_cmd->add_option("events", pub_events, "events as JSON (CloudEvents or plain JSON)");

  // tail
  auto* tail_cmd = app.add_subcommand("tail", "Print a topic's events as JSON lines");
  bool from_beginning = false, follow = false;
  std::optional<int> tail_partition;
  tail_cmd->add_option("topic", topic_name)->required();
  tail_cmd->add_flag("--from-beginning", from_beginning, "start at the oldest retained event");
  tail_cmd->add_flag("-f,--follow", follow, "keep waiting for new events");
  tail_cmd->add_option("--partition", tail_partition, "only this partition");

  BenchCommand bench = add_bench_command(app);
  Command sub = add_sub_command(app);
  Command pattern = add_pattern_command(app);
  Command route = add_route_command(app);
  Command webhook = add_webhook_command(app);
  Command function = add_function_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (serve_cmd->parsed()) {
    auto d = log::Durability::parse(fsync);
    if (!d) return fail(d.error().message);
    opts.durability = *d;
    opts.data_dir = data_dir;
    return serve(opts);
  }
  if (bench.parsed()) return bench.run(endpoint);
  if (sub.parsed()) return sub.run(endpoint);
  if (pattern.parsed()) return pattern.run(endpoint);
  if (route.parsed()) return route.run(endpoint);
  if (webhook.parsed()) return webhook.run(endpoint);
  if (function.parsed()) return function.run(endpoint);

  auto connected = HttpClient::connect_to(endpoint);
  if (!connected) return fail(connected.error().message);
  HttpClient& client = **connected;
  if (tcreate->parsed()) {
    json::object body;
    if (partitions) body["partitions"] = partitions;
    if (retention_ms) body["retention_ms"] = retention_ms;
    if (retention_bytes) body["retention_bytes"] = retention_bytes;
    if (!topic_fsync.empty()) body["fsync"] = topic_fsync;
    return client.print("PUT", "/v1/topics/" + path_segment(topic_name), json_text(body));
  }
  if (tlist->parsed()) return client.print("GET", "/v1/topics");
  if (tget->parsed()) return client.print("GET", "/v1/topics/" + path_segment(topic_name));
  if (tdelete->parsed()) return client.print("DELETE", "/v1/topics/" + path_segment(topic_name));
  if (pub_cmd->parsed()) return publish(client, topic_name, pub_events);
  if (tail_cmd->parsed()) return tail(client, topic_name, from_beginning, follow, tail_partition);
  return 0;
}

}  // namespace eddy::cli
