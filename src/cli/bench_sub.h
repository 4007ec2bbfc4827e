// `eddy bench pull | push | pull-latency`: subscription delivery figures of a real eddy
// server over loopback HTTP. Unless --endpoint is given, each benchmark starts its own
// `eddy serve` child (this binary) on 127.0.0.1:0 with a temporary data directory and
// stops it with SIGTERM at the end. Each run uses fresh topic and subscription names and is
// bounded in count and in time.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace eddy::cli {

struct BenchSub {
  std::function<bool()> parsed;
  std::function<int()> run;
};

// Adds `pull`, `push` and `pull-latency` under the `bench` subcommand. `as_json` is
// bench's --json flag.
BenchSub add_bench_sub(CLI::App* bench, bool* as_json);

}  // namespace eddy::cli
