// A CLI verb added to the CLI11 app by its own file: whether it was chosen, and how to run
// it against the server at `endpoint`.
#pragma once

#include <functional>
#include <string>

namespace eddy::cli {

struct Command {
  std::function<bool()> parsed;
  std::function<int(const std::string& endpoint)> run;
};

}  // namespace eddy::cli
