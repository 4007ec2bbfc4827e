#include "cli/function.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"
#include "common/json_util.h"
#include "functions/archive.h"

namespace eddy::cli {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string name, runtime, handler, code, code_path, payload, request_id;
  std::optional<int64_t> memory_mb, timeout_ms, max_concurrency, min_instances, idle_timeout_ms,
      max_attempts;
  std::vector<std::string> env;
  std::string on_success, on_failure;
  bool async = false, follow = false, as_json = false;
  double price_gb_second = 0.0000166667;  // Lambda's x86 price per GB-second
  double price_million_requests = 0.20;   // ... and per million requests
};

// "topic:NAME" or "function:NAME" -> {"topic":NAME}.
std::optional<json::object> destination(const std::string& s) {
  auto colon = s.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string kind = s.substr(0, colon);
  if (kind != "topic" && kind != "function") return std::nullopt;
  return json::object{{kind, s.substr(colon + 1)}};
}

class Runner {
 public:
  explicit Runner(HttpClient& http) : http_(http) {}

  int deploy(const Options& o) {
    json::object body;
    if (!o.code.empty()) {
      std::string archive;
      std::error_code ec;
      if (fs::is_directory(o.code, ec)) {
        auto packed = functions::pack_directory(o.code);
        if (!packed) return fail(packed.error().message);
        archive = std::move(*packed);
      } else {
        std::ifstream f(o.code, std::ios::binary);
        if (!f) return fail(fmt::format("cannot read {}", o.code));
        std::stringstream ss;
        ss << f.rdbuf();
        archive = ss.str();
      }
      auto r = http_.request("PUT", "/v1/functions/" + path_segment(o.name) + "/code", archive,
                             "application/octet-stream");
      if (!r) return fail(r.error().message);
      if (r->status >= 300) return fail(error_message(*r));
    } else if (!o.code_path.empty()) {
      body["code"] = json::object{{"path", fs::absolute(o.code_path).string()}};
    }
    if (o.runtime.empty()) return fail("--runtime is required (nodejs, python or provided)");
    body["runtime"] = o.runtime;
    if (!o.handler.empty()) body["handler"] = o.handler;
    auto set = [&](const char* k, const std::optional<int64_t>& v) {
      if (v) body[k] = *v;
    };
    set("memory_mb", o.memory_mb);
    set("timeout_ms", o.timeout_ms);
    set("max_concurrency", o.max_concurrency);
    set("min_instances", o.min_instances);
    set("idle_timeout_ms", o.idle_timeout_ms);
    if (o.max_attempts) body["retry"] = json::object{{"max_attempts", *o.max_attempts}};
    if (!o.env.empty()) {
      json::object env;
      for (const auto& kv : o.env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos) return fail(fmt::format("--env '{}' must be NAME=VALUE", kv));
        env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      body["env"] = std::move(env);
    }
    for (auto [field, value] :
         {std::pair{"on_success", &o.on_success}, std::pair{"on_failure", &o.on_failure}}) {
      if (value->empty()) continue;
      auto d = destination(*value);
      if (!d) return fail(fmt::format("--{} must be topic:NAME or function:NAME", field));
      body[field] = std::move(*d);
    }
    return http_.print("PUT", "/v1/functions/" + path_segment(o.name), json_text(body));
  }

  int invoke(const Options& o) {
    auto r = http_.request(
        "POST",
        "/v1/functions/" + path_segment(o.name) + "/invoke" + (o.async ? "?mode=async" : ""),
        o.payload.empty() ? std::string("{}") : o.payload);
    if (!r) return fail(r.error().message);
    if (r->status >= 300) return fail(error_message(*r));
    std::cout << r->body << "\n";
    return r->headers.count("x-amz-function-error") ? 2 : 0;
  }

