#include "bus/partition_cursor.h"

#include <gtest/gtest.h>

namespace eddy::bus {
namespace {

using namespace std::chrono_literals;

class PartitionCursorTest : public ::testing::Test {
 protected:
  Now at(std::chrono::milliseconds since_start) const {
    return Now{start_ + since_start, 1'000'000 + since_start.count()};
  }
  void add_range(PartitionCursor& c, uint64_t from, uint64_t to) {
    for (uint64_t o = from; o < to; ++o) c.add(o, 1'000'000, "event-" + std::to_string(o));
  }
  std::vector<uint64_t> lease(PartitionCursor& c, size_t n, std::chrono::milliseconds now,
                              std::chrono::milliseconds deadline = 1000ms) {
    std::vector<uint64_t> offsets;
    for (const Message* m : c.lease(n, start_ + now + deadline, at(now), leases_)) {
      offsets.push_back(m->offset);
    }
    return offsets;
  }
  uint64_t lease_of(const PartitionCursor& c, uint64_t offset) { return c.find(offset)->lease; }

  TimePoint start_ = TimePoint() + 1000h;
  uint64_t leases_ = 0;
  RetryPolicy policy_;
  std::vector<uint64_t> dead_;
};

TEST_F(PartitionCursorTest, QueueAcksEachEventOnItsOwn) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 5);
  EXPECT_EQ(lease(c, 10, 0ms), (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(c.ack(3, lease_of(c, 3)), 1u);
  EXPECT_EQ(c.acks().committed(), 0u);
  EXPECT_TRUE(c.acks().contains(3));
  EXPECT_EQ(c.ack(0, lease_of(c, 0)), 1u);
  EXPECT_EQ(c.acks().committed(), 1u);
  EXPECT_EQ(c.outstanding(), 3u);
}

TEST_F(PartitionCursorTest, CompetingConsumersGetDisjointEvents) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 6);
  auto a = lease(c, 3, 0ms);
  auto b = lease(c, 3, 0ms);
  EXPECT_EQ(a, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(b, (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(lease(c, 3, 0ms).empty());
}

TEST_F(PartitionCursorTest, UnackedEventIsRedeliveredAfterItsDeadline) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 2);
  lease(c, 2, 0ms, 500ms);
  c.ack(1, lease_of(c, 1));
  EXPECT_EQ(c.next_timer(), start_ + 500ms);
  EXPECT_EQ(c.expire(at(499ms), policy_, dead_), 0u);
  EXPECT_TRUE(lease(c, 10, 499ms).empty());
  EXPECT_EQ(c.expire(at(500ms), policy_, dead_), 1u);
  auto again = lease(c, 10, 500ms);
  ASSERT_EQ(again, std::vector<uint64_t>{0});
  EXPECT_EQ(c.find(0)->attempts, 2u);
  EXPECT_TRUE(dead_.empty());
}

TEST_F(PartitionCursorTest, LateAckOfAnEarlierLeaseStillCounts) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 1);
  lease(c, 1, 0ms, 100ms);
  uint64_t first = lease_of(c, 0);
  c.expire(at(100ms), policy_, dead_);
  lease(c, 1, 100ms);
  EXPECT_EQ(c.ack(0, first), 1u);
  EXPECT_EQ(c.acks().committed(), 1u);
}

TEST_F(PartitionCursorTest, NackMustNameTheCurrentLease) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 1);
  lease(c, 1, 0ms, 100ms);
  uint64_t first = lease_of(c, 0);
  c.expire(at(100ms), policy_, dead_);
  lease(c, 1, 100ms);
  Failure nack{"nacked", 0, false, 0};
  EXPECT_FALSE(c.release(0, first, nack, at(150ms), policy_, 0.5, dead_));
  EXPECT_EQ(c.find(0)->state, Message::State::leased);
  EXPECT_TRUE(c.release(0, lease_of(c, 0), nack, at(150ms), policy_, 0.5, dead_));
  EXPECT_EQ(c.find(0)->state, Message::State::ready);
}

