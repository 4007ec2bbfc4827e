#include "log/topic.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "log/io.h"

namespace eddy::log {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kDefaultSegmentMs = 7ll * 24 * 3600 * 1000;
constexpr uint32_t kMaxPartitions = 4096;
constexpr size_t kMaxNameBytes = 200;
// Prefix of a topic directory being deleted (renamed first, so a crash never leaves a
// half-deleted topic under its name). Topic names cannot start with '.'.
constexpr std::string_view kTombstonePrefix = ".deleted-";

// The store is the last line before the filesystem: it refuses names that could escape the
// topics directory even if a caller forgot to validate them.
Status check_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes && name.front() != '.';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-');
  }
  if (ok) return {};
  return make_error(Errc::invalid_argument,
                    fmt::format("topic name '{}' is not allowed; use 1-{} characters of A-Z a-z "
                                "0-9 . _ - not starting with '.'",
                                name, kMaxNameBytes));
}

Status check_config(const TopicConfig& c) {
  if (c.partitions < 1 || c.partitions > kMaxPartitions) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("partitions {} is out of range; use 1 to {}", c.partitions, kMaxPartitions));
  }
  return {};
}

// Segments roll at least as often as retention_ms so that retention can delete them.
int64_t segment_ms_for(const TopicConfig& c) {
  return c.retention_ms > 0 ? std::min(kDefaultSegmentMs, c.retention_ms) : kDefaultSegmentMs;
}

}  // namespace

uint64_t fnv1a64(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Topic::Topic(std::string name, TopicConfig config, std::vector<std::unique_ptr<Partition>> parts)
    : name_(std::move(name)), config_(std::move(config)) {
  for (auto& p : parts) parts_.push_back(std::move(p));
}

Topic::Topic(std::string name, TopicConfig config, std::vector<std::shared_ptr<Partition>> parts)
    : name_(std::move(name)), config_(std::move(config)), parts_(std::move(parts)) {}

uint32_t Topic::choose_partition(std::optional<std::string_view> key) {
  const uint64_t n = parts_.size();
  if (key) return static_cast<uint32_t>(fnv1a64(*key) % n);
  return static_cast<uint32_t>(next_rr_.fetch_add(1, std::memory_order_relaxed) % n);
}

TopicStore::TopicStore(fs::path data_dir, Durability server_durability, Flusher& flusher,
                       const Clock& clock)
    : dir_(std::move(data_dir) / "topics"),
      durability_(server_durability),
      flusher_(flusher),
      clock_(clock) {}

Result<std::shared_ptr<Topic>> TopicStore::open(const std::string& name,
                                                const TopicConfig& config) {
  if (auto s = check_name(name); !s) return std::move(s).error();
  if (auto s = check_config(config); !s) return std::move(s).error();
  std::lock_guard lk(mu_);
  if (auto it = topics_.find(name); it != topics_.end()) {
    if (it->second->partition_count() != config.partitions) {
      return make_error(Errc::conflict,
                        fmt::format("topic '{}' is open with {} partitions, not {}", name,
                                    it->second->partition_count(), config.partitions));
    }
    return it->second;
  }
  const fs::path topic_dir = dir_ / name;
  std::error_code ec;
  bool created = !fs::exists(topic_dir, ec);
  std::vector<std::unique_ptr<Partition>> parts;
  for (uint32_t p = 0; p < config.partitions; ++p) {
    PartitionOptions o;
    o.dir = topic_dir / std::to_string(p);
    o.durability = config.durability.value_or(durability_);
    o.segment_ms = segment_ms_for(config);
    o.retention_ms = config.retention_ms;
    o.retention_bytes = config.retention_bytes;
    auto part = Partition::open(std::move(o), flusher_, clock_);
    if (!part) return std::move(part).error();
    parts.push_back(std::move(*part));
  }
  // Make the new directory entries durable: the partitions' in the topic directory, the
  // topic's in topics/, topics/ in the data directory.
  if (created) {
    for (const fs::path& d : {topic_dir, dir_, dir_.parent_path()}) {
      if (auto s = io::fsync_dir(d); !s) return std::move(s).error();
    }
  }
  auto topic = std::make_shared<Topic>(name, config, std::move(parts));
  topics_.emplace(name, topic);
  return topic;
}

Result<std::shared_ptr<Topic>> TopicStore::reconfigure(const std::string& name,
                                                       const TopicConfig& config) {
  if (auto s = check_config(config); !s) return std::move(s).error();
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return make_error(Errc::not_found, fmt::format("topic '{}' is not open", name));
  }
  const Topic& old = *it->second;
  if (old.partition_count() != config.partitions) {
    return make_error(Errc::conflict,
                      fmt::format("topic '{}' has {} partitions; the partition count of an "
                                  "existing topic cannot change",
                                  name, old.partition_count()));
  }
  for (const auto& part : old.parts_) {
    if (auto s = part->reconfigure(config.durability.value_or(durability_), segment_ms_for(config),
                                   config.retention_ms, config.retention_bytes);
        !s) {
      return std::move(s).error();
    }
  }
  // Holders of the old Topic keep working: both objects share the partitions.
  auto topic = std::make_shared<Topic>(name, config, old.parts_);
  it->second = topic;
  return topic;
}

