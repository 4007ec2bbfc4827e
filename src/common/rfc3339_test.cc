#include "common/rfc3339.h"

#include <gtest/gtest.h>

#include <string>

namespace eddy {
namespace {

int64_t ms(std::string_view text) {
  auto r = parse_rfc3339_ms(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : INT64_MIN;
}

int64_t us(std::string_view text) {
  auto r = parse_rfc3339_us(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : INT64_MIN;
}

TEST(Rfc3339, ParsesUtcToEpochMilliseconds) {
  EXPECT_EQ(ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ms("2000-03-01T00:00:00Z"), 951868800000);
  EXPECT_EQ(ms("2026-11-27T13:33:34Z"), 1795786414000);
  EXPECT_EQ(ms("9999-12-31T23:59:59.999Z"), 253402300799999);
  EXPECT_EQ(ms("0000-01-01T00:00:00Z"), -62167219200000);
}

TEST(Rfc3339, FractionsKeepTheirPrecisionAndTruncateBeyondIt) {
  EXPECT_EQ(ms("2026-11-27T13:33:34.1Z"), 1795786414100);
  EXPECT_EQ(ms("2026-11-27T13:33:34.12Z"), 1795786414120);
  EXPECT_EQ(ms("2026-11-27T13:33:34.123Z"), 1795786414123);
  EXPECT_EQ(ms("2026-11-27T13:33:34.1239Z"), 1795786414123);
  EXPECT_EQ(us("2026-11-27T13:33:34.123456Z"), 1795786414123456);
  EXPECT_EQ(us("2026-11-27T13:33:34.123456789Z"), 1795786414123456);
  EXPECT_EQ(us("2026-11-27T13:33:34.000001Z"), 1795786414000001);
}

TEST(Rfc3339, BeforeTheEpochFractionsRoundTowardThePast) {
  EXPECT_EQ(us("1969-12-31T23:59:59.9999995Z"), -1);
  EXPECT_EQ(ms("1969-12-31T23:59:59.9999Z"), -1);
  EXPECT_EQ(ms("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ms("1969-12-31T23:59:59.000Z"), -1000);
}

TEST(Rfc3339, OffsetsAreAppliedToReachUtc) {
  const int64_t utc = ms("2026-11-27T13:33:34Z");
  EXPECT_EQ(ms("2026-11-27T14:33:34+01:00"), utc);
  EXPECT_EQ(ms("2026-11-27T08:03:34-05:30"), utc);
  EXPECT_EQ(ms("2026-11-28T03:33:34+14:00"), utc);
  EXPECT_EQ(ms("2026-11-27T13:33:34+00:00"), utc);
  EXPECT_EQ(ms("2026-11-27T13:33:34-00:00"), utc);
  EXPECT_EQ(ms("2026-11-27t13:33:34z"), utc);
}

TEST(Rfc3339, LeapDaysFollowTheGregorianRules) {
  EXPECT_EQ(ms("2024-02-29T00:00:00Z") - ms("2024-02-28T00:00:00Z"), 86400000);
  EXPECT_EQ(ms("2000-02-29T12:00:00Z") + 43200000, ms("2000-03-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339_ms("2023-02-29T00:00:00Z").ok());
  EXPECT_FALSE(parse_rfc3339_ms("1900-02-29T00:00:00Z").ok());
  EXPECT_FALSE(parse_rfc3339_ms("2024-04-31T00:00:00Z").ok());
}

TEST(Rfc3339, LeapSecondMapsToTheEndOfTheSecondBeforeIt) {
  EXPECT_EQ(ms("2016-12-31T23:59:60Z"), ms("2016-12-31T23:59:59.999Z"));
  EXPECT_EQ(us("2016-12-31T23:59:60.5Z"), us("2016-12-31T23:59:59.999999Z"));
  EXPECT_LT(ms("2016-12-31T23:59:60Z"), ms("2017-01-01T00:00:00Z"));
  // The same UTC instant written with an offset.
  EXPECT_EQ(ms("2017-01-01T00:59:60+01:00"), ms("2016-12-31T23:59:59.999Z"));
  auto not_end_of_day = parse_rfc3339_ms("2016-12-31T12:30:60Z");
  ASSERT_FALSE(not_end_of_day.ok());
  EXPECT_NE(not_end_of_day.error().message.find("leap second"), std::string::npos);
  EXPECT_FALSE(parse_rfc3339_ms("2016-12-31T23:59:60+01:00").ok());
}

TEST(Rfc3339, RejectsMalformedTextWithAReason) {
  const char* bad[] = {
      "",
      "2026-11-27",
      "2026-11-27T13:33:34",     // no time zone
      "2026-11-27 13:33:34Z",    // space separator
      "2026-11-27T13:33Z",       // no seconds
      "2026-11-27T13:33:34.Z",   // empty fraction
      "2026-11-27T13:33:34,5Z",  // comma fraction
      "2026-13-01T00:00:00Z",
      "2026-00-01T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-27T24:00:00Z",
      "2026-11-27T23:60:00Z",
      "2026-11-27T23:59:61Z",
      "2026-11-27T13:33:34+0100",
      "2026-11-27T13:33:34+24:00",
      "2026-11-27T13:33:34+01:60",
      "2026-11-27T13:33:34Zjunk",
      "2026-11-27T13:33:34Z ",
      " 2026-11-27T13:33:34Z",
      "+2026-11-27T13:33:34Z",
      "20261127T133334Z",
      "2026-1-27T13:33:34Z",
      "2026-11-27T13:33:3aZ",
      "2026-11-27T13:33:34+01",
  };
  for (const char* text : bad) {
    auto r = parse_rfc3339_ms(text);
    ASSERT_FALSE(r.ok()) << "accepted '" << text << "'";
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("RFC 3339"), std::string::npos) << r.error().message;
  }
}

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1795786414123), "2026-11-27T13:33:34.123Z");
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(Rfc3339, FormatClampsToTheYearsRfc3339CanWrite) {
  EXPECT_EQ(format_rfc3339_ms(INT64_MAX), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_rfc3339_ms(INT64_MIN), "0000-01-01T00:00:00.000Z");
}

TEST(Rfc3339, FormatThenParseIsTheIdentity) {
  // Every ~37 hours plus an odd number of ms from year 0 to 9999 exercises all months,
  // leap years and times of day.
  const int64_t kStep = 37LL * 3600 * 1000 + 12345;
  for (int64_t t = -62167219200000; t < 253402300799999; t += kStep) {
    std::string text = format_rfc3339_ms(t);
    auto back = parse_rfc3339_ms(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(*back, t) << text;
  }
}

}  // namespace
}  // namespace eddy
