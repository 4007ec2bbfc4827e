#include "rules/predicates.h"

#include "rules/flat_map.h"

#include <arpa/inet.h>

#include <algorithm>

#include <charconv>
#include <cmath>
#include <cstring>

namespace eddy::rules {

namespace {

// Simple (1:1) lowercase folding of one code point.
char32_t fold_code_point(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  auto even_up = [](char32_t x) { return (x % 2 == 0) ? x + 1 : x; };
  auto odd_up = [](char32_t x) { return (x % 2 == 1) ? x + 1 : x; };
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c >= 0x100 && c <= 0x12F) return even_up(c);
  if (c >= 0x132 && c <= 0x137) return even_up(c);
  if (c >= 0x139 && c <= 0x148) return odd_up(c);
  if (c >= 0x14A && c <= 0x177) return even_up(c);
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E) return odd_up(c);
  if (c == 0x386) return 0x3AC;  // Greek capitals with tonos
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 0x20;
  if (c == 0x3C2) return 0x3C3;  // final sigma folds to sigma
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x460 && c <= 0x481) return even_up(c);
  if (c >= 0x48A && c <= 0x4BF) return even_up(c);
  if (c >= 0x4C1 && c <= 0x4CE) return odd_up(c);
  if (c >= 0x4D0 && c <= 0x52F) return even_up(c);
  if (c >= 0x531 && c <= 0x556) return c + 0x30;
  if (c >= 0x1E00 && c <= 0x1E95) return even_up(c);
  if (c >= 0x1EA0 && c <= 0x1EFF) return even_up(c);
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 0x20;
  return c;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

void append_len_prefixed(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out += s;
}

}  // namespace

void fold_case(std::string_view text, std::string& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  // ASCII text (the common case) folds in place, 8 bytes at a time while it lasts.
  out.resize(n);
  char* o = out.data();
  size_t i = 0;
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    if (w & (kOnes * 0x80)) break;
    // Bit 7 of a byte: at least 'A', and above 'Z' (no byte carries into the next: all < 0x80).
    uint64_t upper = (w + kOnes * (0x80 - 'A')) & ~(w + kOnes * (0x80 - 'Z' - 1)) & (kOnes * 0x80);
    w |= upper >> 2;  // + 0x20
    std::memcpy(o + i, &w, 8);
  }
  for (; i < n && s[i] < 0x80; ++i) {
    unsigned char b = s[i];
    o[i] = static_cast<char>((b >= 'A' && b <= 'Z') ? b + 32 : b);
  }
  if (i == n) return;
  out.resize(i);
  for (; i < n;) {
    unsigned char b = s[i];
    if (b < 0x80) {
      out.push_back(static_cast<char>((b >= 'A' && b <= 'Z') ? b + 32 : b));
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; on any irregularity copy the byte through.
    size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    char32_t c = len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (!ok) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    char32_t f = fold_code_point(c);
    if (f == c) {
      out.append(text.data() + i, len);
    } else {
      append_utf8(f, out);
    }
    i += len;
  }
}

std::string fold_case(std::string_view text) {
  std::string out;
  fold_case(text, out);
  return out;
}

bool Glob::matches(std::string_view text) const {
  if (parts.size() == 1) return text == parts[0];
  const std::string& first = parts.front();
  const std::string& last = parts.back();
  if (text.size() < first.size() + last.size()) return false;
  if (!starts_with(text, first) || !ends_with(text, last)) return false;
  // Middle parts, leftmost-first: with only `*` as a metacharacter the greedy choice of
  // the earliest occurrence never loses a match.
  std::string_view rest = text.substr(first.size(), text.size() - first.size() - last.size());
  for (size_t i = 1; i + 1 < parts.size(); ++i) {
    size_t at = rest.find(parts[i]);
    if (at == std::string_view::npos) return false;
    rest.remove_prefix(at + parts[i].size());
  }
  return true;
}

std::optional<Glob> parse_glob(std::string_view text, std::string& error) {
  Glob g;
  g.parts.emplace_back();
  bool prev_star = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size() || (text[i + 1] != '*' && text[i + 1] != '\\')) {
        error = "a backslash in a wildcard may only escape '*' or '\\'";
        return std::nullopt;
      }
      g.parts.back().push_back(text[++i]);
      prev_star = false;
    } else if (c == '*') {
      if (prev_star) {
        error = "consecutive '*' characters are not allowed in a wildcard";
        return std::nullopt;
      }
      g.parts.emplace_back();
      prev_star = true;
    } else {
      g.parts.back().push_back(c);
      prev_star = false;
    }
  }
  return g;
}

