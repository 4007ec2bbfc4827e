// PartitionCursor: one subscription's delivery state for one partition, with no I/O and no
// clock of its own (callers pass the time), so the rules of delivery are tested alone.
//
// Offsets below next_read() are each either done (in acks(): acked, filtered out, or
// dead-lettered) or outstanding: a Message kept here, in one of four states:
//   ready    deliverable now (lowest offsets go first, so redeliveries lead);
//   leased   delivered, waiting for an ack until its deadline;
//   waiting  failed, backing off until its retry time;
//   parked   on its way to the dead-letter topic (the caller publishes it, then finish()).
// Mode `queue` leases any ready message to any consumer and acks each on its own. Mode
// `stream` leases only when nothing of the partition is leased, waiting or parked, so at
// most one batch is in flight and order is kept; an ack commits everything up to it.
//
// Leases are numbered by a counter the caller owns (one per subscription). An ack names
// the lease it got; an ack for an older lease of a message still outstanding is honoured
// (the work was done), one older than the last seek is not. A nack must name the current
// lease, so a late nack cannot disturb a redelivery to someone else.
//
// Threading: not thread-safe; the owning subscription serializes calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bus/ack_set.h"
#include "bus/backoff.h"

namespace eddy::bus {

enum class SubscriptionMode { queue, stream };

using TimePoint = std::chrono::steady_clock::time_point;

// The current time in both forms the cursor needs.
struct Now {
  TimePoint steady;
  int64_t ms = 0;  // wall clock, ms since the epoch
};

// Why a delivery did not succeed.
struct Failure {
  std::string error;       // for the dead letter's `eddyerror`
  int status = 0;          // a push endpoint's HTTP status, 0 when there was none
  bool permanent = false;  // do not retry: dead-letter now
  // Wait this long before redelivering (a nack's delay, an endpoint's Retry-After);
  // nullopt: the policy's exponential backoff.
  std::optional<int64_t> retry_after_ms;
};

struct Message {
  enum class State : uint8_t { ready, leased, waiting, parked };
  uint64_t offset = 0;
  int64_t log_time_ms = 0;  // when the log appended it
  std::string payload;      // the stored event
  State state = State::ready;
  uint32_t attempts = 0;  // deliveries so far
  uint64_t lease = 0;     // the current (latest) lease, 0 before the first
  int64_t first_attempt_ms = 0;
  int64_t last_attempt_ms = 0;
  std::string last_error;
  int last_status = 0;
  TimePoint timer_at{};  // lease deadline (leased) or retry time (waiting)
};

// What a restart must not forget about a message that failed at least once: its delivery
// count and first delivery (so max_attempts and max_age_ms hold across restarts) and its
// last failure (for the dead letter).
struct Attempted {
  uint64_t offset = 0;
  uint32_t attempts = 0;
  int64_t first_attempt_ms = 0;
  int last_status = 0;
  std::string last_error;
};

class PartitionCursor {
 public:
  PartitionCursor(SubscriptionMode mode, AckSet acks);

  // --- Surviving restarts (with acks(), the persisted state).
  // Messages that failed at least once, lowest offsets first, at most `max`.
  std::vector<Attempted> attempted(size_t max) const;
  // Gives the message at each offset, when add() brings it back, the history it had.
  void restore(std::vector<Attempted> history);

  // --- Reading the log.
  // Where the next log read starts: past every record added or skipped.
  uint64_t next_read() const { return next_read_; }
  // Adds the record at `offset` (>= next_read()) as a ready message. A record already in
  // acks() (done before a restart) is skipped instead.
  void add(uint64_t offset, int64_t log_time_ms, std::string payload);
  // Marks [next_read(), end) done without delivering it (filtered out, or gone to
  // retention) and moves next_read() to `end`.
  void skip_to(uint64_t end);
  size_t outstanding() const { return messages_.size(); }
  size_t ready() const { return ready_.size(); }
  // The ready message lease() would hand out first, or null.
  const Message* first_ready() const {
    return ready_.empty() ? nullptr : &messages_.at(*ready_.begin());
  }

  // --- Delivering.
  // Whether lease() would return a message now.
  bool can_lease() const;
  // Leases up to `max` ready messages, lowest offsets first, until `deadline`; each gets
  // its own lease number from `lease_counter`. Pointers stay valid until the next call
  // that changes this cursor.
  std::vector<const Message*> lease(size_t max, TimePoint deadline, const Now& now,
                                    uint64_t& lease_counter);
  // Acks the message (stream: and everything outstanding below it). Returns how many
  // messages became done; 0 for an unknown, already done or stale ack.
  size_t ack(uint64_t offset, uint64_t lease);
  // The leased message (stream: the partition's whole leased batch) failed. Messages out
  // of attempts or age, or failed permanently, are parked and their offsets appended to
  // `dead`; the rest are ready again or wait for their retry time. Returns false when
  // `lease` is not the message's current lease (nothing changes).
  bool release(uint64_t offset, uint64_t lease, const Failure& failure, const Now& now,
               const RetryPolicy& policy, double jitter_unit, std::vector<uint64_t>& dead);
  // Handles leases whose deadline passed (as a failure "ack deadline expired", redelivered
  // at once unless out of attempts) and retry times that came. Returns how many leases
  // expired.
  size_t expire(const Now& now, const RetryPolicy& policy, std::vector<uint64_t>& dead);
  // The parked message with this lease reached the dead-letter topic (or was dropped): it
  // is done. Does nothing if a seek forgot it meanwhile.
  void finish(uint64_t offset, uint64_t lease);
  // Forgets every outstanding message and ack and restarts at `offset`; acks for leases
  // below `first_valid_lease` are ignored from now on.
  void seek(uint64_t offset, uint64_t first_valid_lease);

  // --- Inspecting.
  const Message* find(uint64_t offset) const;
  const AckSet& acks() const { return acks_; }
  SubscriptionMode mode() const { return mode_; }
  // The earliest lease deadline or retry time.
  std::optional<TimePoint> next_timer() const;
  size_t leased() const { return leased_; }
  // Log time of the oldest outstanding message.
  std::optional<int64_t> oldest_outstanding_time() const;

 private:
  void set_timer(Message& m, TimePoint at);
  void clear_timer(Message& m);
  void set_state(Message& m, Message::State s);
  void done(std::map<uint64_t, Message>::iterator it);
  void fail(Message& m, const Failure& failure, const Now& now, const RetryPolicy& policy,
            double jitter_unit, std::vector<uint64_t>& dead);

  SubscriptionMode mode_;
  AckSet acks_;
  uint64_t next_read_;
  uint64_t first_valid_lease_ = 0;
  std::map<uint64_t, Message> messages_;
  std::map<uint64_t, Attempted> restored_;  // history for offsets not read again yet
  std::set<uint64_t> ready_;
  std::set<std::pair<TimePoint, uint64_t>> timers_;
  size_t leased_ = 0;
  size_t waiting_ = 0;
  size_t parked_ = 0;
};

}  // namespace eddy::bus
