#include "common/rfc3339.h"

#include <fmt/format.h>

#include <algorithm>

namespace eddy {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kUsPerSecond = 1'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

constexpr bool is_leap_year(int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

constexpr unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

constexpr int64_t kMinMs = days_from_civil(0, 1, 1) * kSecondsPerDay * 1000;
constexpr int64_t kMaxMs = (days_from_civil(9999, 12, 31) + 1) * kSecondsPerDay * 1000 - 1;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads `n` digits at `pos`; false when any is not a digit or the text is too short.
bool read_digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  out = v;
  return true;
}

Error bad(std::string_view text, std::string_view why) {
  std::string_view shown = text.substr(0, 64);
  return make_error(Errc::invalid_argument,
                    fmt::format("'{}{}' is not an RFC 3339 timestamp: {}; use a form like "
                                "2024-01-31T12:00:00Z or 2024-01-31T13:00:00.250+01:00",
                                shown, shown.size() < text.size() ? "..." : "", why));
}

bool expect(std::string_view s, size_t pos, char c) {
  return pos < s.size() && s[pos] == c;
}

}  // namespace

Result<int64_t> parse_rfc3339_us(std::string_view s) {
  unsigned year, month, day, hour, minute, second;
  if (!read_digits(s, 0, 4, year) || !expect(s, 4, '-') || !read_digits(s, 5, 2, month) ||
      !expect(s, 7, '-') || !read_digits(s, 8, 2, day)) {
    return bad(s, "the date must be YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return bad(s, fmt::format("month {} is out of range", month));
  if (day < 1 || day > days_in_month(year, month)) {
    return bad(s, fmt::format("day {} does not exist in {:04}-{:02}", day, year, month));
  }
  if (!expect(s, 10, 'T') && !expect(s, 10, 't')) {
    return bad(s, "the date must be followed by 'T' and a time");
  }
  if (!read_digits(s, 11, 2, hour) || !expect(s, 13, ':') || !read_digits(s, 14, 2, minute) ||
      !expect(s, 16, ':') || !read_digits(s, 17, 2, second)) {
    return bad(s, "the time must be hh:mm:ss");
  }
  if (hour > 23) return bad(s, fmt::format("hour {} is out of range", hour));
  if (minute > 59) return bad(s, fmt::format("minute {} is out of range", minute));
  if (second > 60) return bad(s, fmt::format("second {} is out of range", second));

  size_t pos = 19;
  int64_t fraction_us = 0;
  if (expect(s, pos, '.')) {
    ++pos;
    size_t digits = 0;
    int64_t scale = kUsPerSecond;
    while (pos < s.size() && is_digit(s[pos])) {
      if (digits < 6) {
        scale /= 10;
        fraction_us += (s[pos] - '0') * scale;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad(s, "a '.' must be followed by fraction digits");
  }

  int64_t offset_seconds = 0;
  if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
    ++pos;
  } else if (expect(s, pos, '+') || expect(s, pos, '-')) {
    const bool negative = s[pos] == '-';
    unsigned off_hour, off_minute;
    if (!read_digits(s, pos + 1, 2, off_hour) || !expect(s, pos + 3, ':') ||
        !read_digits(s, pos + 4, 2, off_minute)) {
      return bad(s, "the offset must be Z or +hh:mm / -hh:mm");
    }
    if (off_hour > 23 || off_minute > 59) return bad(s, "the offset is out of range");
    offset_seconds = static_cast<int64_t>(off_hour) * 3600 + off_minute * 60;
    if (negative) offset_seconds = -offset_seconds;
    pos += 6;
  } else {
    return bad(s, "a time zone (Z or +hh:mm / -hh:mm) is required");
  }
  if (pos != s.size()) return bad(s, "unexpected text after the time zone");

  const bool leap = second == 60;
  const int64_t utc_seconds = days_from_civil(year, month, day) * kSecondsPerDay +
                              int64_t{hour} * 3600 + minute * 60 + (leap ? 59 : second) -
                              offset_seconds;
  if (leap) {
    const int64_t second_of_day =
        ((utc_seconds % kSecondsPerDay) + kSecondsPerDay) % kSecondsPerDay;
    if (second_of_day != kSecondsPerDay - 1) {
      return bad(s, "second 60 (a leap second) can only occur at 23:59:60 UTC");
    }
    fraction_us = kUsPerSecond - 1;
  }
  return utc_seconds * kUsPerSecond + fraction_us;
}

Result<int64_t> parse_rfc3339_ms(std::string_view text) {
  auto us = parse_rfc3339_us(text);
  if (!us) return std::move(us).error();
  const int64_t v = *us;
  return v >= 0 ? v / 1000 : -((-v + 999) / 1000);  // floor: fraction digits truncate to the past
}

void append_rfc3339_ms(std::string& out, int64_t ms) {
  ms = std::clamp(ms, kMinMs, kMaxMs);
  constexpr int64_t kMsPerDay = kSecondsPerDay * 1000;
  int64_t days = ms / kMsPerDay;
  int64_t ms_of_day = ms % kMsPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMsPerDay;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto hour = static_cast<unsigned>(ms_of_day / 3'600'000);
  const auto minute = static_cast<unsigned>(ms_of_day / 60'000 % 60);
  const auto second = static_cast<unsigned>(ms_of_day / 1000 % 60);
  const auto milli = static_cast<unsigned>(ms_of_day % 1000);

  char buf[24];
  auto put = [&buf](size_t pos, unsigned v, size_t width) {
    for (size_t i = width; i > 0; --i) {
      buf[pos + i - 1] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, static_cast<unsigned>(c.year), 4);
  buf[4] = '-';
  put(5, c.month, 2);
  buf[7] = '-';
  put(8, c.day, 2);
  buf[10] = 'T';
  put(11, hour, 2);
  buf[13] = ':';
  put(14, minute, 2);
  buf[16] = ':';
  put(17, second, 2);
  buf[19] = '.';
  put(20, milli, 3);
  buf[23] = 'Z';
  out.append(buf, sizeof buf);
}

std::string format_rfc3339_ms(int64_t ms) {
  std::string out;
  append_rfc3339_ms(out, ms);
  return out;
}

}  // namespace eddy
