#include "cli/bench.h"

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "log/log_bench.h"

namespace eddy::cli {
namespace json = boost::json;

namespace {

// Prints figures as JSON or as an aligned two-column table.
void print_figures(const json::object& figures, bool as_json) {
  if (as_json) {
    std::cout << json::serialize(figures) << "\n";
    return;
  }
  for (const auto& kv : figures) {
    std::cout << fmt::format("{:<28} {}\n", std::string_view(kv.key()), json::serialize(kv.value()));
  }
}

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

}  // namespace

BenchCommand add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Run a benchmark and print its figures");
  bench->require_subcommand(1);
  auto state = std::make_shared<struct {
    bool as_json = false;
    log::BenchAppendOptions append;
    std::string fsync = "never";
  }>();
  bench->add_flag("--json", state->as_json, "print one JSON object");

  auto* append = bench->add_subcommand("append", "In-process log append rate");
  append->add_option("--event-bytes", state->append.event_bytes, "payload size");
  append->add_option("--batch", state->append.batch, "records per append call");
  append->add_option("--events", state->append.events, "events to append");
  append->add_option("--fsync", state->fsync, "always | interval:MS | never");

  BenchCommand cmd;
  cmd.parsed = [bench] { return bench->parsed(); };
  cmd.run = [state, append](const std::string&) -> int {
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
