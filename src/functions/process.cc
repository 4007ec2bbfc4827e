#include "functions/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace eddy::functions {

namespace {

// Writes all of `s` to `fd` using only async-signal-safe calls (for the child after fork).
bool write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The child's side of a failed setup step: report errno and the step to the parent.
[[noreturn]] void child_fail(int report_fd, int step) {
  int msg[2] = {step, errno};
  write_all(report_fd, reinterpret_cast<const char*>(msg), sizeof msg);
  ::_exit(127);
}

constexpr const char* kSteps[] = {"dup2",   "setsid", "cgroup", "rlimit", "setgroups",
                                  "setgid", "setuid", "chdir",  "exec"};

}  // namespace

Result<Child> PosixLauncher::spawn(const SpawnSpec& spec) {
  if (spec.argv.empty()) return make_error(Errc::invalid_argument, "no program to start");
  // Everything the child needs is prepared before fork: after it, only async-signal-safe
  // calls are allowed (the server is multi-threaded).
  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2], err[2], report[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return make_error(Errc::io_error, fmt::format("pipe: {}", std::strerror(errno)));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return make_error(Errc::io_error, fmt::format("pipe: {}", std::strerror(errno)));
  }
  if (::pipe2(report, O_CLOEXEC) != 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return make_error(Errc::io_error, fmt::format("pipe: {}", std::strerror(errno)));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child.
    if (::dup2(devnull, 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) {
      child_fail(report[1], 0);
    }
    if (::setsid() < 0) child_fail(report[1], 1);
    // Descriptors the server opened without O_CLOEXEC (sockets) must not leak into
    // functions: mark every one past stderr close-on-exec.
    ::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */);
    if (spec.inherit_fd >= 0) {
      // Keep the report pipe clear of descriptor 3; dup2 leaves a descriptor that is already
      // 3 unchanged (and close-on-exec).
      if (report[1] == 3) report[1] = ::fcntl(3, F_DUPFD_CLOEXEC, 4);
      bool ok =
          spec.inherit_fd == 3 ? ::fcntl(3, F_SETFD, 0) == 0 : ::dup2(spec.inherit_fd, 3) == 3;
      if (report[1] < 0 || !ok) child_fail(report[1], 0);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!spec.cgroup_procs.empty()) {
      int fd = ::open(spec.cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || !write_all(fd, "0\n", 2)) child_fail(report[1], 2);
      ::close(fd);
    }
    if (spec.rlimit_data_bytes > 0) {
      struct rlimit rl{spec.rlimit_data_bytes, spec.rlimit_data_bytes};
      if (::setrlimit(RLIMIT_DATA, &rl) != 0) child_fail(report[1], 3);
    }
    if (spec.gid) {
      if (::setgroups(0, nullptr) != 0) child_fail(report[1], 4);
      if (::setgid(*spec.gid) != 0) child_fail(report[1], 5);
    }
    if (spec.uid && ::setuid(*spec.uid) != 0) child_fail(report[1], 6);
    // Die with the server, however it dies (set after the user switch, which clears it).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) child_fail(report[1], 7);
    ::execve(argv[0], argv.data(), envp.data());
    child_fail(report[1], 8);
  }
  int fork_errno = errno;
  for (int fd : {out[1], err[1], report[1], devnull}) ::close(fd);
  if (pid < 0) {
    for (int fd : {out[0], err[0], report[0]}) ::close(fd);
    return make_error(Errc::io_error, fmt::format("fork: {}", std::strerror(fork_errno)));
  }
  // The report pipe closes on exec (CLOEXEC): EOF means success, 8 bytes a failure.
  int msg[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == sizeof msg) {
    ::waitpid(pid, nullptr, 0);
    ::close(out[0]);
    ::close(err[0]);
    int step = msg[0] >= 0 && msg[0] < 9 ? msg[0] : 8;
    return make_error(Errc::io_error,
                      fmt::format("cannot start {}: {} failed: {}", spec.argv[0], kSteps[step],
                                  std::strerror(msg[1])));
  }
  Child c;
  c.pid = pid;
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  c.stdout_fd = out[0];
  c.stderr_fd = err[0];
  for (int fd : {c.stdout_fd, c.stderr_fd}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (c.pidfd < 0) {
    int e = errno;
    kill_process_group(pid);
    ::waitpid(pid, nullptr, 0);
    ::close(c.stdout_fd);
    ::close(c.stderr_fd);
    return make_error(Errc::io_error, fmt::format("pidfd_open: {}", std::strerror(e)));
  }
  return c;
}

void kill_process_group(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

ExitInfo reap(pid_t pid) {
  ExitInfo info;
  int status = 0;
  struct rusage ru{};
  pid_t r;
  do {
    r = ::wait4(pid, &status, 0, &ru);
  } while (r < 0 && errno == EINTR);
  if (r != pid) return info;
  if (WIFEXITED(status)) info.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) info.signal = WTERMSIG(status);
  info.max_rss_kb = ru.ru_maxrss;
  return info;
}

int64_t peak_rss_kb(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* p = std::strstr(buf, "VmHWM:");
  if (!p) return 0;
  return std::strtoll(p + 6, nullptr, 10);
}

}  // namespace eddy::functions
