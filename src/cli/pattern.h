// `eddy pattern test`: tries an event pattern on an event through the server.
#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}

namespace eddy::cli {

Command add_pattern_command(CLI::App& app);

}  // namespace eddy::cli
