// A topic: a named set of partitions under <data-dir>/topics/<name>/<partition>/, and the
// store that creates, opens and drops them. Metadata (partition count, retention) is owned
// by the catalog; the store only keeps the bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log/partition.h"

namespace eddy::log {

struct TopicConfig {
  uint32_t partitions = 1;
  int64_t retention_ms = 7ll * 24 * 3600 * 1000;
  int64_t retention_bytes = -1;
  std::optional<Durability> durability;  // unset: the server's policy
};

// FNV-1a 64 of `key`: the partitioning hash (docs/log_format.md). Stable forever.
uint64_t fnv1a64(std::string_view key);

// Immutable: a topic's name, configuration and partitions. A reconfigured topic is a new
// Topic object sharing the same partitions.
class Topic {
 public:
  Topic(std::string name, TopicConfig config, std::vector<std::unique_ptr<Partition>> parts);
  Topic(std::string name, TopicConfig config, std::vector<std::shared_ptr<Partition>> parts);

  const std::string& name() const { return name_; }
  const TopicConfig& config() const { return config_; }
  uint32_t partition_count() const { return static_cast<uint32_t>(parts_.size()); }
  Partition& partition(uint32_t p) { return *parts_.at(p); }
  const Partition& partition(uint32_t p) const { return *parts_.at(p); }

  // The partition for an event: FNV-1a 64 of `key` modulo the partition count when a key is
  // given (stable across versions: documented in docs/log_format.md), else round-robin.
  uint32_t choose_partition(std::optional<std::string_view> key);

 private:
  std::string name_;
  TopicConfig config_;
  std::vector<std::shared_ptr<Partition>> parts_;
  std::atomic<uint64_t> next_rr_{0};

  friend class TopicStore;
};

// Owns the open topics of a data directory. Thread-safe.
class TopicStore {
 public:
  TopicStore(std::filesystem::path data_dir, Durability server_durability, Flusher& flusher,
             const Clock& clock);

  // Opens the topic's partitions (recovering them), creating directories as needed. Names
  // are 1-200 characters of A-Z a-z 0-9 . _ - not starting with '.'; partitions 1-4096.
  // An open topic is returned as it is (conflict if the partition count differs).
  Result<std::shared_ptr<Topic>> open(const std::string& name, const TopicConfig& config);
  // Applies a new retention / durability to an open topic (same partition count); the
  // records stay. Returns the topic with the new config.
  Result<std::shared_ptr<Topic>> reconfigure(const std::string& name, const TopicConfig& config);
  // Closes the topic and deletes its directory (renamed to a tombstone first, so a crash
  // never leaves half a topic under its name). Holders of the Topic keep appending to
  // unlinked files until they let go. not_found when neither open nor on disk.
  Status drop(const std::string& name);
  std::shared_ptr<Topic> find(std::string_view name) const;
  std::vector<std::shared_ptr<Topic>> list() const;
  // Removes topic directories that the catalog does not know (left by a crash mid-delete).
  void remove_orphans(const std::vector<std::string>& known);
  // Runs enforce_retention on every partition.
  void enforce_retention();

 private:
  std::filesystem::path dir_;
  Durability durability_;
  Flusher& flusher_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Topic>, std::less<>> topics_;
};

}  // namespace eddy::log
