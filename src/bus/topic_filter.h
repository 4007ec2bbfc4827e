// TopicFilter: the filters of every subscription of one topic, compiled into one
// rules::Matcher, so that deciding which subscriptions want an event costs one match
// whatever the number of subscriptions.
//
// Subscriptions read the log on their own schedule (each has its own cursor), so there is no
// single place where an event passes by all of them at once. Instead the first subscription
// to read an event matches it against every filter of the topic and the answer is kept in a
// small per-partition table keyed by offset; the others reading the same event soon after
// (the usual case: all of them wake on the same new data) find it there. A subscription far
// behind the others matches again, which is correct, only slower.
//
// Changing a filter (set, remove) invalidates every remembered answer, so a decision is
// always made with the filters as they are at the moment it is asked for.
//
// Threading: thread-safe. passes() runs concurrently with itself and with set()/remove().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "rules/matcher.h"

namespace eddy::log {
class Topic;
}

namespace eddy::bus {

class TopicFilter {
 public:
  // `topic` identifies the log the offsets belong to (a topic deleted and created again
  // gets another TopicFilter).
  explicit TopicFilter(const std::shared_ptr<log::Topic>& topic);
  TopicFilter(const TopicFilter&) = delete;
  TopicFilter& operator=(const TopicFilter&) = delete;

  bool serves(const std::shared_ptr<log::Topic>& topic) const;

  // An id for a new filter; it passes nothing until set().
  uint64_t new_id();
  // Makes `pattern` (non-empty) the filter `id`, replacing the previous one.
  Status set(uint64_t id, const rules::Pattern& pattern);
  // Forgets the filter `id`. Unknown ids are ignored.
  void remove(uint64_t id);

  // Whether the event `payload`, stored at `offset` of `partition`, passes the filter `id`.
  bool passes(uint64_t id, uint32_t partition, uint64_t offset, std::string_view payload);

  // How many passes() were answered from the table instead of matching (tests, metrics).
  uint64_t remembered() const;

 private:
  // Per partition, the last kSlots answers, at offset % kSlots.
  static constexpr size_t kSlots = 1024;
  struct Slot {
    uint64_t offset = UINT64_MAX;
    uint64_t generation = 0;
    std::vector<uint64_t> ids;  // ascending
  };

  std::weak_ptr<log::Topic> topic_;
  rules::Matcher matcher_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  uint64_t generation_ = 1;  // grows with every change of a filter
  uint64_t remembered_ = 0;
  std::vector<std::vector<Slot>> partitions_;
};

}  // namespace eddy::bus
