// `eddy webhook put|list|get|delete`: verified webhooks from the command line, as a client
// of /v1/webhooks.
#pragma once

#include "cli/command.h"

namespace CLI {
class App;
}

namespace eddy::cli {

Command add_webhook_command(CLI::App& app);

}  // namespace eddy::cli
