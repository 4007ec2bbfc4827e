// `eddy sub create|list|get|delete|pull|ack|nack|seek|redrive`: subscriptions from the
// command line, as clients of /v1/subscriptions.
#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}

namespace eddy::cli {

// Adds the `sub` subcommand and its verbs to `app`.
Command add_sub_command(CLI::App& app);

}  // namespace eddy::cli
