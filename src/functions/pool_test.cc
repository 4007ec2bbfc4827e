#include "functions/pool.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace eddy::functions {
namespace {

using K = PoolAction::Kind;

size_t count(const PoolActions& a, K kind) {
  return static_cast<size_t>(
      std::count_if(a.begin(), a.end(), [&](const PoolAction& x) { return x.kind == kind; }));
}
const PoolAction* find(const PoolActions& a, K kind) {
  for (const auto& x : a) {
    if (x.kind == kind) return &x;
  }
  return nullptr;
}

TEST(PoolTest, FirstJobStartsAnInstanceAndIsDispatchedWhenItIsReady) {
  Pool p(1, {8, 0, 60000});
  auto a = p.submit(100, true);
  ASSERT_TRUE(a);
  ASSERT_EQ(count(*a, K::start), 1u);
  InstanceId id = find(*a, K::start)->instance;
  auto b = p.instance_ready(id);
  auto* d = find(b, K::dispatch);
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->job, 100u);
  EXPECT_EQ(d->instance, id);
}

TEST(PoolTest, WarmInstanceTakesTheNextJobWithoutAStart) {
  Pool p(1, {8, 0, 60000});
  auto a = p.submit(1, true);
  InstanceId id = find(*a, K::start)->instance;
  p.instance_ready(id);
  auto f = p.job_finished(id);
  EXPECT_NE(find(f, K::arm_idle), nullptr);
  auto b = p.submit(2, true);
  ASSERT_TRUE(b);
  EXPECT_EQ(count(*b, K::start), 0u);
  ASSERT_NE(find(*b, K::dispatch), nullptr);
  EXPECT_EQ(find(*b, K::dispatch)->instance, id);
}

TEST(PoolTest, AJobPrefersAnIdleInstanceOnItsOwnIoThread) {
  Pool p(1, {8, 0, 60000});
  auto a = p.submit(1, true, 0);
  auto b = p.submit(2, true, 1);
  InstanceId on0 = find(*a, K::start)->instance, on1 = find(*b, K::start)->instance;
  p.instance_ready(on0, 0);
  p.instance_ready(on1, 1);
  p.job_finished(on1);
  p.job_finished(on0);  // on0 is now the most recently used
  auto c = p.submit(3, true, 1);
  ASSERT_TRUE(c);
  ASSERT_NE(find(*c, K::dispatch), nullptr);
  EXPECT_EQ(find(*c, K::dispatch)->instance, on1);
  // With none idle on its thread, a job takes the most recently used elsewhere.
  auto d = p.submit(4, true, 1);
  ASSERT_TRUE(d);
  ASSERT_NE(find(*d, K::dispatch), nullptr);
  EXPECT_EQ(find(*d, K::dispatch)->instance, on0);
}

TEST(PoolTest, JobsServedFromAnotherIoThreadInARowStartAnInstanceOnTheirOwn) {
  Pool p(1, {8, 0, 60000});
  auto a = p.submit(1, true, 0);
  InstanceId on0 = find(*a, K::start)->instance;
  EXPECT_EQ(find(*a, K::start)->home, 0u);
  p.instance_ready(on0, 0);
  p.job_finished(on0);
  JobId job = 2;
  for (int i = 1; i < kAffinityStreak; ++i) {
    auto b = p.submit(job++, true, 1);
    ASSERT_TRUE(b);
    EXPECT_EQ(count(*b, K::start), 0u);
    ASSERT_NE(find(*b, K::dispatch), nullptr);
    p.job_finished(on0);
  }
  auto c = p.submit(job++, true, 1);
  ASSERT_TRUE(c);
  EXPECT_EQ(find(*c, K::dispatch)->instance, on0);  // served now, elsewhere
  ASSERT_EQ(count(*c, K::start), 1u);
  EXPECT_EQ(find(*c, K::start)->home, 1u);
  InstanceId on1 = find(*c, K::start)->instance;
  p.job_finished(on0);
  // While that instance starts, further jobs from thread 1 start no other.
  for (int i = 0; i < 2 * kAffinityStreak; ++i) {
    auto d = p.submit(job++, true, 1);
    ASSERT_TRUE(d);
    EXPECT_EQ(count(*d, K::start), 0u);
    p.job_finished(on0);
  }
  p.instance_ready(on1, 1);
  auto e = p.submit(job++, true, 1);
  ASSERT_TRUE(e);
  EXPECT_EQ(find(*e, K::dispatch)->instance, on1);
}

TEST(PoolTest, ScalesUpToMaxConcurrencyThenThrottlesSyncButQueuesAsync) {
  Pool p(1, {2, 0, 60000});
  auto a = p.submit(1, true);
  auto b = p.submit(2, true);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(count(*a, K::start) + count(*b, K::start), 2u);
  EXPECT_FALSE(p.submit(3, true));  // 2 waiting sync jobs fill max_concurrency
  auto c = p.submit(4, false);
  ASSERT_TRUE(c);
  EXPECT_EQ(count(*c, K::start), 0u);  // no third instance
  EXPECT_EQ(p.counts().waiting_async, 1u);
}

