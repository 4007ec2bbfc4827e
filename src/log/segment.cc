#include "log/segment.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace eddy::log {

namespace fs = std::filesystem;
using format::BatchCheck;
using format::BatchHeader;
using format::kBatchHeaderBytes;

namespace {
constexpr size_t kScanChunkBytes = 4u << 20;
}  // namespace

Segment::Segment(fs::path dir, uint64_t base, io::File file, uint32_t index_interval)
    : dir_(std::move(dir)),
      path_(dir_ / format::segment_name(base)),
      base_(base),
      file_(std::move(file)),
      index_interval_(index_interval) {}

Result<std::shared_ptr<Segment>> Segment::create(const fs::path& dir, uint64_t base,
                                                 uint32_t index_interval) {
  auto f = io::open_file(dir / format::segment_name(base), O_RDWR | O_CREAT | O_EXCL);
  if (!f) return std::move(f).error();
  return std::shared_ptr<Segment>(new Segment(dir, base, std::move(*f), index_interval));
}

Result<std::shared_ptr<Segment>> Segment::open_closed(const fs::path& dir, uint64_t base,
                                                      uint64_t next_base, uint32_t index_interval,
                                                      bool sync) {
  fs::path path = dir / format::segment_name(base);
  auto f = io::open_file(path, O_RDONLY);
  if (!f) return std::move(f).error();
  auto file_bytes = io::file_size(f->fd(), path);
  if (!file_bytes) return std::move(file_bytes).error();
  std::shared_ptr<Segment> seg(new Segment(dir, base, std::move(*f), index_interval));
  uint64_t records = next_base - base;
  fs::path index_path = dir / format::index_name(base);
  fs::path time_path = dir / format::time_index_name(base);

  // Trust the index files when they are well formed and agree with the segment.
  auto index_bytes = IndexBytes::read_file(index_path);
  auto time_bytes = IndexBytes::read_file(time_path);
  bool valid = index_bytes.ok() && time_bytes.ok() && (*file_bytes == 0) == (records == 0) &&
               OffsetIndex::valid(*index_bytes, *file_bytes, records) &&
               TimeIndex::valid(*time_bytes, records);
  if (valid && records > 0) {
    // The last indexed batch must be a batch header with the offset the index claims.
    uint64_t pos = 0, rel = 0;
    if (size_t n = index_bytes->size() / format::kOffsetEntryBytes; n > 0) {
      const char* last = index_bytes->data() + (n - 1) * format::kOffsetEntryBytes;
      rel = format::load<uint32_t>(last);
      pos = format::load<uint32_t>(last + 4);
    }
    char hdr[kBatchHeaderBytes];
    auto got = io::pread_full(seg->fd(), hdr, sizeof hdr, pos, path);
    if (!got) return std::move(got).error();
    BatchHeader h = format::decode_header(hdr);
    valid = *got == sizeof hdr && format::check_header(h) == BatchCheck::ok &&
            h.base_offset == base + rel;
  }
  if (valid) {
    auto index_map = IndexBytes::map_file(index_path);
    auto time_map = IndexBytes::map_file(time_path);
    if (index_map && time_map) {
      seg->offset_index_ = OffsetIndex(std::move(*index_map));
      seg->time_index_ = TimeIndex(std::move(*time_map));
      seg->size_ = *file_bytes;
      seg->record_count_ = records;
      if (records > 0) {
        seg->first_time_ms_ = seg->time_index_.at(0).time_ms;
        seg->max_time_ms_ = seg->time_index_.last()->time_ms;
      }
      return seg;
    }
  }

  spdlog::warn("log {}: index files missing or invalid; rebuilding them by scanning",
               path.string());
  auto damage = seg->scan(*file_bytes);
  if (!damage) return std::move(damage).error();
  if (!damage->empty() || seg->end_offset() != next_base) {
    spdlog::warn(
        "log {}: closed segment holds offsets [{}, {}) of the expected [{}, {}){}{}; "
        "the rest is unreadable",
        path.string(), base, seg->end_offset(), base, next_base, damage->empty() ? "" : ": ",
        *damage);
  }
  Status sealed = seg->write_indexes(sync);
  if (sealed) sealed = seg->map_indexes();
  if (!sealed) {
    spdlog::warn("log {}: {}; serving the rebuilt index from memory", path.string(),
                 sealed.error().message);
  }
  return seg;
}

Result<std::shared_ptr<Segment>> Segment::open_active(const fs::path& dir, uint64_t base,
                                                      uint32_t index_interval, bool sync) {
  fs::path path = dir / format::segment_name(base);
  auto f = io::open_file(path, O_RDWR);
  if (!f) return std::move(f).error();
  auto file_bytes = io::file_size(f->fd(), path);
  if (!file_bytes) return std::move(file_bytes).error();
  std::shared_ptr<Segment> seg(new Segment(dir, base, std::move(*f), index_interval));
  auto damage = seg->scan(*file_bytes);
  if (!damage) return std::move(damage).error();
  if (!damage->empty()) {
    spdlog::warn("log {}: {}; truncating the segment from {} to {} bytes ({} valid records)",
                 path.string(), *damage, *file_bytes, seg->size_, seg->record_count_);
    if (auto s = seg->truncate_to(seg->size_); !s) return s.error();
    if (sync) {
      if (auto s = io::fdatasync_file(seg->fd(), path); !s) return s.error();
    }
  }
  // The active segment's indexes live in memory; files left by an interrupted roll go.
  for (const fs::path& p : {dir / format::index_name(base), dir / format::time_index_name(base)}) {
    std::error_code ec;
    fs::remove(p, ec);
    fs::path tmp = p;
    tmp += ".tmp";
    fs::remove(tmp, ec);
  }
  return seg;
}

