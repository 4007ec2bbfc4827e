// `eddy function deploy|invoke|logs|list|get|delete|invocations` and `eddy usage`: functions
// from the command line, as clients of /v1/functions and /v1/usage.
#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}

namespace eddy::cli {

// Adds the `function` and `usage` subcommands to `app`.
Command add_function_command(CLI::App& app);

}  // namespace eddy::cli
