// `eddy bench NAME`: benchmarks that print figures (a readable table, or one JSON object
// with --json: figures named *_per_sec, p50_us, p99_us, rss_mb).
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace eddy::cli {

struct BenchCommand {
  std::function<bool()> parsed;
  std::function<int(const std::string& endpoint)> run;
};

// Adds the `bench` subcommand and its benchmarks to `app`.
BenchCommand add_bench_command(CLI::App& app);

}  // namespace eddy::cli