Result<std::string> Segment::scan(uint64_t file_bytes) {
  std::string buf;
  uint64_t buf_pos = 0;  // file position of buf[0]
  size_t have = 0;       // valid bytes in buf
  // Recovery reads the file once, front to back: ask the kernel to read ahead a chunk while
  // this one is checked (a cold 128 MiB segment scans at disk speed, not request latency).
  ::posix_fadvise(fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
  auto fill = [&](uint64_t pos, size_t need) -> Status {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(std::max(kScanChunkBytes, need), file_bytes - pos));
    if (pos + want < file_bytes) {
      ::posix_fadvise(fd(), static_cast<off_t>(pos + want), kScanChunkBytes, POSIX_FADV_WILLNEED);
    }
    if (buf.size() < want) buf.resize(want);
    auto n = io::pread_full(fd(), buf.data(), want, pos, path_);
    if (!n) return std::move(n).error();
    buf_pos = pos;
    have = *n;
    return {};
  };
  uint64_t pos = 0;
  while (pos < file_bytes) {
    if (pos + kBatchHeaderBytes > buf_pos + have) {
      if (auto s = fill(pos, kBatchHeaderBytes); !s) return s.error();
    }
    size_t off = static_cast<size_t>(pos - buf_pos);
    if (have - off < kBatchHeaderBytes) {
      return fmt::format("truncated batch header at position {}", pos);
    }
    BatchHeader h = format::decode_header(buf.data() + off);
    if (BatchCheck c = format::check_header(h); c != BatchCheck::ok) {
      return fmt::format("{} at position {}", format::batch_check_name(c), pos);
    }
    if (have - off < h.length) {
      if (auto s = fill(pos, h.length); !s) return s.error();
      off = 0;
    }
    BatchCheck c = format::check_batch(buf.data() + off, have - off);
    if (c != BatchCheck::ok) {
      return fmt::format("{} at position {}", format::batch_check_name(c), pos);
    }
    if (h.base_offset != end_offset()) {
      return fmt::format("batch at position {} has offset {} where {} was expected", pos,
                         h.base_offset, end_offset());
    }
    add_batch(h);
    pos += h.length;
  }
  return std::string();
}

void Segment::add_batch(const BatchHeader& h) {
  auto rel = static_cast<uint32_t>(h.base_offset - base_);
  if (record_count_ == 0) {
    first_time_ms_ = h.time_ms;
    time_index_.append({h.time_ms, rel});
  } else if (bytes_since_index_ >= index_interval_) {
    offset_index_.append({rel, static_cast<uint32_t>(size_)});
    if (h.time_ms > time_index_.last()->time_ms) time_index_.append({h.time_ms, rel});
    bytes_since_index_ = 0;
  }
  if (h.time_ms > max_time_ms_) {
    max_time_ms_ = h.time_ms;
    max_time_rel_ = rel;
  }
  bytes_since_index_ += h.length;
  record_count_ += h.record_count;
  size_ += h.length;
}

Status Segment::truncate_to(uint64_t size) {
  if (::ftruncate(fd(), static_cast<off_t>(size)) != 0) {
    return io::os_error("cannot truncate", path_, errno);
  }
  return {};
}

Status Segment::write_indexes(bool sync) {
  if (auto last = time_index_.last(); last && max_time_ms_ > last->time_ms) {
    time_index_.append({max_time_ms_, max_time_rel_});
  }
  if (auto s = write_index_file(dir_ / format::index_name(base_), offset_index_.bytes(), sync);
      !s) {
    return s;
  }
  return write_index_file(dir_ / format::time_index_name(base_), time_index_.bytes(), sync);
}

Status Segment::map_indexes() {
  fs::path index_path = dir_ / format::index_name(base_);
  fs::path time_path = dir_ / format::time_index_name(base_);
  auto index_map = IndexBytes::map_file(index_path);
  if (!index_map) return std::move(index_map).error();
  auto time_map = IndexBytes::map_file(time_path);
  if (!time_map) return std::move(time_map).error();
  offset_index_ = OffsetIndex(std::move(*index_map));
  time_index_ = TimeIndex(std::move(*time_map));
  return {};
}

Status Segment::sync_files() const {
  if (auto s = io::fdatasync_file(fd(), path_); !s) return s;
  for (const fs::path& p :
       {dir_ / format::index_name(base_), dir_ / format::time_index_name(base_)}) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return io::os_error("cannot open", p, errno);
    }
    io::File file(fd);
    if (auto s = io::fdatasync_file(file.fd(), p); !s) return s;
  }
  return {};
}

void Segment::remove_files() const {
  std::error_code ec;
  fs::remove(path_, ec);
  if (ec) spdlog::warn("log {}: cannot delete: {}", path_.string(), ec.message());
  fs::remove(dir_ / format::index_name(base_), ec);
  fs::remove(dir_ / format::time_index_name(base_), ec);
}

uint64_t Segment::position_for(uint64_t offset) const {
  if (offset <= base_) return 0;
  uint64_t rel = std::min<uint64_t>(offset - base_, UINT32_MAX);
  return offset_index_.floor(static_cast<uint32_t>(rel)).pos;
}

uint64_t Segment::time_scan_start(int64_t time_ms) const {
  return base_ + time_index_.scan_start(time_ms);
}

}  // namespace eddy::log