TEST(PoolTest, SyncJobsGoBeforeAsyncJobs) {
  Pool p(1, {1, 0, 60000});
  auto a = p.submit(1, false);
  InstanceId id = find(*a, K::start)->instance;
  p.submit(2, true);
  auto r = p.instance_ready(id);
  ASSERT_NE(find(r, K::dispatch), nullptr);
  EXPECT_EQ(find(r, K::dispatch)->job, 2u);
}

TEST(PoolTest, IdleInstanceStopsAfterItsTimerButNotBelowMinInstances) {
  Pool p(1, {8, 1, 100});
  auto warm = p.set_version(1, {8, 1, 100});
  ASSERT_EQ(count(warm, K::start), 1u);
  InstanceId keep = find(warm, K::start)->instance;
  auto r = p.instance_ready(keep);
  auto* arm = find(r, K::arm_idle);
  ASSERT_NE(arm, nullptr);
  EXPECT_TRUE(p.idle_expired(keep, arm->generation).empty());  // min_instances keeps it

  Pool q(1, {8, 0, 100});
  auto a = q.submit(1, true);
  InstanceId id = find(*a, K::start)->instance;
  q.instance_ready(id);
  auto f = q.job_finished(id);
  auto* arm2 = find(f, K::arm_idle);
  ASSERT_NE(arm2, nullptr);
  auto s = q.idle_expired(id, arm2->generation);
  ASSERT_EQ(count(s, K::stop), 1u);
  q.instance_exited(id);
  EXPECT_EQ(q.counts().live(), 0u);
}

TEST(PoolTest, StaleIdleTimerDoesNothingAfterTheInstanceWorkedAgain) {
  Pool p(1, {8, 0, 100});
  auto a = p.submit(1, true);
  InstanceId id = find(*a, K::start)->instance;
  p.instance_ready(id);
  auto f = p.job_finished(id);
  uint64_t old_gen = find(f, K::arm_idle)->generation;
  p.submit(2, true);  // dispatched to the idle instance
  p.job_finished(id);
  EXPECT_TRUE(p.idle_expired(id, old_gen).empty());
}

TEST(PoolTest, MostRecentlyUsedIdleInstanceIsChosenSoOthersCanIdleOut) {
  Pool p(1, {8, 0, 100});
  auto a = p.submit(1, true);
  auto b = p.submit(2, true);
  InstanceId i1 = find(*a, K::start)->instance, i2 = find(*b, K::start)->instance;
  p.instance_ready(i1);
  p.instance_ready(i2);
  p.job_finished(i1);
  p.job_finished(i2);  // i2 became idle last
  auto c = p.submit(3, true);
  EXPECT_EQ(find(*c, K::dispatch)->instance, i2);
}

TEST(PoolTest, NewVersionStopsIdleOldInstancesAndLetsBusyOnesFinish) {
  Pool p(1, {8, 0, 60000});
  auto a = p.submit(1, true);
  auto b = p.submit(2, true);
  InstanceId busy = find(*a, K::start)->instance, idle = find(*b, K::start)->instance;
  p.instance_ready(busy);
  p.instance_ready(idle);
  p.job_finished(idle);
  auto v = p.set_version(2, {8, 0, 60000});
  ASSERT_EQ(count(v, K::stop), 1u);
  EXPECT_EQ(find(v, K::stop)->instance, idle);
  // A new job does not go to the old busy instance when it finishes: that one stops.
  auto c = p.submit(3, true);
  ASSERT_EQ(count(*c, K::start), 1u);
  EXPECT_EQ(find(*c, K::start)->version, 2);
  auto f = p.job_finished(busy);
  EXPECT_EQ(count(f, K::stop), 1u);
  EXPECT_EQ(count(f, K::dispatch), 0u);
}

TEST(PoolTest, InstanceDyingDuringInitFailsTheOldestWaitingJob) {
  Pool p(1, {1, 0, 60000});
  auto a = p.submit(7, true);
  InstanceId id = find(*a, K::start)->instance;
  p.submit(8, false);
  auto e = p.instance_exited(id);
  auto* fail = find(e, K::fail_job);
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(fail->job, 7u);
  EXPECT_EQ(count(e, K::start), 1u);  // job 8 still waits: a new instance starts for it
}

TEST(PoolTest, CrashAfterReadyDoesNotFailWaitingJobsAndIsReplaced) {
  Pool p(1, {1, 0, 60000});
  auto a = p.submit(1, true);
  InstanceId id = find(*a, K::start)->instance;
  p.instance_ready(id);  // job 1 dispatched
  p.submit(2, false);
  auto e = p.instance_exited(id);
  EXPECT_EQ(count(e, K::fail_job), 0u);
  EXPECT_EQ(count(e, K::start), 1u);
}

TEST(PoolTest, WithdrawnJobIsNotDispatched) {
  Pool p(1, {1, 0, 60000});
  auto a = p.submit(1, true);
  InstanceId id = find(*a, K::start)->instance;
  EXPECT_TRUE(p.withdraw(1));
  EXPECT_FALSE(p.withdraw(1));
  EXPECT_EQ(count(p.instance_ready(id), K::dispatch), 0u);
}

}  // namespace
}  // namespace eddy::functions
