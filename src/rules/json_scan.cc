#include "rules/json_scan.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <simdjson.h>

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

// What classifying found besides the masks.
struct Facts {
  bool backslash = false;
  bool non_ascii = false;
};

// State carried from one block to the next.
struct Carry {
  uint64_t escape = 0;     // 1: the block's first byte is escaped
  uint64_t in_string = 0;  // all ones: the block starts inside a string
};

// The bytes of a block that a backslash escapes, given its backslashes `bs`: a backslash
// escapes the next byte unless it is escaped itself.
uint64_t escaped_bytes(uint64_t bs, Carry& carry) {
  uint64_t escaped = carry.escape;
  bs &= ~carry.escape;
  carry.escape = 0;
  while (bs != 0) {
    int i = __builtin_ctzll(bs);
    if (i == 63) {
      carry.escape = 1;
      break;
    }
    escaped |= uint64_t{2} << i;
    bs &= ~(uint64_t{3} << i);
  }
  return escaped;
}

// Whether the control characters at `outside` (bits of the block at `src`, outside strings)
// are all JSON whitespace. Compact events have none.
bool only_whitespace(const char* src, uint64_t outside) {
  for (; outside != 0; outside &= outside - 1) {
    char c = src[__builtin_ctzll(outside)];
    if (c != '\n' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// The masks of the block at `src` from its per-byte classes; false when it holds a raw
// control character that is not whitespace between tokens, or a backslash outside any
// string.
[[gnu::always_inline]] inline bool finish_block(const char* src, uint64_t quotes, uint64_t bs,
                                                uint64_t opens, uint64_t closes, uint64_t ctrl,
                                                uint64_t in_string_of(uint64_t), Carry& carry,
                                                Block& out) {
  uint64_t escaped = (bs | carry.escape) != 0 ? escaped_bytes(bs, carry) : 0;
  quotes &= ~escaped;
  uint64_t in_string = in_string_of(quotes) ^ carry.in_string;
  carry.in_string = static_cast<uint64_t>(static_cast<int64_t>(in_string) >> 63);
  out = Block{quotes, opens & ~in_string, closes & ~in_string};
  if (((ctrl & in_string) | (bs & ~escaped & ~in_string)) != 0) return false;
  return (ctrl & ~in_string) == 0 || only_whitespace(src, ctrl & ~in_string);
}

// Bit i set when an odd number of bits at or below i are set in `quotes`: inside a string
// (its opening quote included, its closing quote not).
uint64_t prefix_xor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// The start of block `b` of a text of `size` bytes; the last, partial block is copied to
// `last`, padded with spaces (nothing to classify there).
inline const char* block_start(const char* text, size_t size, size_t b, char* last) {
  const char* src = text + b * 64;
  if ((b + 1) * 64 <= size) return src;
  std::memset(last, ' ', 64);
  std::memcpy(last, src, size - b * 64);
  return last;
}

bool classify_portable(const char* text, size_t size, Block* out, Facts& facts) {
  Carry carry;
  char last[64];
  for (size_t b = 0; b < (size + 63) / 64; ++b) {
    const char* src = block_start(text, size, b, last);
    uint64_t quotes = 0, bs = 0, opens = 0, closes = 0, ctrl = 0;
    for (int i = 0; i < 64; ++i) {
      auto c = static_cast<unsigned char>(src[i]);
      uint64_t bit = uint64_t{1} << i;
      quotes |= c == '"' ? bit : 0;
      bs |= c == '\\' ? bit : 0;
      opens |= (c | 0x20) == '{' ? bit : 0;
      closes |= (c | 0x20) == '}' ? bit : 0;
      ctrl |= c < 0x20 ? bit : 0;
      facts.non_ascii |= c >= 0x80;
    }
    facts.backslash |= bs != 0;
    if (!finish_block(src, quotes, bs, opens, closes, ctrl, prefix_xor, carry, out[b])) {
      return false;
    }
  }
  return carry.in_string == 0;
}

#if defined(__x86_64__)
[[gnu::target("avx2,pclmul"), gnu::always_inline]] inline uint64_t prefix_xor_clmul(uint64_t x) {
  __m128i all = _mm_set1_epi8(static_cast<char>(0xFF));
  return static_cast<uint64_t>(
      _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<int64_t>(x)), all, 0)));
}

[[gnu::target("avx2,pclmul"), gnu::always_inline]] inline uint64_t bits64(__m256i lo, __m256i hi) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(lo)) |
         uint64_t{static_cast<uint32_t>(_mm256_movemask_epi8(hi))} << 32;
}

