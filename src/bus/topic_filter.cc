#include "bus/topic_filter.h"

#include <algorithm>

namespace eddy::bus {

TopicFilter::TopicFilter(const std::shared_ptr<log::Topic>& topic) : topic_(topic) {}

bool TopicFilter::serves(const std::shared_ptr<log::Topic>& topic) const {
  // Owner comparison: true for the same topic object even after it was deleted (our weak_ptr
  // keeps its control block, so the address cannot be reused meanwhile).
  return !topic_.owner_before(topic) && !topic.owner_before(topic_);
}

uint64_t TopicFilter::new_id() {
  std::lock_guard lock(mu_);
  return next_id_++;
}

Status TopicFilter::set(uint64_t id, const rules::Pattern& pattern) {
  if (auto s = matcher_.add(id, pattern); !s) return s;
  std::lock_guard lock(mu_);
  ++generation_;
  return {};
}

void TopicFilter::remove(uint64_t id) {
  matcher_.remove(id);
  std::lock_guard lock(mu_);
  ++generation_;
}

bool TopicFilter::passes(uint64_t id, uint32_t partition, uint64_t offset,
                         std::string_view payload) {
  uint64_t generation = 0;
  {
    std::lock_guard lock(mu_);
    generation = generation_;
    if (partition < partitions_.size() && !partitions_[partition].empty()) {
      const Slot& slot = partitions_[partition][offset % kSlots];
      if (slot.offset == offset && slot.generation == generation) {
        ++remembered_;
        return std::binary_search(slot.ids.begin(), slot.ids.end(), id);
      }
    }
  }
  // Matched outside the lock: a change of filters meanwhile makes this answer stale for
  // the others (the generation moved on), not wrong for the caller, whose own filter is
  // changed only by itself.
  thread_local std::vector<uint64_t> ids;
  matcher_.match(payload, ids);
  const bool pass = std::binary_search(ids.begin(), ids.end(), id);
  std::lock_guard lock(mu_);
  if (generation != generation_) return pass;
  if (partition >= partitions_.size()) partitions_.resize(partition + 1);
  auto& slots = partitions_[partition];
  if (slots.empty()) slots.resize(kSlots);
  Slot& slot = slots[offset % kSlots];
  slot.offset = offset;
  slot.generation = generation;
  slot.ids.assign(ids.begin(), ids.end());
  return pass;
}

uint64_t TopicFilter::remembered() const {
  std::lock_guard lock(mu_);
  return remembered_;
}

}  // namespace eddy::bus