namespace {

// Dotted-quad IPv4 as inet_pton reads it (four decimal parts up to 255, no leading zeros),
// the usual case, without copying; false leaves the text to inet_pton.
bool parse_ipv4_fast(std::string_view text, IpAddress& ip) {
  if (text.size() < 7 || text.size() > 15) return false;
  const char* p = text.data();
  const char* end = p + text.size();
  for (int part = 0; part < 4; ++part) {
    if (part > 0 && (p == end || *p++ != '.')) return false;
    unsigned v = 0;
    const char* start = p;
    while (p < end && *p >= '0' && *p <= '9' && p - start < 3) v = v * 10 + unsigned(*p++ - '0');
    if (p == start || v > 255 || (*start == '0' && p - start > 1)) return false;
    ip[12 + part] = static_cast<uint8_t>(v);
  }
  if (p != end) return false;
  ip[10] = 0xFF;
  ip[11] = 0xFF;
  return true;
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  IpAddress fast{};
  if (parse_ipv4_fast(text, fast)) return fast;
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip{};
  unsigned char v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    ip[10] = 0xFF;
    ip[11] = 0xFF;
    std::memcpy(ip.data() + 12, v4, 4);
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.data()) == 1) return ip;
  return std::nullopt;
}

IpAddress mask_ip(const IpAddress& ip, unsigned bits) {
  IpAddress out{};
  size_t whole = std::min(bits, 128u) / 8;
  std::memcpy(out.data(), ip.data(), whole);
  if (whole < 16 && bits % 8 != 0) {
    out[whole] = static_cast<uint8_t>(ip[whole] & (0xFF << (8 - bits % 8)));
  }
  return out;
}

bool CidrBlock::contains(const IpAddress& ip) const {
  return mask_ip(ip, bits) == base;
}

std::optional<CidrBlock> parse_cidr(std::string_view text, std::string& error) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    error = "a cidr block needs a prefix length, like \"10.0.0.0/24\" or \"2001:db8::/32\"";
    return std::nullopt;
  }
  std::string_view addr = text.substr(0, slash);
  std::string_view len = text.substr(slash + 1);
  bool v4 = addr.find(':') == std::string_view::npos;
  auto ip = parse_ip(addr);
  if (!ip) {
    error = "\"" + std::string(addr) + "\" is not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  unsigned bits = 0;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), bits);
  unsigned max_bits = v4 ? 32 : 128;
  if (len.empty() || ec != std::errc() || p != len.data() + len.size() || bits > max_bits) {
    error = "prefix length \"" + std::string(len) + "\" must be a number from 0 to " +
            std::to_string(max_bits);
    return std::nullopt;
  }
  CidrBlock b;
  b.bits = static_cast<uint8_t>(v4 ? bits + 96 : bits);
  b.base = mask_ip(*ip, b.bits);
  return b;
}

uint64_t number_key(double v) {
  if (v == 0) v = 0;  // -0 == +0
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : std::string("?");
}