[[gnu::target("avx2,pclmul")]] bool classify_avx2(const char* text, size_t size, Block* out,
                                                  Facts& facts) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i lower = _mm256_set1_epi8(0x20);  // '[' | 0x20 is '{', ']' | 0x20 is '}'
  const __m256i open = _mm256_set1_epi8('{');
  const __m256i close = _mm256_set1_epi8('}');
  const __m256i max_control = _mm256_set1_epi8(0x1F);
  __m256i high = _mm256_setzero_si256();
  uint64_t any_bs = 0;
  bool ok = true;
  Carry carry;
  alignas(32) char last[64];
  for (size_t b = 0; b < (size + 63) / 64; ++b) {
    const char* src = block_start(text, size, b, last);
    __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32));
    high = _mm256_or_si256(high, _mm256_or_si256(lo, hi));
    uint64_t quotes = bits64(_mm256_cmpeq_epi8(lo, quote), _mm256_cmpeq_epi8(hi, quote));
    uint64_t bs = bits64(_mm256_cmpeq_epi8(lo, backslash), _mm256_cmpeq_epi8(hi, backslash));
    __m256i lo_l = _mm256_or_si256(lo, lower), hi_l = _mm256_or_si256(hi, lower);
    uint64_t opens = bits64(_mm256_cmpeq_epi8(lo_l, open), _mm256_cmpeq_epi8(hi_l, open));
    uint64_t closes = bits64(_mm256_cmpeq_epi8(lo_l, close), _mm256_cmpeq_epi8(hi_l, close));
    uint64_t ctrl = bits64(_mm256_cmpeq_epi8(_mm256_max_epu8(lo, max_control), max_control),
                           _mm256_cmpeq_epi8(_mm256_max_epu8(hi, max_control), max_control));
    any_bs |= bs;
    ok &= finish_block(src, quotes, bs, opens, closes, ctrl, prefix_xor_clmul, carry, out[b]);
  }
  facts.backslash = any_bs != 0;
  facts.non_ascii = _mm256_movemask_epi8(high) != 0;
  return ok && carry.in_string == 0;
}

// The same with AVX-512BW: one comparison gives a block's mask of a byte class.
[[gnu::target("avx512f,avx512bw,avx2,pclmul")]] bool classify_avx512(const char* text, size_t size,
                                                                     Block* out, Facts& facts) {
  const __m512i quote = _mm512_set1_epi8('"');
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i lower = _mm512_set1_epi8(0x20);
  const __m512i open = _mm512_set1_epi8('{');
  const __m512i close = _mm512_set1_epi8('}');
  const __m512i max_control = _mm512_set1_epi8(0x1F);
  uint64_t high = 0, any_bs = 0;
  bool ok = true;
  Carry carry;
  alignas(64) char last[64];
  for (size_t b = 0; b < (size + 63) / 64; ++b) {
    const char* src = block_start(text, size, b, last);
    __m512i x = _mm512_loadu_si512(src);
    __m512i x_l = _mm512_or_si512(x, lower);
    uint64_t bs = _mm512_cmpeq_epi8_mask(x, backslash);
    high |= _mm512_movepi8_mask(x);
    any_bs |= bs;
    ok &= finish_block(src, _mm512_cmpeq_epi8_mask(x, quote), bs, _mm512_cmpeq_epi8_mask(x_l, open),
                       _mm512_cmpeq_epi8_mask(x_l, close), _mm512_cmple_epu8_mask(x, max_control),
                       prefix_xor_clmul, carry, out[b]);
  }
  facts.backslash = any_bs != 0;
  facts.non_ascii = high != 0;
  return ok && carry.in_string == 0;
}
#endif

}  // namespace

const char* skip_ws_slow(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  return p;
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

bool avx2_supported() {
#if defined(__x86_64__)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul");
  return supported;
#else
  return false;
#endif
}

bool avx512_supported() {
#if defined(__x86_64__)
  static const bool supported =
      avx2_supported() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return supported;
#else
  return false;
#endif
}

bool EventText::classify(std::string_view text, Isa isa) {
  base_ = text.data();
  end_ = text.data() + text.size();
  blocks_.resize((text.size() + 63) / 64 + 1);
  if (isa == Isa::best) {
    isa = avx512_supported() ? Isa::avx512 : avx2_supported() ? Isa::avx2 : Isa::portable;
  }
  Facts facts;
  bool ok;
#if defined(__x86_64__)
  if (isa == Isa::avx512) {
    ok = classify_avx512(text.data(), text.size(), blocks_.data(), facts);
  } else if (isa == Isa::avx2) {
    ok = classify_avx2(text.data(), text.size(), blocks_.data(), facts);
  } else
#endif
  {
    ok = classify_portable(text.data(), text.size(), blocks_.data(), facts);
  }
  blocks_.back() = Block{~uint64_t{0}, 0, 0};
  backslash_ = facts.backslash;
  if (!ok) return false;
  if (facts.non_ascii && !simdjson::validate_utf8(text.data(), text.size())) return false;
  return !facts.backslash || escapes_valid(text);
}

const char* EventText::skip_nested(const char* p, size_t depth_left) const {
  if (depth_left == 0) return nullptr;
  size_t i = static_cast<size_t>(p - base_) + 1;
  size_t b = i >> 6;
  size_t last = blocks_.size() - 1;  // the sentinel: nothing of the text is there
  uint64_t from = ~uint64_t{0} << (i & 63);
  uint64_t opens = blocks_[b].opens & from;
  uint64_t closes = blocks_[b].closes & from;
  size_t depth = 1;
  for (;;) {
    // Brackets in order; skipped values are small, so bit by bit is cheaper than counting.
    for (uint64_t all = opens | closes; all != 0; all &= all - 1) {
      uint64_t bit = all & (0 - all);
      if (opens & bit) {
        if (++depth > depth_left) return nullptr;
      } else if (--depth == 0) {
        return base_ + (b << 6) + __builtin_ctzll(bit) + 1;
      }
    }
    if (++b >= last) return nullptr;
    opens = blocks_[b].opens;
    closes = blocks_[b].closes;
  }
}

}  // namespace eddy::rules::scan
