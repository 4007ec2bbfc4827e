// The `eddy` command line: `serve` runs the server; every other verb is a client of the
// server's REST API (`--endpoint` / EDDY_ENDPOINT, default http://127.0.0.1:8400).
#pragma once

namespace eddy::cli {

// Parses argv and runs the chosen verb; returns the process exit code.
int run(int argc, char** argv);

}  // namespace eddy::cli
