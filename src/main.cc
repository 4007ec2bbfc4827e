// eddy: event-driven serverless in one binary. The composition root is the CLI's `serve`
// verb (src/cli), which builds the App (src/app) from flags.
#include "cli/cli.h"

int main(int argc, char** argv) { return eddy::cli::run(argc, argv); }
