// `eddy function deploy|invoke|logs|list|get|delete|invocations` and `eddy usage`: functions
// from the command line, as clients of /v1/functions and /v1/usage.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace eddy::cli {

struct FunctionCommand {
  std::function<bool()> parsed;
  std::function<int(const std::string& endpoint)> run;
};

// Adds the `function` and `usage` subcommands to `app`.
FunctionCommand add_function_command(CLI::App& app);

}  // namespace eddy::cli
