// `eddy sub create|list|get|delete|pull|ack|nack|seek|redrive`: subscriptions from the
// command line, as clients of /v1/subscriptions.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace eddy::cli {

struct SubCommand {
  std::function<bool()> parsed;
  std::function<int(const std::string& endpoint)> run;
};

// Adds the `sub` subcommand and its verbs to `app`.
SubCommand add_sub_command(CLI::App& app);

}  // namespace eddy::cli