TEST_F(PartitionCursorTest, NackWithDelayWaitsThenRedelivers) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 1);
  lease(c, 1, 0ms);
  Failure nack{"nacked", 0, false, 300};
  ASSERT_TRUE(c.release(0, lease_of(c, 0), nack, at(10ms), policy_, 0.5, dead_));
  EXPECT_TRUE(lease(c, 1, 10ms).empty());
  EXPECT_EQ(c.next_timer(), start_ + 310ms);
  c.expire(at(310ms), policy_, dead_);
  EXPECT_EQ(lease(c, 1, 310ms), std::vector<uint64_t>{0});
}

TEST_F(PartitionCursorTest, PushFailureBacksOffExponentially) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  policy_.initial_backoff_ms = 100;
  policy_.max_backoff_ms = 10000;
  policy_.max_attempts = 10;
  add_range(c, 0, 1);
  std::chrono::milliseconds now = 0ms;
  for (int attempt = 1; attempt <= 4; ++attempt) {
    ASSERT_EQ(lease(c, 1, now), std::vector<uint64_t>{0});
    Failure f{"HTTP 503", 503, false, std::nullopt};
    ASSERT_TRUE(c.release(0, lease_of(c, 0), f, at(now), policy_, 0.0, dead_));
    // unit 0: exactly half of 100 * 2^(attempt-1)
    auto wait = std::chrono::milliseconds(50 << (attempt - 1));
    EXPECT_EQ(c.next_timer(), start_ + now + wait) << attempt;
    now += wait;
    c.expire(at(now), policy_, dead_);
  }
  EXPECT_TRUE(dead_.empty());
}

TEST_F(PartitionCursorTest, EventOutOfAttemptsIsParkedForTheDeadLetterTopic) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  policy_.max_attempts = 3;
  add_range(c, 0, 2);
  Failure nack{"nacked", 0, false, 0};
  for (int i = 0; i < 3; ++i) {
    auto got = lease(c, 1, std::chrono::milliseconds(i));
    ASSERT_EQ(got, std::vector<uint64_t>{0});
    c.release(0, lease_of(c, 0), nack, at(std::chrono::milliseconds(i)), policy_, 0, dead_);
  }
  ASSERT_EQ(dead_, std::vector<uint64_t>{0});
  const Message* m = c.find(0);
  EXPECT_EQ(m->state, Message::State::parked);
  EXPECT_EQ(m->attempts, 3u);
  EXPECT_EQ(m->last_error, "nacked");
  EXPECT_EQ(m->first_attempt_ms, 1'000'000);
  EXPECT_EQ(m->last_attempt_ms, 1'000'002);
  // Parked events are not delivered; the next one is.
  EXPECT_EQ(lease(c, 5, 5ms), std::vector<uint64_t>{1});
  c.finish(0, m->lease);
  EXPECT_EQ(c.acks().committed(), 1u);
}

