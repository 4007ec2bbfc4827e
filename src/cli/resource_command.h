// `eddy NOUN put|list|get|delete` for a named resource of the REST API (routes, webhooks):
// the four verbs, and running the chosen one against the server.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>

#include "cli/command.h"
#include "common/error.h"

namespace CLI {
class App;
}

namespace eddy::cli {

struct ResourceCommand {
  CLI::App* put;    // the caller adds the flags that build the body
  Command command;  // runs the chosen verb
};

// Adds the verbs under `app` as `noun`, for the resource at `collection`/NAME (e.g.
// /v1/routes). `name` receives the NAME argument; `put_body` builds the PUT body from the
// caller's flags.
ResourceCommand add_resource_command(CLI::App& app, const std::string& noun,
                                     const std::string& description, const std::string& collection,
                                     std::shared_ptr<std::string> name,
                                     std::function<Result<boost::json::object>()> put_body);

}  // namespace eddy::cli