std::string quote_json(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string Atom::key() const {
  std::string k;
  switch (kind) {
    case AtomKind::string_eq:
      k = "s";
      append_len_prefixed(k, text);
      break;
    case AtomKind::number_eq:
      k = "n" + std::to_string(number_key(number));
      break;
    case AtomKind::true_eq:
      k = "T";
      break;
    case AtomKind::false_eq:
      k = "F";
      break;
    case AtomKind::null_eq:
      k = "Z";
      break;
    case AtomKind::equals_ic:
      k = "i";
      append_len_prefixed(k, text);
      break;
    case AtomKind::prefix:
      k = "p";
      append_len_prefixed(k, text);
      break;
    case AtomKind::prefix_ic:
      k = "P";
      append_len_prefixed(k, text);
      break;
    case AtomKind::suffix:
      k = "x";
      append_len_prefixed(k, text);
      break;
    case AtomKind::suffix_ic:
      k = "X";
      append_len_prefixed(k, text);
      break;
    case AtomKind::wildcard:
      k = "w";
      append_len_prefixed(k, text);
      break;
    case AtomKind::range:
      k = "r" + std::string(range.lo_incl ? "[" : "(") + std::to_string(number_key(range.lo)) +
          "," + std::to_string(number_key(range.hi)) + (range.hi_incl ? "]" : ")");
      break;
    case AtomKind::cidr:
      k = "c";
      for (uint8_t b : cidr.base) k += std::to_string(b) + ".";
      k += "/" + std::to_string(cidr.bits);
      break;
    case AtomKind::exists:
      k = "e";
      break;
  }
  return k;
}

std::string Atom::describe() const {
  switch (kind) {
    case AtomKind::string_eq:
      return quote_json(text);
    case AtomKind::number_eq:
      return format_number(number);
    case AtomKind::true_eq:
      return "true";
    case AtomKind::false_eq:
      return "false";
    case AtomKind::null_eq:
      return "null";
    case AtomKind::equals_ic:
      return "equals-ignore-case " + quote_json(text);
    case AtomKind::prefix:
      return "prefix " + quote_json(text);
    case AtomKind::prefix_ic:
      return "prefix (ignoring case) " + quote_json(text);
    case AtomKind::suffix:
      return "suffix " + quote_json(text);
    case AtomKind::suffix_ic:
      return "suffix (ignoring case) " + quote_json(text);
    case AtomKind::wildcard:
      return "wildcard " + quote_json(text);
    case AtomKind::range: {
      std::string s = "numeric";
      bool lo = !std::isinf(range.lo), hi = !std::isinf(range.hi);
      if (lo && hi && range.lo == range.hi && range.lo_incl && range.hi_incl) {
        return "numeric = " + format_number(range.lo);
      }
      if (lo) s += std::string(range.lo_incl ? " >= " : " > ") + format_number(range.lo);
      if (lo && hi) s += " and";
      if (hi) s += std::string(range.hi_incl ? " <= " : " < ") + format_number(range.hi);
      return s;
    }
    case AtomKind::cidr: {
      bool v4 =
          cidr.bits >= 96 && cidr.base[10] == 0xFF && cidr.base[11] == 0xFF &&
          std::all_of(cidr.base.begin(), cidr.base.begin() + 10, [](uint8_t b) { return b == 0; });
      char buf[INET6_ADDRSTRLEN];
      if (v4) {
        inet_ntop(AF_INET, cidr.base.data() + 12, buf, sizeof buf);
        return "cidr " + std::string(buf) + "/" + std::to_string(cidr.bits - 96);
      }
      inet_ntop(AF_INET6, cidr.base.data(), buf, sizeof buf);
      return "cidr " + std::string(buf) + "/" + std::to_string(cidr.bits);
    }
    case AtomKind::exists:
      return "exists";
  }
  return "?";
}

NumberBytes::NumberBytes(double v) {
  uint64_t k = number_key(v);
  std::memcpy(bytes, &k, 8);
}

uint64_t leaf_hash(const LeafValue& v) {
  if (v.type == LeafValue::Type::string) return hash_bytes(v.str);
  if (v.type == LeafValue::Type::number) return hash_bytes(NumberBytes(v.num).view());
  return 0;
}

uint64_t LeafForms::folded_hash() {
  if (folded_hash_ == 0) folded_hash_ = hash_bytes(folded());
  return folded_hash_;
}

const std::string& LeafForms::folded() {
  if (!have_folded_) {
    fold_case(v_->str, folded_);
    have_folded_ = true;
  }
  return folded_;
}

const std::optional<IpAddress>& LeafForms::ip() {
  if (!have_ip_) {
    ip_ = parse_ip(v_->str);
    have_ip_ = true;
  }
  return ip_;
}

bool atom_holds(const Atom& a, LeafForms& leaf) {
  const LeafValue& v = leaf.value();
  bool is_string = v.type == LeafValue::Type::string;
  switch (a.kind) {
    case AtomKind::string_eq:
      return is_string && v.str == a.text;
    case AtomKind::number_eq:
      return v.type == LeafValue::Type::number && number_key(v.num) == number_key(a.number);
    case AtomKind::true_eq:
      return v.type == LeafValue::Type::boolean_true;
    case AtomKind::false_eq:
      return v.type == LeafValue::Type::boolean_false;
    case AtomKind::null_eq:
      return v.type == LeafValue::Type::null;
    case AtomKind::equals_ic:
      return is_string && leaf.folded() == a.text;
    case AtomKind::prefix:
      return is_string && starts_with(v.str, a.text);
    case AtomKind::prefix_ic:
      return is_string && starts_with(leaf.folded(), a.text);
    case AtomKind::suffix:
      return is_string && ends_with(v.str, a.text);
    case AtomKind::suffix_ic:
      return is_string && ends_with(leaf.folded(), a.text);
    case AtomKind::wildcard:
      return is_string && a.glob.matches(v.str);
    case AtomKind::range:
      return v.type == LeafValue::Type::number && a.range.contains(v.num);
    case AtomKind::cidr: {
      if (!is_string) return false;
      const auto& ip = leaf.ip();
      return ip && a.cidr.contains(*ip);
    }
    case AtomKind::exists:
      return true;
  }
  return false;
}

std::string Alternative::key() const {
  std::string k = kind == Kind::is ? "+" : kind == Kind::is_not ? "!" : "0";
  for (const Atom& a : atoms) {
    std::string ak = a.key();
    append_len_prefixed(k, ak);
  }
  return k;
}

std::string Alternative::describe() const {
  if (kind == Kind::absent) return "exists false";
  if (kind == Kind::is) return atoms.empty() ? "?" : atoms.front().describe();
  std::string s = "anything-but ";
  if (atoms.size() > 1) s += "[";
  for (size_t i = 0; i < atoms.size(); ++i) {
    if (i) s += ", ";
    s += atoms[i].describe();
  }
  if (atoms.size() > 1) s += "]";
  return s;
}

}  // namespace eddy::rules