TEST_F(PartitionCursorTest, AttemptCountsSurviveARestartThroughAttemptedAndRestore) {
  policy_.max_attempts = 3;
  PartitionCursor before(SubscriptionMode::queue, AckSet(0));
  add_range(before, 0, 4);
  lease(before, 4, 0ms);
  Failure f{"HTTP 503", 503, false, 0};
  // 1 fails twice, 3 once; 0 is acked; 2 is leased but has not failed.
  before.release(1, lease_of(before, 1), f, at(0ms), policy_, 0, dead_);
  before.release(3, lease_of(before, 3), f, at(0ms), policy_, 0, dead_);
  before.ack(0, lease_of(before, 0));
  lease(before, 1, 1ms);
  before.release(1, lease_of(before, 1), f, at(1ms), policy_, 0, dead_);
  auto history = before.attempted(100);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].offset, 1u);
  EXPECT_EQ(history[0].attempts, 2u);
  EXPECT_EQ(history[0].first_attempt_ms, 1'000'000);
  EXPECT_EQ(history[0].last_status, 503);
  EXPECT_EQ(history[0].last_error, "HTTP 503");
  EXPECT_EQ(history[1].offset, 3u);
  EXPECT_EQ(before.attempted(1).size(), 1u);

  // After the restart the log is read again from the saved acks.
  PartitionCursor after(SubscriptionMode::queue, before.acks());
  after.restore(history);
  // Not read again yet: the history is still what a save would write.
  EXPECT_EQ(after.attempted(100).size(), 2u);
  add_range(after, 1, 4);
  EXPECT_EQ(after.find(1)->attempts, 2u);
  EXPECT_EQ(after.find(2)->attempts, 0u);
  EXPECT_EQ(after.find(3)->attempts, 1u);
  // Offset 1's third delivery is its last.
  lease(after, 3, 10ms);
  after.release(1, lease_of(after, 1), f, at(10ms), policy_, 0, dead_);
  EXPECT_EQ(dead_, std::vector<uint64_t>{1});
  EXPECT_EQ(after.find(1)->first_attempt_ms, 1'000'000);
}

TEST_F(PartitionCursorTest, RestoredHistoryIsDroppedForOffsetsSkippedOrSoughtPast) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  c.restore({Attempted{2, 4, 1, 0, "x"}, Attempted{7, 1, 1, 0, "y"}});
  c.skip_to(5);  // offset 2 filtered out (or gone to retention)
  auto h = c.attempted(10);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].offset, 7u);
  c.seek(0, leases_);
  EXPECT_TRUE(c.attempted(10).empty());
}

TEST_F(PartitionCursorTest, PermanentFailureSkipsTheRemainingAttempts) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 1);
  lease(c, 1, 0ms);
  Failure f{"HTTP 400", 400, true, std::nullopt};
  c.release(0, lease_of(c, 0), f, at(0ms), policy_, 0, dead_);
  EXPECT_EQ(dead_, std::vector<uint64_t>{0});
  EXPECT_EQ(c.find(0)->last_status, 400);
}

TEST_F(PartitionCursorTest, EventsOlderThanMaxAgeAreNotRetried) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  policy_.max_age_ms = 1000;
  c.add(0, 1'000'000, "old");
  lease(c, 1, 0ms);
  Failure f{"HTTP 503", 503, false, std::nullopt};
  c.release(0, lease_of(c, 0), f, at(1001ms), policy_, 0, dead_);
  EXPECT_EQ(dead_, std::vector<uint64_t>{0});
  EXPECT_NE(c.find(0)->last_error.find("max_age_ms"), std::string::npos);
}

