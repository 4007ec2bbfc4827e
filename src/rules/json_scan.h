// The lexical steps of the matcher's one-pass event reader: whitespace, the end of a string,
// unescaping, numbers, literals and skipping a whole value. Each works on [p, end) and reads
// nothing outside it; none allocates.
//
// These accept exactly the JSON grammar for what they return (strings, numbers, literals)
// and give up (nullptr, false) on anything else, including input they could read but choose
// not to (numbers that do not fit a double, lone UTF-16 surrogates); the caller then reads
// the event with the DOM parser of event_json.h, whose answer is the reference. Skipping a
// value only finds where it ends: its insides are not validated.
//
// Threading: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eddy::rules::scan {

// Deeper nesting is refused, so that such events go to the DOM parser (whose limit is
// 1024) and its answer holds.
constexpr size_t kMaxDepth = 1000;

const char* skip_ws_slow(const char* p, const char* end);
inline const char* skip_ws(const char* p, const char* end) {
  if (p<end&& static_cast<unsigned char>(*p)> ' ') return p;  // compact JSON: no whitespace
  return skip_ws_slow(p, end);
}

const char* string_end_slow(const char* p, const char* end, bool& escaped);
// `p` is just past a string's opening quote. Returns its closing quote, or nullptr when the
// input ends first or the string holds a raw control character (JSON wants those escaped).
// Sets `escaped` when the string holds a backslash.
inline const char* string_end(const char* p, const char* end, bool& escaped) {
#if defined(__SSE2__)
  // Most strings (keys above all) end within 16 bytes without an escape.
  if (end - p >= 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i max_control = _mm_set1_epi8(0x1F);
    unsigned q =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('"'))));
    unsigned b =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'))));
    unsigned c = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(chunk, max_control), max_control)));
    if (q != 0 && ((b | c) & ((q & (0u - q)) - 1)) == 0) return p + __builtin_ctz(q);
  }
#endif
  return string_end_slow(p, end, escaped);
}

// Writes the unescaped form of a string's raw contents (between its quotes) to `out`,
// which has room for raw.size() bytes (unescaping never lengthens). Returns the length
// written, or -1 for an invalid escape or a lone surrogate.
ptrdiff_t unescape(std::string_view raw, char* out);

// Whether unescape() would accept `raw`, without writing anything: skipped strings holding
// a backslash are checked this way, so an event the DOM parser refuses is refused here too.
bool escapes_valid(std::string_view raw);

// Reads the number at `p` into `out` (the nearest double). Returns the first byte past
// it, or nullptr when the text there is not a JSON number or its value is beyond the
// double range.
const char* number(const char* p, const char* end, double& out);

// The first byte past the literal `word` ("true", "false", "null") at `p`, or nullptr.
const char* literal(const char* p, const char* end, std::string_view word);

// The first byte past the value at `p` (which starts at p, no whitespace before it), or
// nullptr when it does not end before `end` or nests deeper than `depth_left`.
const char* skip_value(const char* p, const char* end, size_t depth_left);

}  // namespace eddy::rules::scan
