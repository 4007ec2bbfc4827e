// `eddy bench invoke`: function cold starts (p50/p99 per runtime) and warm sync invoke
// throughput and latency for a Node and a Python hello handler, measured side by side with
// a bare node http server and, when installed, serverless-offline. Starts its own `eddy
// serve` child on 127.0.0.1:0; every phase is bounded in count.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace eddy::cli {

struct BenchInvoke {
  std::function<bool()> parsed;
  std::function<int()> run;
};

// Adds `invoke` under the `bench` subcommand.
BenchInvoke add_bench_invoke(CLI::App* bench);

}  // namespace eddy::cli
