// `eddy bench NAME`: benchmarks that print figures (a readable table, or one JSON object
// with --json: figures named *_per_sec, p50_us, p99_us, rss_mb).
#pragma once

#include <boost/json/object.hpp>

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

// Prints a benchmark's figures as one JSON object or as an aligned two-column table.
void print_figures(const boost::json::object& figures, bool as_json);

// Adds the `bench` subcommand and its benchmarks to `app`.
BenchCommand add_bench_command(CLI::App& app);

}  // namespace eddy::cli
