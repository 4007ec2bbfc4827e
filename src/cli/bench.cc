#include "cli/bench.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/bench_invoke.h"
#include "cli/bench_publish.h"
#include "cli/bench_sub.h"
#include "common/json_util.h"
#include "events/codec_bench.h"
#include "log/log_bench.h"
#include "rules/rules_bench.h"

namespace eddy::cli {
namespace json = boost::json;

void print_figures(const json::object& figures, bool as_json) {
  if (as_json) {
    std::cout << json_text(figures) << "\n";
    return;
  }
  for (const auto& kv : figures) {
    std::cout << fmt::format("{:<34} {}\n", std::string_view(kv.key()), json_text(kv.value()));
  }
}

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           fmt::format("eddy-bench-{}-{}", ::getpid(), std::rand());
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Flags of `eddy bench` and `eddy bench append`, alive as long as the CLI's callbacks.
struct BenchState {
  bool as_json = false;
  log::BenchAppendOptions append;
  std::string fsync = "never";
};

}  // namespace

BenchCommand add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Run a benchmark and print its figures");
  bench->require_subcommand(1);
  auto state = std::make_shared<BenchState>();
  bench->add_flag("--json", state->as_json, "print one JSON object");

  auto* append = bench->add_subcommand("append", "In-process log append rate");
  append->add_option("--event-bytes", state->append.event_bytes, "payload size");
  append->add_option("--batch", state->append.batch, "records per append call");
  append->add_option("--events", state->append.events, "events to append");
  append->add_option("--fsync", state->fsync, "always | interval:MS | never");
  append->add_flag("--json", state->as_json, "print one JSON object");

  // Options every server benchmark shares.
  auto server_options = [](CLI::App* sub, BenchServerOptions& o, bool* as_json) {
    sub->add_option("--endpoint", o.endpoint,
                    "use the eddy server at this URL (default: start `eddy serve` on port 0)");
    sub->add_option("--fsync", o.fsync,
                    "always | interval:MS | never (own server: --fsync; else the topic's)");
    sub->add_option("--topic", o.topic, "topic to publish to (created with 1 partition)");
    sub->add_flag("--json", *as_json, "print one JSON object");
  };
  auto pub = std::make_shared<PublishBenchOptions>();
  auto print_body = std::make_shared<bool>(false);
  auto* publish = bench->add_subcommand("publish", "HTTP publish rate over keep-alive connections");
  server_options(publish, pub->server, &state->as_json);
  publish->add_option("--connections", pub->connections, "keep-alive connections (default 16)");
  publish->add_option("--batch", pub->batch, "events per request: 1 = structured, >1 = batch mode");
  publish->add_option("--data-bytes", pub->data_bytes, "bytes of each event's data string (default 100)");
  publish->add_option("--duration-ms", pub->duration_ms, "measured time (default 3000)");
  publish->add_option("--warmup-ms", pub->warmup_ms, "unmeasured warm-up (default 300)");
  publish->add_option("--requests", pub->max_requests, "stop after this many requests (0: no limit)");
  publish->add_option("--client-threads", pub->client_threads, "load generator threads (default 1)");
  publish->add_flag("--print-body", *print_body, "print the request body the benchmark sends, and exit");

  auto lat = std::make_shared<LatencyBenchOptions>();
  auto* latency = bench->add_subcommand("latency", "Publish -> long-poll read latency");
  server_options(latency, lat->server, &state->as_json);
  latency->add_option("--samples", lat->samples, "measured publishes (default 2000)");
  latency->add_option("--data-bytes", lat->data_bytes, "bytes of the event's data string (default 100)");

  auto idle_opts = std::make_shared<BenchServerOptions>();
  auto* idle = bench->add_subcommand("idle", "Resident memory of a freshly started server");
  idle->add_option("--fsync", idle_opts->fsync, "always | interval:MS | never");
  idle->add_flag("--json", state->as_json, "print one JSON object");
  auto rules_opts = std::make_shared<rules::BenchRulesOptions>();
  auto* rules_cmd = bench->add_subcommand(
      "rules", "Pattern matching rate for 1 to 200,000 rules over ~1 KB events");
  rules_cmd->add_option("--rules", rules_opts->rule_counts, "rule counts to measure");
  rules_cmd->add_option("--seconds", rules_opts->match_seconds, "CPU seconds per rule count");
  rules_cmd->add_flag("--json", state->as_json, "print one JSON object");
  auto codec_opts = std::make_shared<std::pair<size_t, size_t>>(1000000, 100);
  auto* codec_cmd = bench->add_subcommand("codec", "CloudEvents batch parse and validate rate");
  codec_cmd->add_option("--events", codec_opts->first, "events to parse");
  codec_cmd->add_option("--batch", codec_opts->second, "events per batch");
  codec_cmd->add_flag("--json", state->as_json, "print one JSON object");
  BenchInvoke invoke_bench = add_bench_invoke(bench);
  BenchSub sub_bench = add_bench_sub(bench, &state->as_json);

  BenchCommand cmd;
  cmd.parsed = [bench] { return bench->parsed(); };
  cmd.run = [state, append, publish, pub, print_body, latency, lat, idle, idle_opts, invoke_bench,
             sub_bench, rules_cmd, rules_opts, codec_cmd, codec_opts](
                const std::string&) -> int {
    auto report = [&](Result<json::object> figures) {
      if (!figures) {
        std::cerr << "eddy: " << figures.error().message << "\n";
        return 1;
      }
      print_figures(*figures, state->as_json);
      return 0;
    };
    if (publish->parsed()) {
      if (*print_body) {
        std::cout << bench_publish_body(pub->batch, pub->data_bytes) << "\n";
        return 0;
      }
      return report(bench_publish(*pub));
    }
    if (latency->parsed()) return report(bench_latency(*lat));
    if (idle->parsed()) return report(bench_idle(*idle_opts));
    if (invoke_bench.parsed()) return invoke_bench.run();
    if (rules_cmd->parsed()) return report(rules::bench_rules(*rules_opts));
    if (codec_cmd->parsed()) return report(events::bench_codec(codec_opts->first, codec_opts->second));
    if (sub_bench.parsed()) return sub_bench.run();
    if (append->parsed()) {
      auto d = log::Durability::parse(state->fsync);
      if (!d) {
        std::cerr << "eddy: " << d.error().message << "\n";
        return 1;
      }
      state->append.durability = *d;
      TempDir dir;
      print_figures(log::bench_append(dir.path, state->append), state->as_json);
      return 0;
    }
    return 1;
  };
  return cmd;
}

}  // namespace eddy::cli
