#include "rules/json_scan.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace eddy::rules::scan {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits at p (p + 4 <= end), or -1.
int32_t hex4(const char* p) {
  int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int d = hex_digit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

char* put_utf8(uint32_t cp, char* out) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Powers of ten that doubles hold exactly.
constexpr double kExact10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

}  // namespace

const char* skip_ws_slow(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  return p;
}

const char* string_end_slow(const char* p, const char* end, bool& escaped) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i max_control = _mm_set1_epi8(0x1F);
  while (end - p >= 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned q = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quote)));
    unsigned b = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash)));
    unsigned c = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(chunk, max_control), max_control)));
    unsigned stop = q | b | c;
    if (stop == 0) {
      p += 16;
      continue;
    }
    unsigned first = stop & (0u - stop);
    p += __builtin_ctz(stop);
    if (first & q) return p;
    if (first & c) return nullptr;
    // A backslash: it and the byte it escapes are skipped.
    escaped = true;
    p += 2;
  }
#endif
  while (p < end) {
    auto ch = static_cast<unsigned char>(*p);
    if (ch == '"') return p;
    if (ch < 0x20) return nullptr;
    if (ch == '\\') {
      escaped = true;
      p += 2;
      continue;
    }
    ++p;
  }
  return nullptr;
}

ptrdiff_t unescape(std::string_view raw, char* out) {
  const char* p = raw.data();
  const char* end = p + raw.size();
  char* o = out;
  while (p < end) {
    const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
    if (!bs) bs = end;
    std::memcpy(o, p, static_cast<size_t>(bs - p));
    o += bs - p;
    p = bs;
    if (p == end) break;
    if (end - p < 2) return -1;
    char c = p[1];
    p += 2;
    switch (c) {
      case '"':
        *o++ = '"';
        break;
      case '\\':
        *o++ = '\\';
        break;
      case '/':
        *o++ = '/';
        break;
      case 'b':
        *o++ = '\b';
        break;
      case 'f':
        *o++ = '\f';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'u': {
        if (end - p < 4) return -1;
        int32_t cp = hex4(p);
        if (cp < 0) return -1;
        p += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;  // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
          int32_t lo = hex4(p + 2);
          if (lo < 0xDC00 || lo > 0xDFFF) return -1;
          p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        // "\uXXXX" (6 bytes) becomes at most 3 bytes, a pair (12) 4: never longer.
        o = put_utf8(static_cast<uint32_t>(cp), o);
        break;
      }
      default:
        return -1;
    }
  }
  return o - out;
}

bool escapes_valid(std::string_view raw) {
  const char* p = raw.data();
  const char* end = p + raw.size();
  while ((p = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)))) !=
         nullptr) {
    if (end - p < 2) return false;
    char c = p[1];
    p += 2;
    if (c == 'u') {
      if (end - p < 4) return false;
      int32_t cp = hex4(p);
      p += 4;
      if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
        int32_t lo = hex4(p + 2);
        if (lo < 0xDC00 || lo > 0xDFFF) return false;
        p += 6;
      }
    } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
               c != 't') {
      return false;
    }
  }
  return true;
}

const char* number(const char* p, const char* end, double& out) {
  const char* start = p;
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  if (p == end || !is_digit(*p)) return nullptr;
  uint64_t mantissa = 0;
  int digits = 0;        // significant digits taken into `mantissa` (at most 19)
  int dropped = 0;       // integer digits beyond those 19
  bool inexact = false;  // nonzero digits were not taken
  if (*p == '0') {
    ++p;
  } else {
    for (; p < end && is_digit(*p); ++p) {
      if (digits < 19) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
        ++digits;
      } else {
        ++dropped;
        inexact = true;
      }
    }
  }
  int exponent = dropped;
  bool plain_integer = true;
  if (p < end && *p == '.') {
    plain_integer = false;
    ++p;
    if (p == end || !is_digit(*p)) return nullptr;
    for (; p < end && is_digit(*p); ++p) {
      if (mantissa == 0 && *p == '0') {
        --exponent;  // leading zeros of a fraction are not significant
      } else if (digits < 19) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
        ++digits;
        --exponent;
      } else if (*p != '0') {
        inexact = true;
      }
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    plain_integer = false;
    ++p;
    bool minus = false;
    if (p < end && (*p == '+' || *p == '-')) minus = *p++ == '-';
    if (p == end || !is_digit(*p)) return nullptr;
    int64_t e = 0;
    for (; p < end && is_digit(*p); ++p) {
      if (e < 100000) e = e * 10 + (*p - '0');
    }
    exponent += static_cast<int>(minus ? -e : e);
  }
  if (plain_integer && !inexact) {
    // Up to 19 digits fit a uint64; its conversion to double rounds to nearest.
    double v = static_cast<double>(mantissa);
    out = negative ? -v : v;
    return p;
  }
  if (!inexact && mantissa <= (uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
    // Both operands exact, so one correctly rounded operation gives the nearest double.
    double v = static_cast<double>(mantissa);
    v = exponent < 0 ? v / kExact10[-exponent] : v * kExact10[exponent];
    out = negative ? -v : v;
    return p;
  }
  double v = 0;
  auto [q, ec] = std::from_chars(start, p, v);
  if (ec != std::errc() || q != p || !std::isfinite(v)) return nullptr;
  out = v;
  return p;
}

const char* literal(const char* p, const char* end, std::string_view word) {
  if (static_cast<size_t>(end - p) < word.size() || std::memcmp(p, word.data(), word.size()) != 0)
    return nullptr;
  p += word.size();
  if (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || is_digit(*p)))
    return nullptr;
  return p;
}

const char* skip_value(const char* p, const char* end, size_t depth_left) {
  if (p >= end) return nullptr;
  bool escaped = false;
  switch (*p) {
    case '"': {
      const char* q = string_end(p + 1, end, escaped);
      if (!q ||
          (escaped && !escapes_valid(std::string_view(p + 1, static_cast<size_t>(q - p - 1))))) {
        return nullptr;
      }
      return q + 1;
    }
    case '{':
    case '[':
      break;
    default:
      // A number or literal: it ends where a delimiter starts.
      while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
             *p != '\r' && *p != '\t') {
        ++p;
      }
      return p;
  }
  size_t depth = 0;
  while (p < end) {
    switch (*p++) {
      case '"': {
        const char* open = p;
        escaped = false;
        p = string_end(p, end, escaped);
        if (!p ||
            (escaped && !escapes_valid(std::string_view(open, static_cast<size_t>(p - open))))) {
          return nullptr;
        }
        ++p;
        break;
      }
      case '{':
      case '[':
        if (++depth > depth_left) return nullptr;
        break;
      case '}':
      case ']':
        if (--depth == 0) return p;
        break;
      default:
        break;
    }
  }
  return nullptr;
}

}  // namespace eddy::rules::scan
