#include "bus/backoff.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <ctime>

namespace eddy::bus {

int64_t backoff_ms(const RetryPolicy& policy, uint32_t failed_attempts, double unit) {
  const int64_t cap = std::max<int64_t>(policy.max_backoff_ms, 0);
  int64_t d = std::clamp<int64_t>(policy.initial_backoff_ms, 0, cap);
  for (uint32_t i = 1; i < failed_attempts && d < cap; ++i) d = std::min(cap, d * 2);
  unit = std::clamp(unit, 0.0, 1.0);
  const int64_t half = d / 2;
  return half + static_cast<int64_t>(std::floor(static_cast<double>(d - half) * unit));
}

namespace {

bool parse_int(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 requires senders to use.
std::optional<int64_t> parse_imf_fixdate(std::string_view s) {
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto m = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (m == kMonths.end()) return std::nullopt;
  std::tm tm{};
  tm.tm_mon = static_cast<int>(m - kMonths.begin());
  int year = 0;
  if (!parse_int(s.substr(5, 2), tm.tm_mday) || !parse_int(s.substr(12, 4), year) ||
      !parse_int(s.substr(17, 2), tm.tm_hour) || !parse_int(s.substr(20, 2), tm.tm_min) ||
      !parse_int(s.substr(23, 2), tm.tm_sec)) {
    return std::nullopt;
  }
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

}  // namespace

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    // Huge values saturate instead of failing: "wait a very long time" is what they mean.
    if (value.size() > 12) return INT64_MAX / 4;
    int64_t seconds = 0;
    std::from_chars(value.data(), value.data() + value.size(), seconds);
    return seconds * 1000;
  }
  auto at = parse_imf_fixdate(value);
  if (!at) return std::nullopt;
  return std::max<int64_t>(0, *at - now_ms);
}

int64_t retry_delay_ms(const RetryPolicy& policy, uint32_t failed_attempts,
                       std::optional<int64_t> retry_after_ms, double unit) {
  if (retry_after_ms) return std::clamp<int64_t>(*retry_after_ms, 0, policy.retry_after_max_ms);
  return backoff_ms(policy, failed_attempts, unit);
}

}  // namespace eddy::bus
