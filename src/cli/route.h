// `eddy route put|list|get|delete`: user HTTP routes from the command line, as a client of
// /v1/routes.
#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}

namespace eddy::cli {

Command add_route_command(CLI::App& app);

}  // namespace eddy::cli
