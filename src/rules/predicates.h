// The value tests of the EventBridge pattern language, one leaf value at a time: exact
// strings, numbers and literals, equals-ignore-case, prefix and suffix (also ignoring case),
// wildcard, numeric ranges, CIDR blocks and exists. Both the compiled matcher and the
// reference interpreter evaluate atoms through these functions, so the two agree on what a
// single value test means; they differ only in how they find which tests to run.
//
// Threading: everything here is a value type or a pure function.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eddy::rules {

// One scalar of an event: a string, a number, true, false or null. `str` points into
// whatever buffer the caller parsed the event into.
struct LeafValue {
  enum class Type : uint8_t { string, number, boolean_true, boolean_false, null };
  Type type = Type::null;
  std::string_view str;  // unescaped text, for strings
  double num = 0;        // for numbers
};

// Lowercases `text` with Unicode simple case folding for Latin, Greek, Cyrillic, Armenian
// and fullwidth letters (one code point to one code point; `ß` stays `ß`). Bytes that are
// not valid UTF-8 are copied unchanged.
std::string fold_case(std::string_view text);
void fold_case(std::string_view text, std::string& out);

// A `wildcard` value: `*` matches any run of characters (also none), `\*` is a literal
// asterisk and `\\` a literal backslash. Stored as the literal parts between stars.
struct Glob {
  std::vector<std::string> parts;  // star count + 1 parts; the first and last may be empty
  bool matches(std::string_view text) const;
  // The literal text every match starts with.
  std::string_view head() const { return parts.front(); }
};

// Parses a wildcard value. On error returns nullopt and sets `error` to what was wrong.
std::optional<Glob> parse_glob(std::string_view text, std::string& error);

// An IP address in the IPv6 space; IPv4 addresses are IPv4-mapped (::ffff:a.b.c.d).
using IpAddress = std::array<uint8_t, 16>;
// Parses a textual IPv4 or IPv6 address (no prefix length).
std::optional<IpAddress> parse_ip(std::string_view text);

struct CidrBlock {
  IpAddress base{};  // host bits zeroed
  uint8_t bits = 0;  // prefix length in the IPv6 space (IPv4 /n is stored as /96+n)
  bool contains(const IpAddress& ip) const;
};
// Parses "10.0.0.0/24" or "2001:db8::/32". Host bits set in the address are ignored.
std::optional<CidrBlock> parse_cidr(std::string_view text, std::string& error);
// Masks `ip` to its first `bits` bits.
IpAddress mask_ip(const IpAddress& ip, unsigned bits);

// A numeric interval; bounds are open unless the matching `_incl` flag is set. An
// unbounded side is +-infinity.
struct NumericRange {
  double lo = -std::numeric_limits<double>::infinity();
  bool lo_incl = false;
  double hi = std::numeric_limits<double>::infinity();
  bool hi_incl = false;
  bool contains(double v) const {
    return (lo_incl ? v >= lo : v > lo) && (hi_incl ? v <= hi : v < hi);
  }
};

// The key under which a number is compared for equality: its IEEE-754 bits, with -0 folded
// into +0, so that 300, 300.0 and 3.0e2 are one key.
uint64_t number_key(double v);

// One positive test on one leaf value.
enum class AtomKind : uint8_t {
  string_eq,  // text
  number_eq,  // number
  true_eq,
  false_eq,
  null_eq,
  equals_ic,  // text, case-folded
  prefix,     // text
  prefix_ic,  // text, case-folded
  suffix,     // text
  suffix_ic,  // text, case-folded
  wildcard,   // text (the source) and glob
  range,      // range
  cidr,       // cidr
  exists,     // any leaf value
};

struct Atom {
  AtomKind kind = AtomKind::exists;
  std::string text;
  double number = 0;
  NumericRange range;
  CidrBlock cidr;
  Glob glob;

  // A canonical, unambiguous encoding: equal keys mean equal tests.
  std::string key() const;
  // How the atom reads in messages, e.g. `prefix "us-"` or `"created"`.
  std::string describe() const;
};

// The 8 bytes under which a number is looked up in hash maps (its number_key).
struct NumberBytes {
  char bytes[8];
  explicit NumberBytes(double v);
  std::string_view view() const { return {bytes, 8}; }
};

// hash_bytes of the value's string, or of its NumberBytes; 0 for other types.
uint64_t leaf_hash(const LeafValue& v);

// Lazily computed forms of one leaf value that several atoms may need. A LeafForms may be
// reset() to another value and reused, keeping its buffers.
class LeafForms {
 public:
  LeafForms() = default;
  // `hash`, when not 0, is hash_bytes of the string, or of NumberBytes for a number.
  explicit LeafForms(const LeafValue& v, uint64_t hash = 0) : v_(&v), hash_(hash) {}
  // `v` must stay live while this is in use.
  void reset(const LeafValue& v) {
    v_ = &v;
    hash_ = folded_hash_ = 0;
    have_folded_ = have_ip_ = false;
  }
  const LeafValue& value() const { return *v_; }
  uint64_t hash() {  // strings and numbers
    if (hash_ == 0) hash_ = leaf_hash(*v_);
    return hash_;
  }
  const std::string& folded();           // only for strings
  uint64_t folded_hash();                // only for strings
  const std::optional<IpAddress>& ip();  // only for strings
 private:
  const LeafValue* v_ = nullptr;
  uint64_t hash_ = 0, folded_hash_ = 0;
  bool have_folded_ = false, have_ip_ = false;
  std::string folded_;
  std::optional<IpAddress> ip_;
};

bool atom_holds(const Atom& atom, LeafForms& leaf);

// One element of a field's list in a pattern. `is` holds when its single atom holds;
// `is_not` (anything-but) holds for a present leaf value on which none of its atoms
// holds; `absent` (exists: false) holds when the field has no leaf value at all.
struct Alternative {
  enum class Kind : uint8_t { is, is_not, absent };
  Kind kind = Kind::is;
  std::vector<Atom> atoms;  // sorted by key and unique for is_not

  std::string key() const;
  std::string describe() const;
};

// JSON text for a string, with quotes and escapes.
std::string quote_json(std::string_view s);
// The shortest text that reads back as `v`.
std::string format_number(double v);

}  // namespace eddy::rules
