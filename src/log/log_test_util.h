// Helpers shared by the log's tests: a temp directory, a clock the test drives, and
// shorthands for appending and reading strings. Test-only (included by *_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"
#include "log/partition.h"

namespace eddy::log::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms) {}
  int64_t now_ms() const override { return now_ms_.load(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  void set(int64_t ms) { now_ms_ = ms; }
  void advance(int64_t ms) { now_ms_ += ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("eddy-log-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The payload the tests write at `offset`: its size varies so batches and records differ.
inline std::string payload_for(uint64_t offset) {
  std::string s = "record-" + std::to_string(offset) + "-";
  s.append(offset % 37, static_cast<char>('a' + offset % 26));
  return s;
}

// Appends `count` records numbered from the partition's end, as one batch.
inline AppendResult append_records(Partition& p, size_t count) {
  std::vector<std::string> owned;
  uint64_t first = p.end_offset();
  for (size_t i = 0; i < count; ++i) owned.push_back(payload_for(first + i));
  std::vector<std::string_view> views(owned.begin(), owned.end());
  auto r = p.append(views);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : AppendResult{};
}

// Every visible record from `offset`, following next_offset.
inline std::vector<RecordView> read_all(const Partition& p, uint64_t offset,
                                        std::vector<ReadResult>& keep, size_t max_records = 7) {
  std::vector<RecordView> out;
  while (true) {
    auto r = p.read(offset, max_records, 1 << 20);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok() || r->records.empty()) break;
    offset = r->next_offset;
    keep.push_back(std::move(*r));
    for (const auto& rec : keep.back().records) out.push_back(rec);
  }
  return out;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace eddy::log::testing