  int logs(const Options& o) {
    uint64_t after = 0;
    for (;;) {
      std::string path = fmt::format("/v1/functions/{}/logs?after={}&limit=1000", o.name, after);
      if (!o.request_id.empty()) path += "&request_id=" + o.request_id;
      auto r = http_.request("GET", path);
      if (!r) return fail(r.error().message);
      if (r->status >= 300) return fail(error_message(*r));
      auto body = json::parse(r->body).as_object();
      auto& lines = body["logs"].as_array();
      for (const auto& l : lines) {
        const auto& x = l.as_object();
        auto field = [&](const char* k) { return std::string_view(x.at(k).as_string()); };
        std::cout << field("time") << " " << field("request_id") << " " << field("stream") << " "
                  << field("message") << "\n";
      }
      std::cout.flush();
      after = body["next_after"].to_number<uint64_t>();
      if (!o.follow) return 0;
      if (lines.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  }

  int usage(const Options& o) {
    auto r = http_.request("GET", "/v1/usage");
    if (!r) return fail(r.error().message);
    if (r->status >= 300) return fail(error_message(*r));
    auto body = json::parse(r->body).as_object();
    json::array rows;
    double total = 0;
    for (const auto& [name, v] : body["functions"].as_object()) {
      const auto& u = v.as_object();
      double requests = u.at("requests").to_number<double>();
      double gbs = u.at("gb_seconds").to_number<double>();
      double cost = gbs * o.price_gb_second + requests / 1e6 * o.price_million_requests;
      total += cost;
      rows.push_back(json::object{{"function", name},
                                  {"requests", u.at("requests")},
                                  {"errors", u.at("errors")},
                                  {"billed_ms", u.at("billed_ms")},
                                  {"gb_seconds", gbs},
                                  {"cost", cost}});
    }
    if (o.as_json) {
      std::cout << json_text(
                       json::object{{"functions", rows},
                                    {"total_cost", total},
                                    {"price_gb_second", o.price_gb_second},
                                    {"price_million_requests", o.price_million_requests}})
                << "\n";
      return 0;
    }
    std::cout << fmt::format("{:<24} {:>10} {:>8} {:>14} {:>12}\n", "FUNCTION", "REQUESTS",
                             "ERRORS", "GB-SECONDS", "COST");
    for (const auto& row : rows) {
      const auto& x = row.as_object();
      std::cout << fmt::format(
          "{:<24} {:>10} {:>8} {:>14.6f} {:>12.6f}\n", std::string(x.at("function").as_string()),
          x.at("requests").to_number<int64_t>(), x.at("errors").to_number<int64_t>(),
          x.at("gb_seconds").to_number<double>(), x.at("cost").to_number<double>());
    }
    std::cout << fmt::format("{:<24} {:>10} {:>8} {:>14} {:>12.6f}\n", "TOTAL", "", "", "", total);
    return 0;
  }

 private:
  HttpClient& http_;
};

}  // namespace

Command add_function_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* fn = app.add_subcommand("function", "Deploy, invoke and inspect functions");
  fn->require_subcommand(1);
  auto* deploy = fn->add_subcommand("deploy", "Create or update a function (a new version)");
  deploy->add_option("name", o->name)->required();
  deploy->add_option("--runtime", o->runtime, "nodejs | python | provided");
  deploy->add_option("--handler", o->handler, "FILE.FUNCTION, e.g. index.handler");
  deploy->add_option("--code", o->code, "a directory or zip/tar.gz to upload");
  deploy->add_option("--code-path", o->code_path, "use this directory on the server's disk as is");
  deploy->add_option("--memory-mb", o->memory_mb, "memory cap (default 128)");
  deploy->add_option("--timeout-ms", o->timeout_ms, "per-invocation timeout (default 3000)");
  deploy->add_option("--max-concurrency", o->max_concurrency, "most instances at once (default 8)");
  deploy->add_option("--min-instances", o->min_instances, "instances kept warm (default 0)");
  deploy->add_option("--idle-timeout-ms", o->idle_timeout_ms,
                     "stop an instance idle this long (default 60000)");
  deploy->add_option("--env", o->env, "NAME=VALUE (repeatable)");
  deploy->add_option("--max-attempts", o->max_attempts,
                     "async attempts, the first included (default 3)");
  deploy->add_option("--on-success", o->on_success, "topic:NAME or function:NAME");
  deploy->add_option("--on-failure", o->on_failure, "topic:NAME or function:NAME");
  auto* invoke = fn->add_subcommand("invoke", "Invoke a function and print its result");
  invoke->add_option("name", o->name)->required();
  invoke->add_option("payload", o->payload, "JSON event (default {})");
  invoke->add_flag("--async", o->async, "queue the invocation and return at once");
  auto* logs = fn->add_subcommand("logs", "Print a function's captured output");
  logs->add_option("name", o->name)->required();
  logs->add_flag("-f,--follow", o->follow, "keep printing new lines");
  logs->add_option("--request-id", o->request_id, "only this invocation's lines");
  auto* list = fn->add_subcommand("list", "List functions");
  auto* get = fn->add_subcommand("get", "Show a function's configuration, instances and stats");
  get->add_option("name", o->name)->required();
  auto* del = fn->add_subcommand("delete", "Delete a function");
  del->add_option("name", o->name)->required();
  auto* invs = fn->add_subcommand("invocations", "Recent invocations, newest first");
  invs->add_option("name", o->name)->required();

  auto* usage = app.add_subcommand("usage", "Requests and GB-seconds per function, priced");
  usage->add_option("--price-gb-second", o->price_gb_second,
                    "price of one GB-second (default 0.0000166667)");
  usage->add_option("--price-million-requests", o->price_million_requests,
                    "price of a million requests (default 0.20)");
  usage->add_flag("--json", o->as_json, "print one JSON object");

  Command cmd;
  cmd.parsed = [fn, usage] { return fn->parsed() || usage->parsed(); };
  cmd.run = [=](const std::string& endpoint) -> int {
    auto connected = HttpClient::connect_to(endpoint);
    if (!connected) return fail(connected.error().message);
    HttpClient& http = **connected;
    Runner r(http);
    if (usage->parsed()) return r.usage(*o);
    if (deploy->parsed()) return r.deploy(*o);
    if (invoke->parsed()) return r.invoke(*o);
    if (logs->parsed()) return r.logs(*o);
    if (list->parsed()) return http.print("GET", "/v1/functions");
    if (get->parsed()) return http.print("GET", "/v1/functions/" + path_segment(o->name));
    if (del->parsed()) return http.print("DELETE", "/v1/functions/" + path_segment(o->name));
    if (invs->parsed())
      return http.print("GET", "/v1/functions/" + path_segment(o->name) + "/invocations");
    return 0;
  };
  return cmd;
}

}  // namespace eddy::cli
