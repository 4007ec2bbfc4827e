// Process spawning behind a seam: the pool starts instance processes through a Launcher so
// tests can substitute their own. The real one forks and execs with a clean environment,
// stdout/stderr on pipes, optionally one more inherited descriptor (as fd 3), its own
// process group (so a kill takes the whole tree), optional resource limits, an optional cgroup to
// join before exec, and an optional unprivileged user. Its children get SIGKILL when the server
// dies (PR_SET_PDEATHSIG).
//
// Threading: Launcher implementations are thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace eddy::functions {

struct SpawnSpec {
  std::vector<std::string> argv;   // argv[0] is the program (an absolute path)
  std::vector<std::string> env;    // "NAME=value"; the whole environment
  std::string cwd;                 // "" keeps the launcher's
  std::optional<uid_t> uid;        // switch to this user (and gid) before exec; needs root
  std::optional<gid_t> gid;
  std::string cgroup_procs;        // a cgroup.procs file to join before exec, or ""
  uint64_t rlimit_data_bytes = 0;  // RLIMIT_DATA, 0 = unlimited (the fallback memory cap)
  int inherit_fd = -1;             // given to the process as its descriptor 3, or -1
};

// A started process. The caller owns the descriptors (close them) and the process (kill
// and reap it).
struct Child {
  pid_t pid = -1;
  int pidfd = -1;       // readable once the process has exited
  int stdout_fd = -1;   // the read ends of its stdout and stderr (non-blocking)
  int stderr_fd = -1;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts the process. Fails (io_error, naming the program and errno) when fork or exec
  // fails; an exec failure is reported here, not as an exit.
  virtual Result<Child> spawn(const SpawnSpec& spec) = 0;
};

// fork + exec as described above.
class PosixLauncher final : public Launcher {
 public:
  Result<Child> spawn(const SpawnSpec& spec) override;
};

// How a process ended, from wait4().
struct ExitInfo {
  int exit_code = -1;  // when it exited normally
  int signal = 0;      // when killed by a signal
  int64_t max_rss_kb = 0;
};

// Kills the process group of `pid` with SIGKILL (safe to repeat).
void kill_process_group(pid_t pid);
// Reaps an exited child (blocking briefly if it has not quite exited yet).
ExitInfo reap(pid_t pid);
// VmHWM (peak resident set) of a live process in kB, 0 if unknown.
int64_t peak_rss_kb(pid_t pid);

}  // namespace eddy::functions
