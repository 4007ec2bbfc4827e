// Memory caps for instance processes through cgroups: one group per instance under a
// group of eddy's own (`eddy-<pid>`, below the cgroup eddy runs in). detect() finds a
// writable memory controller, cgroup v2 first, then v1; when neither is writable it returns
// nullptr and the caller falls back to RLIMIT_DATA.
//
// Threading: thread-safe (every call is a few file operations on distinct paths).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::functions {

class MemoryCgroups {
 public:
  // A usable controller, or nullptr. `root` overrides /sys/fs/cgroup (tests).
  static std::unique_ptr<MemoryCgroups> detect(const std::string& root = "/sys/fs/cgroup");
  ~MemoryCgroups();  // removes eddy's group (after its instances are gone)

  // "cgroup v1" or "cgroup v2".
  std::string_view kind() const { return v2_ ? "cgroup v2" : "cgroup v1"; }

  // Creates the group `name` capped at `limit_bytes` (no swap; <= 0: no cap yet). Returns
  // the path of its cgroup.procs file: a process joins by writing its pid there.
  Result<std::string> create(std::string_view name, int64_t limit_bytes);
  // Caps an existing group (a pre-started process's, when a function adopts it). Fails if
  // the group already uses more.
  Status set_limit(std::string_view name, int64_t limit_bytes);
  // Moves a running process into the group (pre-started processes), charges included.
  Status attach(std::string_view name, pid_t pid);
  // True when the kernel's OOM killer killed a process of the group.
  bool oom_killed(std::string_view name) const;
  // Peak memory use of the group in kB (0 when unknown).
  int64_t peak_kb(std::string_view name) const;
  // Removes the group; its processes must have exited.
  void remove(std::string_view name);

 private:
  MemoryCgroups(std::string base, bool v2) : base_(std::move(base)), v2_(v2) {}
  std::string dir(std::string_view name) const { return base_ + "/" + std::string(name); }

  std::string base_;  // eddy's own group
  bool v2_;
};

}  // namespace eddy::functions