Status TopicStore::drop(const std::string& name) {
  if (auto s = check_name(name); !s) return s;
  std::shared_ptr<Topic> topic;
  fs::path tombstone;
  std::error_code ec;
  {
    std::lock_guard lk(mu_);
    if (auto it = topics_.find(name); it != topics_.end()) {
      topic = std::move(it->second);
      topics_.erase(it);
    }
    const fs::path topic_dir = dir_ / name;
    if (!fs::exists(topic_dir, ec)) {
      if (topic) return {};
      return make_error(Errc::not_found, fmt::format("topic '{}' does not exist", name));
    }
    // Rename, then delete: a crash leaves a tombstone that remove_orphans clears, and the
    // name is free for a new topic at once.
    tombstone = dir_ / fmt::format("{}{}-{}", kTombstonePrefix, name,
                                   clock_.steady_now().time_since_epoch().count());
    fs::rename(topic_dir, tombstone, ec);
    if (ec) return io::os_error("cannot rename", topic_dir, ec.value());
    if (auto s = io::fsync_dir(dir_); !s) return s;
  }
  // Appends still running through other holders of the topic write to unlinked files; the
  // partitions close when the last holder lets go.
  topic.reset();
  fs::remove_all(tombstone, ec);
  if (ec) {
    spdlog::warn("log: cannot delete {}: {}; it will be removed at the next start",
                 tombstone.string(), ec.message());
  }
  return {};
}

std::shared_ptr<Topic> TopicStore::find(std::string_view name) const {
  std::lock_guard lk(mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Topic>> TopicStore::list() const {
  std::lock_guard lk(mu_);
  std::vector<std::shared_ptr<Topic>> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(t);
  return out;
}

void TopicStore::remove_orphans(const std::vector<std::string>& known) {
  std::set<std::string, std::less<>> keep(known.begin(), known.end());
  std::lock_guard lk(mu_);
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (!entry.is_directory(ec)) continue;
    std::string name = entry.path().filename().string();
    if (keep.contains(name) || topics_.contains(name)) continue;
    doomed.push_back(entry.path());
  }
  for (const fs::path& p : doomed) {
    spdlog::warn("log: removing {}: no topic of that name exists", p.string());
    fs::remove_all(p, ec);
    if (ec) spdlog::warn("log: cannot delete {}: {}", p.string(), ec.message());
  }
  if (!doomed.empty()) (void)io::fsync_dir(dir_);
}

void TopicStore::enforce_retention() {
  for (const auto& topic : list()) {
    for (uint32_t p = 0; p < topic->partition_count(); ++p) {
      if (auto s = topic->partition(p).enforce_retention(); !s) {
        spdlog::warn("log: retention of topic '{}' partition {}: {}", topic->name(), p,
                     s.error().message);
      }
    }
  }
}

}  // namespace eddy::log
