#include "log/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace eddy::log::io {

Error os_error(std::string_view what, const std::filesystem::path& path, int errno_value) {
  return make_error(Errc::io_error, fmt::format("{} {}: {} (check the disk and permissions of "
                                                "the data directory)",
                                                what, path.string(), std::strerror(errno_value)));
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Result<File> open_file(const std::filesystem::path& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return os_error("cannot open", path, errno);
  return File(fd);
}

Result<uint64_t> file_size(int fd, const std::filesystem::path& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return os_error("cannot stat", path, errno);
  return static_cast<uint64_t>(st.st_size);
}

Result<size_t> pread_full(int fd, char* buf, size_t n, uint64_t pos,
                          const std::filesystem::path& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(pos + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot read", path, errno);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

Status pwrite_full(int fd, const char* buf, size_t n, uint64_t pos,
                   const std::filesystem::path& path) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, buf + done, n - done, static_cast<off_t>(pos + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return os_error("cannot write", path, errno);
    }
    done += static_cast<size_t>(r);
  }
  return {};
}

Status fdatasync_file(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) return os_error("cannot fsync", path, errno);
  return {};
}

Status fsync_dir(const std::filesystem::path& dir) {
  auto f = open_file(dir, O_RDONLY | O_DIRECTORY);
  if (!f) return std::move(f).error();
  if (::fsync(f->fd()) != 0) return os_error("cannot fsync directory", dir, errno);
  return {};
}

}  // namespace eddy::log::io
