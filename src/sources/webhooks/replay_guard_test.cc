#include "sources/webhooks/replay_guard.h"

#include <gtest/gtest.h>

namespace eddy::sources::webhooks {
namespace {

using Claim = ReplayGuard::Claim;

TEST(ReplayGuardTest, AcceptedIdIsADuplicateUntilTheWindowEnds) {
  ReplayGuard g;
  EXPECT_EQ(g.claim("h", "evt_1", 1000), Claim::fresh);
  g.settle("h", "evt_1", true, 1000, 300);
  EXPECT_EQ(g.claim("h", "evt_1", 1299), Claim::duplicate);
  EXPECT_EQ(g.claim("other", "evt_1", 1299), Claim::fresh);  // per webhook
  EXPECT_EQ(g.claim("h", "evt_1", 1300), Claim::fresh);      // window over
}

TEST(ReplayGuardTest, InFlightThenRefusedIsForgotten) {
  ReplayGuard g;
  EXPECT_EQ(g.claim("h", "evt_1", 0), Claim::fresh);
  EXPECT_EQ(g.claim("h", "evt_1", 1), Claim::in_flight);
  g.settle("h", "evt_1", false, 2, 300);
  EXPECT_EQ(g.claim("h", "evt_1", 3), Claim::fresh);
}

TEST(ReplayGuardTest, RememberedIdsFromTheLogCount) {
  ReplayGuard g;
  g.remember("h", "evt_9", 5000);
  EXPECT_EQ(g.claim("h", "evt_9", 4000), Claim::duplicate);
  EXPECT_EQ(g.claim("h", "evt_9", 5000), Claim::fresh);
}

TEST(ReplayGuardTest, ForgetDropsOneWebhooksIds) {
  ReplayGuard g;
  g.remember("h", "a", 100);
  g.remember("h2", "a", 100);
  g.forget("h");
  EXPECT_EQ(g.claim("h", "a", 0), Claim::fresh);
  EXPECT_EQ(g.claim("h2", "a", 0), Claim::duplicate);
}

TEST(ReplayGuardTest, MemoryIsBoundedAndExpiredEntriesArePruned) {
  ReplayGuard g(100);
  for (int i = 0; i < 1000; ++i) {
    auto id = std::to_string(i);
    ASSERT_EQ(g.claim("h", id, i), Claim::fresh);
    g.settle("h", id, true, i, 1'000'000);
  }
  EXPECT_LE(g.size(), 101u);
  EXPECT_EQ(g.claim("h", "999", 1000), Claim::duplicate);  // the newest are kept
  ReplayGuard p;
  for (int i = 0; i < 50; ++i) {
    auto id = std::to_string(i);
    (void)p.claim("h", id, i);
    p.settle("h", id, true, i, 10);
  }
  EXPECT_LE(p.size(), 11u);
}

}  // namespace
}  // namespace eddy::sources::webhooks
