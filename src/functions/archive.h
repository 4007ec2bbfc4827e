// Function code archives: safe unpacking of an uploaded zip or tar(.gz) into a directory,
// and packing a directory into a tar.gz (the CLI uploads directories that way).
//
// Unpacking refuses anything that could write outside the target or surprise the server:
// absolute paths, `..` components, links whose target leaves the tree, device files and
// fifos; and it stops at the limits (entries, total unpacked bytes). On error the partly
// written target is removed.
//
// Threading: plain functions; blocking file I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::functions {

struct UnpackLimits {
  uint64_t max_total_bytes = 250ull << 20;  // Lambda's unzipped size limit
  uint64_t max_entries = 100000;
};

struct UnpackStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// Unpacks `archive` (zip, tar, tar.gz; detected from its bytes) into `target`, which must
// not exist. Files keep their executable bit; everything is readable by all users (instances
// run as an unprivileged user). Errors: invalid_argument for a bad or unsafe archive,
// too_large past a limit, io_error when the disk refuses.
Result<UnpackStats> unpack_archive(std::string_view archive, const std::filesystem::path& target,
                                   const UnpackLimits& limits = {});

// A tar.gz of the directory's regular files, directories and symlinks, paths relative to it.
Result<std::string> pack_directory(const std::filesystem::path& dir);

}  // namespace eddy::functions
