#include "functions/cgroup.h"

#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace eddy::functions {
namespace fs = std::filesystem;

namespace {

bool write_file(const std::string& path, std::string_view value) {
  std::ofstream f(path);
  if (!f) return false;
  f << value;
  f.flush();
  return static_cast<bool>(f);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The value after `key ` in a "key value" per line file, or -1.
int64_t keyed_value(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string k;
  int64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return -1;
}

// Our cgroup path for a v1 controller ("memory") or v2 (""), from /proc/self/cgroup.
std::string self_path(std::string_view controller) {
  std::ifstream f("/proc/self/cgroup");
  std::string line;
  while (std::getline(f, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string_view ctrls(line.data() + a + 1, b - a - 1);
    bool match = controller.empty() ? (line.compare(0, a, "0") == 0 && ctrls.empty())
                                    : (ctrls == controller ||
                                       ctrls.find(std::string(controller) + ",") == 0 ||
                                       ctrls.ends_with("," + std::string(controller)));
    if (match) return line.substr(b + 1);
  }
  return {};
}

// Creates `base` with a small probe group inside to prove limits can be set.
bool usable(const std::string& base, bool v2) {
  std::error_code ec;
  fs::create_directories(base, ec);
  if (ec) return false;
  std::string probe = base + "/probe";
  fs::create_directory(probe, ec);
  bool ok = !ec && write_file(probe + (v2 ? "/memory.max" : "/memory.limit_in_bytes"),
                              "67108864");
  ::rmdir(probe.c_str());
  return ok;
}

// Removes the groups of eddy servers that died without cleaning up (kill -9): `eddy-<pid>`
// directories whose pid is gone. rmdir only removes empty groups, so a live one is safe.
void sweep_stale(const std::string& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("eddy-") || !entry.is_directory()) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(name.c_str() + 5, nullptr, 10));
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code ec2;
    for (const auto& child : fs::directory_iterator(entry.path(), ec2)) {
      if (child.is_directory()) ::rmdir(child.path().c_str());
    }
    ::rmdir(entry.path().c_str());
  }
}

}  // namespace

std::unique_ptr<MemoryCgroups> MemoryCgroups::detect(const std::string& root) {
  std::string group = fmt::format("eddy-{}", ::getpid());
  // cgroup v2: the unified hierarchy at the root, or at root/unified in hybrid mode.
  for (std::string mount : {root, root + "/unified"}) {
    if (!fs::exists(mount + "/cgroup.controllers")) continue;
    std::string self = self_path("");
    std::string parent = mount + (self == "/" ? "" : self);
    if (read_file(parent + "/cgroup.controllers").find("memory") == std::string::npos) continue;
    // Controllers reach children only through subtree_control, which a group holding
    // processes (eddy itself) may not enable: put eddy's group beside it only if allowed.
    sweep_stale(parent);
    std::string base = parent + "/" + group;
    std::error_code ec;
    fs::create_directories(base, ec);
    if (ec || !write_file(base + "/cgroup.subtree_control", "+memory") || !usable(base, true)) {
      ::rmdir(base.c_str());
      continue;
    }
    return std::unique_ptr<MemoryCgroups>(new MemoryCgroups(base, true));
  }
  // cgroup v1: the memory controller's own hierarchy.
  std::string mount = root + "/memory";
  if (fs::exists(mount + "/memory.limit_in_bytes")) {
    std::string self = self_path("memory");
    std::string parent = mount + (self == "/" ? "" : self);
    if (!fs::exists(parent)) parent = mount;  // a namespaced view shows our group as root
    sweep_stale(parent);
    std::string base = parent + "/" + group;
    if (usable(base, false)) return std::unique_ptr<MemoryCgroups>(new MemoryCgroups(base, false));
    ::rmdir(base.c_str());
  }
  return nullptr;
}

MemoryCgroups::~MemoryCgroups() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base_, ec)) {
    if (entry.is_directory()) ::rmdir(entry.path().c_str());
  }
  ::rmdir(base_.c_str());
}

Result<std::string> MemoryCgroups::create(std::string_view name, int64_t limit_bytes) {
  std::string d = dir(name);
  if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(Errc::io_error, fmt::format("cannot create cgroup {}: {}", d, std::strerror(errno)));
  }
  if (!v2_) write_file(d + "/memory.move_charge_at_immigrate", "3");
  if (limit_bytes > 0) {
    if (auto s = set_limit(name, limit_bytes); !s) {
      ::rmdir(d.c_str());
      return std::move(s).error();
    }
  }
  return d + "/cgroup.procs";
}

Status MemoryCgroups::set_limit(std::string_view name, int64_t limit_bytes) {
  std::string d = dir(name);
  std::string limit = std::to_string(limit_bytes);
  bool ok;
  if (v2_) {
    ok = write_file(d + "/memory.max", limit);
    write_file(d + "/memory.swap.max", "0");
  } else {
    ok = write_file(d + "/memory.limit_in_bytes", limit);
    write_file(d + "/memory.memsw.limit_in_bytes", limit);  // absent without swap accounting
  }
  if (!ok) {
    return make_error(Errc::io_error, fmt::format("cannot set the memory limit of cgroup {}", d));
  }
  return {};
}

Status MemoryCgroups::attach(std::string_view name, pid_t pid) {
  if (!write_file(dir(name) + "/cgroup.procs", std::to_string(pid))) {
    return make_error(Errc::io_error, fmt::format("cannot move process {} into cgroup {}", pid, dir(name)));
  }
  return {};
}

bool MemoryCgroups::oom_killed(std::string_view name) const {
  std::string text = read_file(dir(name) + (v2_ ? "/memory.events" : "/memory.oom_control"));
  return keyed_value(text, "oom_kill") > 0;
}

int64_t MemoryCgroups::peak_kb(std::string_view name) const {
  std::string text = read_file(dir(name) + (v2_ ? "/memory.peak" : "/memory.max_usage_in_bytes"));
  if (text.empty()) return 0;
  return std::strtoll(text.c_str(), nullptr, 10) / 1024;
}

void MemoryCgroups::remove(std::string_view name) {
  std::string d = dir(name);
  if (::rmdir(d.c_str()) != 0 && errno == EBUSY) {
    // The last process can take a moment to leave after it was reaped.
    for (int i = 0; i < 50 && ::rmdir(d.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(1000);
  }
}

}  // namespace eddy::functions
