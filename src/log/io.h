// Thin POSIX helpers for the log: every failure becomes an io_error that names the file and
// the OS reason. Internal to src/log/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/error.h"

namespace eddy::log::io {

// An error for a failed system call on `path`, with strerror(errno_value).
Error os_error(std::string_view what, const std::filesystem::path& path, int errno_value);

// Owns a file descriptor; closes it on destruction.
class File {
 public:
  File() = default;
  explicit File(int fd) : fd_(fd) {}
  ~File();
  File(File&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<File> open_file(const std::filesystem::path& path, int flags, int mode = 0644);
Result<uint64_t> file_size(int fd, const std::filesystem::path& path);
// Reads exactly n bytes at `pos` (fewer only at end of file: returns the count read).
Result<size_t> pread_full(int fd, char* buf, size_t n, uint64_t pos,
                          const std::filesystem::path& path);
// Writes all n bytes at `pos`.
Status pwrite_full(int fd, const char* buf, size_t n, uint64_t pos,
                   const std::filesystem::path& path);
Status fdatasync_file(int fd, const std::filesystem::path& path);
// Fsyncs a directory so that entries created, renamed or removed in it are durable.
Status fsync_dir(const std::filesystem::path& dir);

}  // namespace eddy::log::io