TEST_F(PartitionCursorTest, StreamKeepsOneBatchInFlight) {
  PartitionCursor c(SubscriptionMode::stream, AckSet(0));
  add_range(c, 0, 10);
  EXPECT_EQ(lease(c, 4, 0ms), (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_FALSE(c.can_lease());
  EXPECT_TRUE(lease(c, 4, 0ms).empty());
  // Acking the last of the batch commits all of it and frees the partition.
  EXPECT_EQ(c.ack(3, lease_of(c, 3)), 4u);
  EXPECT_EQ(c.acks().committed(), 4u);
  EXPECT_EQ(lease(c, 4, 0ms), (std::vector<uint64_t>{4, 5, 6, 7}));
}

TEST_F(PartitionCursorTest, StreamPartialCommitRedeliversTheRestInOrder) {
  PartitionCursor c(SubscriptionMode::stream, AckSet(0));
  add_range(c, 0, 6);
  lease(c, 4, 0ms, 100ms);
  c.ack(1, lease_of(c, 1));
  EXPECT_EQ(c.acks().committed(), 2u);
  EXPECT_FALSE(c.can_lease());  // 2 and 3 are still leased
  c.expire(at(100ms), policy_, dead_);
  EXPECT_EQ(lease(c, 10, 100ms), (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(c.find(2)->attempts, 2u);
  EXPECT_EQ(c.find(4)->attempts, 1u);
}

TEST_F(PartitionCursorTest, StreamNackReleasesTheWholeBatch) {
  PartitionCursor c(SubscriptionMode::stream, AckSet(0));
  add_range(c, 0, 3);
  lease(c, 3, 0ms);
  Failure nack{"nacked", 0, false, 0};
  EXPECT_TRUE(c.release(1, lease_of(c, 1), nack, at(1ms), policy_, 0, dead_));
  EXPECT_EQ(lease(c, 3, 1ms), (std::vector<uint64_t>{0, 1, 2}));
}

TEST_F(PartitionCursorTest, StreamWaitsForABackingOffHeadBeforeGoingOn) {
  PartitionCursor c(SubscriptionMode::stream, AckSet(0));
  add_range(c, 0, 3);
  lease(c, 1, 0ms);
  Failure f{"HTTP 503", 503, false, 200};
  c.release(0, lease_of(c, 0), f, at(0ms), policy_, 0, dead_);
  EXPECT_TRUE(lease(c, 1, 10ms).empty());  // 1 must not overtake 0
  c.expire(at(200ms), policy_, dead_);
  EXPECT_EQ(lease(c, 1, 200ms), std::vector<uint64_t>{0});
}

TEST_F(PartitionCursorTest, RestartSkipsWhatWasAckedBefore) {
  AckSet saved(2);
  saved.add(4);
  saved.add(5);
  PartitionCursor c(SubscriptionMode::queue, saved);
  EXPECT_EQ(c.next_read(), 2u);
  add_range(c, 2, 8);
  EXPECT_EQ(lease(c, 10, 0ms), (std::vector<uint64_t>{2, 3, 6, 7}));
}

TEST_F(PartitionCursorTest, RecordsGoneToRetentionCountAsDone) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  c.add(50, 0, "first retained");
  EXPECT_EQ(c.acks().committed(), 50u);
  EXPECT_EQ(c.next_read(), 51u);
  c.skip_to(60);  // filtered out
  EXPECT_EQ(c.next_read(), 60u);
  lease(c, 1, 0ms);
  c.ack(50, lease_of(c, 50));
  EXPECT_EQ(c.acks().committed(), 60u);
}

TEST_F(PartitionCursorTest, SeekForgetsOutstandingEventsAndOldLeases) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  add_range(c, 0, 5);
  lease(c, 5, 0ms);
  uint64_t old = lease_of(c, 2);
  c.seek(1, leases_ + 1);
  EXPECT_EQ(c.outstanding(), 0u);
  EXPECT_EQ(c.acks().committed(), 1u);
  EXPECT_FALSE(c.next_timer().has_value());
  add_range(c, 1, 5);
  lease(c, 5, 0ms);
  EXPECT_EQ(c.ack(2, old), 0u);  // a lease from before the seek
  EXPECT_EQ(c.ack(2, lease_of(c, 2)), 1u);
}

TEST_F(PartitionCursorTest, FinishIgnoresAnEventASeekBroughtBack) {
  PartitionCursor c(SubscriptionMode::queue, AckSet(0));
  policy_.max_attempts = 1;
  add_range(c, 0, 1);
  lease(c, 1, 0ms);
  uint64_t parked_lease = lease_of(c, 0);
  c.release(0, parked_lease, Failure{"x", 0, true, {}}, at(0ms), policy_, 0, dead_);
  c.seek(0, leases_ + 1);
  add_range(c, 0, 1);
  c.finish(0, parked_lease);
  EXPECT_EQ(c.outstanding(), 1u);
  EXPECT_EQ(c.acks().committed(), 0u);
}

}  // namespace
}  // namespace eddy::bus
