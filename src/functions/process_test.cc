#include "functions/process.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace eddy::functions {
namespace {

// Reads until end of file (the child's end closes when it exits).
std::string read_all(int fd) {
  std::string out;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

TEST(PosixLauncherTest, InheritedDescriptorIsThreeAndNothingElseLeaks) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  // A descriptor of ours that is not meant for the child.
  int stray[2];
  ASSERT_EQ(::pipe(stray), 0);
  SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c",
               "echo from-3 >&3; (echo x >&" + std::to_string(stray[1]) +
                   ") 2>/dev/null && echo leaked >&3; exit 0"};
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.inherit_fd = fds[1];
  PosixLauncher launcher;
  auto child = launcher.spawn(spec);
  ASSERT_TRUE(child) << child.error().message;
  for (int fd : {fds[1], stray[0], stray[1]}) ::close(fd);
  EXPECT_EQ(read_all(fds[0]), "from-3\n");
  auto exit = reap(child->pid);
  EXPECT_EQ(exit.exit_code, 0);
  for (int fd : {fds[0], child->pidfd, child->stdout_fd, child->stderr_fd}) ::close(fd);
}

}  // namespace
}  // namespace eddy::functions
