#include "bus/backoff.h"

#include <gtest/gtest.h>

namespace eddy::bus {
namespace {

TEST(BackoffTest, DoublesFromTheInitialDelayUpToTheCap) {
  RetryPolicy p;
  p.initial_backoff_ms = 100;
  p.max_backoff_ms = 1000;
  // unit just below 1 gives the top of the jitter range: the un-jittered delay.
  EXPECT_EQ(backoff_ms(p, 1, 0.9999999), 99);
  EXPECT_EQ(backoff_ms(p, 2, 0.9999999), 199);
  EXPECT_EQ(backoff_ms(p, 3, 0.9999999), 399);
  EXPECT_EQ(backoff_ms(p, 4, 0.9999999), 799);
  EXPECT_EQ(backoff_ms(p, 5, 0.9999999), 999);
  EXPECT_EQ(backoff_ms(p, 500, 0.9999999), 999);
}

TEST(BackoffTest, JitterKeepsAtLeastHalfTheDelay) {
  RetryPolicy p;
  p.initial_backoff_ms = 1000;
  p.max_backoff_ms = 60000;
  EXPECT_EQ(backoff_ms(p, 1, 0.0), 500);
  EXPECT_EQ(backoff_ms(p, 3, 0.0), 2000);
  EXPECT_EQ(backoff_ms(p, 3, 0.5), 3000);
  for (double u = 0; u < 1; u += 0.01) {
    auto d = backoff_ms(p, 2, u);
    EXPECT_GE(d, 1000);
    EXPECT_LT(d, 2000);
  }
}

TEST(BackoffTest, ZeroInitialMeansImmediateRetry) {
  RetryPolicy p;
  p.initial_backoff_ms = 0;
  EXPECT_EQ(backoff_ms(p, 7, 0.7), 0);
}

TEST(BackoffTest, RetryAfterSecondsAndDates) {
  const int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("120", now), 120000);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), 10000);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now), 0);  // in the past
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 0), 0);
}

TEST(BackoffTest, MalformedRetryAfterIsIgnored) {
  for (const char* bad :
       {"", "-5", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC", "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 36 Nov 1994 08:49:37 GMT"}) {
    EXPECT_FALSE(parse_retry_after(bad, 0).has_value()) << bad;
  }
}

TEST(BackoffTest, RetryAfterWinsOverBackoffButIsCapped) {
  RetryPolicy p;
  p.initial_backoff_ms = 10;
  p.retry_after_max_ms = 5000;
  EXPECT_EQ(retry_delay_ms(p, 1, 2000, 0.3), 2000);
  EXPECT_EQ(retry_delay_ms(p, 1, 3600000, 0.3), 5000);
  EXPECT_EQ(retry_delay_ms(p, 1, std::nullopt, 0.0), 5);
  EXPECT_EQ(retry_delay_ms(p, 1, parse_retry_after("99999999999999999999", 0), 0), 5000);
}

}  // namespace
}  // namespace eddy::bus
