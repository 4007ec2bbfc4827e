// The runtime clients eddy starts for nodejs and python functions (runtimes/node/runtime.js,
// runtimes/python/runtime.py), compiled into the binary so that `eddy` alone is enough. They
// are passed to the interpreter on its command line (`node -e`, `python3 -c`), so no file
// has to be readable by the unprivileged function user.
#pragma once

#include <string_view>

namespace eddy::functions {

extern const std::string_view kNodeRuntimeSource;
extern const std::string_view kPythonRuntimeSource;

}  // namespace eddy::functions
