#include "functions/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

namespace eddy::functions {
namespace fs = std::filesystem;

namespace {

using ReadArchive = std::unique_ptr<struct archive, decltype(&archive_read_free)>;
using WriteArchive = std::unique_ptr<struct archive, decltype(&archive_write_free)>;

Error bad(std::string message) { return make_error(Errc::invalid_argument, std::move(message)); }

// A relative path with no `..`, `.`-only or empty components leading out; returns the
// normalized form or nullopt.
std::optional<fs::path> safe_relative(std::string_view name) {
  if (name.empty() || name.front() == '/') return std::nullopt;
  fs::path out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (part == "..") return std::nullopt;
    if (!part.empty() && part != ".") out /= std::string(part);
    start = end + 1;
  }
  return out;
}

// True if a symlink at `link` (relative to the root) with target `target` stays inside.
bool link_stays_inside(const fs::path& link, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  int depth = 0;
  for (const auto& p : link.parent_path()) {
    if (p != ".") ++depth;
  }
  size_t start = 0;
  while (start <= target.size()) {
    size_t end = target.find('/', start);
    if (end == std::string_view::npos) end = target.size();
    std::string_view part = target.substr(start, end - start);
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return true;
}

Status write_file(const fs::path& path, struct archive* a, mode_t mode, uint64_t& total,
                  const UnpackLimits& limits) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return make_error(Errc::io_error,
                      fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  char buf[64 * 1024];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      ::close(fd);
      return bad(fmt::format("the archive is damaged: {}", archive_error_string(a)));
    }
    total += static_cast<uint64_t>(n);
    if (total > limits.max_total_bytes) {
      ::close(fd);
      return make_error(Errc::too_large,
                        fmt::format("the code unpacks to more than {} bytes", limits.max_total_bytes));
    }
    const char* p = buf;
    while (n > 0) {
      ssize_t w = ::write(fd, p, static_cast<size_t>(n));
      if (w < 0) {
        int e = errno;
        ::close(fd);
        return make_error(Errc::io_error,
                          fmt::format("cannot write {}: {}", path.string(), std::strerror(e)));
      }
      p += w;
      n -= w;
    }
  }
  ::fchmod(fd, mode);  // the umask must not take the read bits away
  ::close(fd);
  return {};
}

Result<UnpackStats> unpack_into(std::string_view data, const fs::path& target,
                                const UnpackLimits& limits) {
  ReadArchive a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    return bad(fmt::format("the code is not a zip or tar(.gz) archive: {}",
                           archive_error_string(a.get())));
  }
  UnpackStats stats;
  uint64_t total = 0;
  struct archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return bad(fmt::format("the code is not a valid zip or tar(.gz) archive: {}",
                             archive_error_string(a.get())));
    }
    if (++stats.files > limits.max_entries) {
      return make_error(Errc::too_large,
                        fmt::format("the archive has more than {} entries", limits.max_entries));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    auto rel = safe_relative(name);
    if (!rel) {
      return bad(fmt::format("unsafe path in archive: '{}' (absolute or with ..)", name));
    }
    if (rel->empty()) continue;  // "./"
    fs::path out = target / *rel;
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    if (ec) {
      return make_error(Errc::io_error, fmt::format("cannot create {}: {}",
                                                    out.parent_path().string(), ec.message()));
    }
    // A symlink created earlier must not redirect later entries outside the tree.
    for (fs::path p = out.parent_path(); p != target && p.has_relative_path(); p = p.parent_path()) {
      if (fs::is_symlink(p)) return bad(fmt::format("archive entry '{}' is below a symlink", name));
    }
    if (const char* hl = archive_entry_hardlink(entry)) {
      auto src = safe_relative(hl);
      if (!src) return bad(fmt::format("unsafe hard link in archive: '{}' -> '{}'", name, hl));
      fs::copy_file(target / *src, out, ec);
      if (ec) return bad(fmt::format("hard link '{}' -> '{}': {}", name, hl, ec.message()));
      continue;
    }
    mode_t mode = archive_entry_mode(entry);
    switch (mode & S_IFMT) {
      case S_IFDIR:
        fs::create_directories(out, ec);
        if (ec) return make_error(Errc::io_error, fmt::format("cannot create {}: {}", out.string(), ec.message()));
        ::chmod(out.c_str(), 0755);
        break;
      case S_IFREG:
      case 0: {  // zips made on some systems carry no file type: a regular file
        mode_t perm = (mode & 0111) ? 0755 : 0644;
        if (auto s = write_file(out, a.get(), perm, total, limits); !s) return std::move(s).error();
        stats.bytes = total;
        break;
      }
      case S_IFLNK: {
        const char* t = archive_entry_symlink(entry);
        if (!t || !link_stays_inside(*rel, t)) {
          return bad(fmt::format("symlink '{}' -> '{}' points outside the code", name, t ? t : ""));
        }
        fs::create_symlink(t, out, ec);
        if (ec) return bad(fmt::format("symlink '{}': {}", name, ec.message()));
        break;
      }
      default:
        return bad(fmt::format("archive entry '{}' is a device, fifo or socket", name));
    }
  }
  stats.bytes = total;
  return stats;
}

}  // namespace

Result<UnpackStats> unpack_archive(std::string_view data, const fs::path& target,
                                   const UnpackLimits& limits) {
  std::error_code ec;
  if (fs::exists(target, ec)) {
    return make_error(Errc::conflict, fmt::format("{} exists already", target.string()));
  }
  fs::create_directories(target, ec);
  if (ec) {
    return make_error(Errc::io_error,
                      fmt::format("cannot create {}: {}", target.string(), ec.message()));
  }
  ::chmod(target.c_str(), 0755);
  auto r = unpack_into(data, target, limits);
  if (!r) fs::remove_all(target, ec);
  return r;
}

Result<std::string> pack_directory(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return bad(fmt::format("{} is not a directory", dir.string()));
  }
  std::string out;
  WriteArchive a(archive_write_new(), archive_write_free);
  archive_write_add_filter_gzip(a.get());
  archive_write_set_format_pax_restricted(a.get());
  auto open_cb = [](struct archive*, void*) -> int { return ARCHIVE_OK; };
  auto write_cb = [](struct archive*, void* ud, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  auto close_cb = [](struct archive*, void*) -> int { return ARCHIVE_OK; };
  archive_write_open(a.get(), &out, open_cb, write_cb, close_cb);
  std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                              archive_entry_free);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const auto& p = it->path();
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    std::string rel = fs::relative(p, dir).generic_string();
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), rel.c_str());
    archive_entry_copy_stat(entry.get(), &st);
    if (S_ISLNK(st.st_mode)) {
      auto target = fs::read_symlink(p, ec);
      archive_entry_set_symlink(entry.get(), target.c_str());
      archive_entry_set_size(entry.get(), 0);
    } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      continue;
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return make_error(Errc::io_error, fmt::format("cannot pack {}: {}", rel, archive_error_string(a.get())));
    }
    if (S_ISREG(st.st_mode)) {
      std::ifstream f(p, std::ios::binary);
      std::vector<char> buf(64 * 1024);
      while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0) {
        archive_write_data(a.get(), buf.data(), static_cast<size_t>(f.gcount()));
      }
    }
  }
  if (ec) return make_error(Errc::io_error, fmt::format("cannot read {}: {}", dir.string(), ec.message()));
  archive_write_close(a.get());
  return out;
}

}  // namespace eddy::functions
