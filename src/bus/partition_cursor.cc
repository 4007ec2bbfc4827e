#include "bus/partition_cursor.h"

#include <fmt/format.h>

#include <algorithm>

namespace eddy::bus {

PartitionCursor::PartitionCursor(SubscriptionMode mode, AckSet acks)
    : mode_(mode), acks_(std::move(acks)), next_read_(acks_.committed()) {}

void PartitionCursor::add(uint64_t offset, int64_t log_time_ms, std::string payload) {
  if (offset < next_read_) return;
  if (offset > next_read_) acks_.add_range(next_read_, offset);  // a gap: gone to retention
  next_read_ = offset + 1;
  restored_.erase(restored_.begin(), restored_.lower_bound(offset));
  if (acks_.contains(offset)) return;
  Message m;
  m.offset = offset;
  m.log_time_ms = log_time_ms;
  m.payload = std::move(payload);
  if (auto it = restored_.find(offset); it != restored_.end()) {
    m.attempts = it->second.attempts;
    m.first_attempt_ms = it->second.first_attempt_ms;
    m.last_status = it->second.last_status;
    m.last_error = std::move(it->second.last_error);
    restored_.erase(it);
  }
  messages_.emplace(offset, std::move(m));
  ready_.insert(offset);
}

std::vector<Attempted> PartitionCursor::attempted(size_t max) const {
  std::vector<Attempted> out;
  auto m = messages_.begin();
  auto r = restored_.lower_bound(next_read_);  // below next_read_: read again, or done
  while (out.size() < max && (m != messages_.end() || r != restored_.end())) {
    if (r == restored_.end() || (m != messages_.end() && m->first < r->first)) {
      const Message& msg = (m++)->second;
      if (msg.last_error.empty()) continue;  // never failed
      out.push_back(Attempted{msg.offset, msg.attempts, msg.first_attempt_ms, msg.last_status,
                              msg.last_error});
    } else {
      out.push_back((r++)->second);
    }
  }
  return out;
}

void PartitionCursor::restore(std::vector<Attempted> history) {
  for (auto& h : history) {
    if (h.offset < next_read_ || acks_.contains(h.offset)) continue;
    restored_[h.offset] = std::move(h);
  }
}

void PartitionCursor::skip_to(uint64_t end) {
  if (end <= next_read_) return;
  acks_.add_range(next_read_, end);
  restored_.erase(restored_.begin(), restored_.lower_bound(end));
  next_read_ = end;
}

bool PartitionCursor::can_lease() const {
  if (ready_.empty()) return false;
  if (mode_ == SubscriptionMode::stream) return leased_ == 0 && waiting_ == 0 && parked_ == 0;
  return true;
}

void PartitionCursor::set_timer(Message& m, TimePoint at) {
  clear_timer(m);
  m.timer_at = at;
  timers_.emplace(at, m.offset);
}

void PartitionCursor::clear_timer(Message& m) {
  if (m.state == Message::State::leased || m.state == Message::State::waiting) {
    timers_.erase({m.timer_at, m.offset});
  }
}

void PartitionCursor::set_state(Message& m, Message::State s) {
  auto count = [this](Message::State st) -> size_t* {
    switch (st) {
      case Message::State::leased:
        return &leased_;
      case Message::State::waiting:
        return &waiting_;
      case Message::State::parked:
        return &parked_;
      case Message::State::ready:
        return nullptr;
    }
    return nullptr;
  };
  if (m.state == s) return;
  if (m.state == Message::State::ready) ready_.erase(m.offset);
  if (auto* c = count(m.state)) --*c;
  m.state = s;
  if (s == Message::State::ready) ready_.insert(m.offset);
  if (auto* c = count(s)) ++*c;
}

std::vector<const Message*> PartitionCursor::lease(size_t max, TimePoint deadline, const Now& now,
                                                   uint64_t& lease_counter) {
  std::vector<const Message*> out;
  if (!can_lease()) return out;
  while (out.size() < max && !ready_.empty()) {
    auto& m = messages_.at(*ready_.begin());
    set_state(m, Message::State::leased);
    set_timer(m, deadline);
    m.lease = ++lease_counter;
    ++m.attempts;
    if (m.attempts == 1) m.first_attempt_ms = now.ms;
    m.last_attempt_ms = now.ms;
    out.push_back(&m);
  }
  return out;
}

void PartitionCursor::done(std::map<uint64_t, Message>::iterator it) {
  auto& m = it->second;
  clear_timer(m);
  if (m.state == Message::State::ready) ready_.erase(m.offset);
  if (m.state == Message::State::leased) --leased_;
  if (m.state == Message::State::waiting) --waiting_;
  if (m.state == Message::State::parked) --parked_;
  acks_.add(m.offset);
  messages_.erase(it);
}

size_t PartitionCursor::ack(uint64_t offset, uint64_t lease) {
  auto it = messages_.find(offset);
  if (it == messages_.end()) return 0;
  const auto& m = it->second;
  if (m.attempts == 0 || lease > m.lease || lease < first_valid_lease_) return 0;
  if (mode_ == SubscriptionMode::queue) {
    done(it);
    return 1;
  }
  size_t n = 0;
  for (auto i = messages_.begin(); i != messages_.end() && i->first <= offset;) {
    auto next = std::next(i);
    done(i);
    ++n;
    i = next;
  }
  return n;
}

void PartitionCursor::fail(Message& m, const Failure& failure, const Now& now,
                           const RetryPolicy& policy, double jitter_unit,
                           std::vector<uint64_t>& dead) {
  m.last_error = failure.error;
  m.last_status = failure.status;
  bool too_old = policy.max_age_ms >= 0 && now.ms - m.log_time_ms > policy.max_age_ms;
  if (too_old && !failure.permanent) {
    m.last_error +=
        fmt::format(" (not retried: the event is older than max_age_ms {})", policy.max_age_ms);
  }
  if (failure.permanent || too_old || m.attempts >= policy.max_attempts) {
    clear_timer(m);
    set_state(m, Message::State::parked);
    dead.push_back(m.offset);
    return;
  }
  int64_t delay = retry_delay_ms(policy, m.attempts, failure.retry_after_ms, jitter_unit);
  clear_timer(m);
  if (delay <= 0) {
    set_state(m, Message::State::ready);
  } else {
    set_state(m, Message::State::waiting);
    set_timer(m, now.steady + std::chrono::milliseconds(delay));
  }
}

bool PartitionCursor::release(uint64_t offset, uint64_t lease, const Failure& failure,
                              const Now& now, const RetryPolicy& policy, double jitter_unit,
                              std::vector<uint64_t>& dead) {
  auto it = messages_.find(offset);
  if (it == messages_.end() || it->second.state != Message::State::leased ||
      it->second.lease != lease) {
    return false;
  }
  if (mode_ == SubscriptionMode::queue) {
    fail(it->second, failure, now, policy, jitter_unit, dead);
    return true;
  }
  for (auto& [o, m] : messages_) {
    if (m.state == Message::State::leased) fail(m, failure, now, policy, jitter_unit, dead);
  }
  return true;
}

size_t PartitionCursor::expire(const Now& now, const RetryPolicy& policy,
                               std::vector<uint64_t>& dead) {
  size_t expired = 0;
  while (!timers_.empty() && timers_.begin()->first <= now.steady) {
    auto& m = messages_.at(timers_.begin()->second);
    if (m.state == Message::State::waiting) {
      clear_timer(m);
      set_state(m, Message::State::ready);
      continue;
    }
    ++expired;
    Failure f{"ack deadline expired", 0, false, 0};
    fail(m, f, now, policy, 0.0, dead);
  }
  return expired;
}

void PartitionCursor::finish(uint64_t offset, uint64_t lease) {
  auto it = messages_.find(offset);
  if (it != messages_.end() && it->second.state == Message::State::parked &&
      it->second.lease == lease) {
    done(it);
  }
}

void PartitionCursor::seek(uint64_t offset, uint64_t first_valid_lease) {
  messages_.clear();
  restored_.clear();
  ready_.clear();
  timers_.clear();
  leased_ = waiting_ = parked_ = 0;
  acks_.reset(offset);
  next_read_ = offset;
  first_valid_lease_ = first_valid_lease;
}

const Message* PartitionCursor::find(uint64_t offset) const {
  auto it = messages_.find(offset);
  return it == messages_.end() ? nullptr : &it->second;
}

std::optional<TimePoint> PartitionCursor::next_timer() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

std::optional<int64_t> PartitionCursor::oldest_outstanding_time() const {
  if (messages_.empty()) return std::nullopt;
  return messages_.begin()->second.log_time_ms;
}

}  // namespace eddy::bus
