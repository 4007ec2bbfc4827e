// The lexical steps of the matcher's one-pass event reader. First the whole event is
// classified (EventText): bitmasks of its unescaped quotes and of the brackets outside
// strings, 64 bytes to a word, built with AVX-512 or AVX2 where the CPU has them. The reader then
// finds where a string or a skipped object ends by scanning bits rather than bytes. Classifying
// also checks what the DOM parser would refuse anywhere in the event: invalid UTF-8, raw
// control characters (in strings, and outside them other than whitespace), bad escapes in
// strings and backslashes outside them, an unterminated string. The other steps
// (unescaping, numbers, literals, whitespace) read [p, end) and nothing outside it; none
// allocates.
//
// These accept exactly the JSON grammar for what they return (strings, numbers, literals)
// and give up (nullptr, false) on anything else, including input they could read but choose
// not to (numbers that do not fit a double, lone UTF-16 surrogates); the caller then reads
// the event with the DOM parser of event_json.h, whose answer is the reference. Skipping a
// value only finds where it ends: beyond the checks above, its insides are not validated.
//
// Threading: an EventText is used by one thread at a time; the rest are pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace eddy::rules::scan {

// Deeper nesting is refused, so that such events go to the DOM parser (whose limit is
// 1024) and its answer holds.
constexpr size_t kMaxDepth = 1000;

const char* skip_ws_slow(const char* p, const char* end);
inline const char* skip_ws(const char* p, const char* end) {
  if (p<end&& static_cast<unsigned char>(*p)> ' ') return p;  // compact JSON: no whitespace
  return skip_ws_slow(p, end);
}

// Writes the unescaped form of a string's raw contents (between its quotes) to `out`,
// which has room for raw.size() bytes (unescaping never lengthens). Returns the length
// written, or -1 for an invalid escape or a lone surrogate.
ptrdiff_t unescape(std::string_view raw, char* out);

// Whether unescape() would accept every escape in `raw`, without writing anything.
// classify() checks a whole event's escapes this way.
bool escapes_valid(std::string_view raw);

// Reads the number at `p` into `out` (the nearest double). Returns the first byte past
// it, or nullptr when the text there is not a JSON number or its value is beyond the
// double range.
const char* number(const char* p, const char* end, double& out);

// The first byte past the literal `word` ("true", "false", "null") at `p`, or nullptr.
const char* literal(const char* p, const char* end, std::string_view word);

// Which classifier EventText uses: `best` is AVX-512BW when the CPU has it, else AVX2 (both
// with PCLMULQDQ), else the portable one; tests pick each to compare them.
enum class Isa { best, portable, avx2, avx512 };
bool avx2_supported();
bool avx512_supported();

// 64 bytes of an event: bit i of each word is byte i of the block.
struct Block {
  uint64_t quotes;  // '"' not escaped by a backslash
  uint64_t opens;   // '{' and '[' outside strings
  uint64_t closes;  // '}' and ']' outside strings
};

// One event's text with its structure as bitmasks. Reused from event to event: classify()
// keeps the buffer. The text must stay live and unchanged while positions in it are used.
class EventText {
 public:
  // Classifies `text`. False when the DOM parser would refuse it for a reason found here
  // (see above); the reader must then leave the event to the DOM parser. `isa` avx2 needs
  // avx2_supported(), avx512 avx512_supported().
  bool classify(std::string_view text, Isa isa = Isa::best);

  // Whether the event holds a backslash anywhere (if not, no string needs unescaping).
  bool has_backslash() const { return backslash_; }
  const std::vector<Block>& blocks() const { return blocks_; }

  // `open` is at an opening quote of the classified text. Its closing quote, or nullptr.
  [[gnu::always_inline]] const char* string_end(const char* open) const {
    size_t i = static_cast<size_t>(open - base_) + 1;
    size_t k = i >> 6;
    uint64_t w = blocks_[k].quotes & (~uint64_t{0} << (i & 63));
    while (w == 0) w = blocks_[++k].quotes;  // the last block is all quotes
    const char* q = base_ + (k << 6) + __builtin_ctzll(w);
    return q < end_ ? q : nullptr;
  }

  // The first byte past the value at `p` (inside the classified text, at the value's first
  // byte), or nullptr when it does not end within the text or an object or list in it nests
  // deeper than `depth_left` (the value itself counting as one).
  const char* skip_value(const char* p, size_t depth_left) const {
    switch (*p) {
      case '"': {
        const char* q = string_end(p);
        return q ? q + 1 : nullptr;
      }
      case '{':
      case '[':
        return skip_nested(p, depth_left);
      default:
        return scalar_end(p);
    }
  }

  // `p` is inside an object or list, just past one of its values: the first byte past the
  // container, or nullptr as skip_value() (the container counting as one level, so the
  // values in it may nest `depth_left` deep).
  const char* skip_rest(const char* p, size_t depth_left) const {
    return skip_nested(p - 1, depth_left + 1);
  }

 private:
  // `p` is just before where the scan starts, at depth one (at an opening bracket when a
  // whole value is skipped).
  const char* skip_nested(const char* p, size_t depth_left) const;

  // A number or literal ends where a delimiter (',', '}', ']', whitespace or another byte
  // below '!') starts: found 8 bytes at a time.
  const char* scalar_end(const char* p) const {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = kOnes * 0x80;
    // The lowest flagged byte of each term is exact (borrows only flag bytes above it).
    auto zero = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
    for (; end_ - p >= 8; p += 8) {
      uint64_t w;
      __builtin_memcpy(&w, p, 8);
      uint64_t stop = zero(w ^ (kOnes * ',')) | zero((w | (kOnes * 0x20)) ^ (kOnes * '}')) |
                      ((w - kOnes * '!') & ~w & kHigh);
      if (stop != 0) return p + (__builtin_ctzll(stop) >> 3);
    }
    while (p < end_ && *p != ',' && *p != '}' && *p != ']' &&
           static_cast<unsigned char>(*p) > ' ') {
      ++p;
    }
    return p;
  }

  std::vector<Block> blocks_;  // one per 64 bytes of text, then one of all quotes
  const char* base_ = nullptr;
  const char* end_ = nullptr;
  bool backslash_ = false;
};

}  // namespace eddy::rules::scan
