#include "rules/pattern.h"

#include "rules/event_json.h"

#include <simdjson.h>

#include <algorithm>
#include <boost/json/stream_parser.hpp>
#include <cmath>
#include <limits>
#include <map>

namespace eddy::rules {

struct Pattern::Data {
  PatternObject root;
  std::string json;
  size_t branches = 0;
  size_t complexity = 0;
};

const PatternObject& Pattern::root() const {
  static const PatternObject kEmpty;
  return data_ ? data_->root : kEmpty;
}
const std::string& Pattern::json() const {
  static const std::string kEmpty;
  return data_ ? data_->json : kEmpty;
}
size_t Pattern::branch_count() const { return data_ ? data_->branches : 0; }
size_t Pattern::complexity() const { return data_ ? data_->complexity : 0; }

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool plain_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '$' || c == '@' || c == ':';
  });
}

const char* type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "a list";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

bool is_number(element e) {
  auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

double as_double(element e) {
  switch (e.type()) {
    case element_type::INT64: return static_cast<double>(int64_t(e));
    case element_type::UINT64: return static_cast<double>(uint64_t(e));
    default: return double(e);
  }
}

constexpr std::string_view kOperators =
    "prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr";

// Saturating arithmetic for branch counts and complexity, which multiply.
constexpr size_t kSaturated = std::numeric_limits<size_t>::max() / 4;
size_t sat_add(size_t a, size_t b) { return std::min(kSaturated, a + b); }
size_t sat_mul(size_t a, size_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kSaturated / b ? kSaturated : a * b;
}

class Compiler {
 public:
  explicit Compiler(const PatternLimits& limits) : limits_(limits) {}

  Result<PatternObject> object(element e, const std::string& path, size_t depth) {
    if (depth > limits_.max_depth) {
      return fail(path, "patterns nest at most " + std::to_string(limits_.max_depth) +
                            " levels deep; flatten this part of the pattern");
    }
    simdjson::dom::object obj = e;
    if (obj.size() == 0) {
      return fail(path, depth == 0 ? "a pattern must name at least one field; to receive "
                                     "every event, leave the filter out"
                                   : "an empty object matches nothing; name at least one field "
                                     "inside it or remove it");
    }
    PatternObject out;
    std::vector<std::string_view> seen;
    for (auto [key, value] : obj) {
      std::string child = path;
      append_path_segment(child, key);
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        return fail(child, "the field appears twice in the same object; merge the two");
      }
      seen.push_back(key);
      if (key == "$or") {
        if (value.type() != element_type::ARRAY || simdjson::dom::array(value).size() < 2) {
          return fail(child, "$or needs a list of at least two objects, each a pattern");
        }
        std::vector<PatternObject> alts;
        size_t i = 0;
        for (element alt : simdjson::dom::array(value)) {
          std::string alt_path = child + "[" + std::to_string(i++) + "]";
          if (alt.type() != element_type::OBJECT) {
            return fail(alt_path, std::string("each $or alternative must be an object, got ") +
                                      type_name(alt.type()));
          }
          auto sub = object(alt, alt_path, depth + 1);
          if (!sub) return std::move(sub).error();
          alts.push_back(std::move(*sub));
        }
        out.ors.push_back(std::move(alts));
        continue;
      }
      PatternObject::Field f;
      f.key = std::string(key);
      if (value.type() == element_type::OBJECT) {
        auto sub = object(value, child, depth + 1);
        if (!sub) return std::move(sub).error();
        f.object = std::make_unique<PatternObject>(std::move(*sub));
      } else if (value.type() == element_type::ARRAY) {
        auto values = list(value, child);
        if (!values) return std::move(values).error();
        f.values = std::move(*values);
      } else {
        return fail(child, std::string("a field must map to a list of values, like [\"x\"], or "
                                       "to an object of nested fields; got ") +
                               type_name(value.type()));
      }
      out.fields.push_back(std::move(f));
    }
    return out;
  }

 private:
  static Error fail(const std::string& path, const std::string& why) {
    return make_error(Errc::invalid_pattern, path + ": " + why);
  }

  Result<std::vector<Alternative>> list(element e, const std::string& path) {
    simdjson::dom::array arr = e;
    if (arr.size() == 0) {
      return fail(path, "an empty list matches nothing; give at least one value");
    }
    if (arr.size() > limits_.max_values) {
      return fail(path, "the list has " + std::to_string(arr.size()) + " values; the limit is " +
                            std::to_string(limits_.max_values));
    }
    // Errors name the field, not the list position: that is what users look for.
    std::vector<Alternative> out;
    for (element v : arr) {
      Alternative alt;
      switch (v.type()) {
        case element_type::OBJECT: {
          auto op = operator_(v, path);
          if (!op) return std::move(op).error();
          alt = std::move(*op);
          break;
        }
        case element_type::ARRAY:
          return fail(path, "lists cannot be nested; put all values in one list");
        default: alt.atoms.push_back(literal(v)); break;
      }
      out.push_back(std::move(alt));
    }
    return out;
  }

  static Atom literal(element v) {
    Atom a;
    switch (v.type()) {
      case element_type::STRING:
        a.kind = AtomKind::string_eq;
        a.text = std::string(std::string_view(v));
        break;
      case element_type::BOOL: a.kind = bool(v) ? AtomKind::true_eq : AtomKind::false_eq; break;
      case element_type::NULL_VALUE: a.kind = AtomKind::null_eq; break;
      default:
        a.kind = AtomKind::number_eq;
        a.number = as_double(v);
        break;
    }
    return a;
  }

  // A string, or {"equals-ignore-case": string}, for prefix and suffix.
  Result<Atom> affix(element v, const std::string& path, bool is_prefix) {
    Atom a;
    if (v.type() == element_type::STRING) {
      a.kind = is_prefix ? AtomKind::prefix : AtomKind::suffix;
      a.text = std::string(std::string_view(v));
      return a;
    }
    if (v.type() == element_type::OBJECT) {
      simdjson::dom::object o = v;
      if (o.size() == 1) {
        auto [k, inner] = *o.begin();
        if (k == "equals-ignore-case" && inner.type() == element_type::STRING) {
          a.kind = is_prefix ? AtomKind::prefix_ic : AtomKind::suffix_ic;
          a.text = fold_case(std::string_view(inner));
          return a;
        }
      }
    }
    return fail(path, std::string(is_prefix ? "prefix" : "suffix") +
                          " takes a string or {\"equals-ignore-case\": string}, got " +
                          type_name(v.type()));
  }

  Result<Atom> wildcard(element v, const std::string& path) {
    if (v.type() != element_type::STRING) {
      return fail(path, std::string("wildcard takes a string, got ") + type_name(v.type()));
    }
    std::string err;
    auto glob = parse_glob(std::string_view(v), err);
    if (!glob) return fail(path, err + " (in wildcard " + quote_json(std::string_view(v)) + ")");
    Atom a;
    a.kind = AtomKind::wildcard;
    a.text = std::string(std::string_view(v));
    a.glob = std::move(*glob);
    return a;
  }

  Result<Alternative> operator_(element v, const std::string& path) {
    simdjson::dom::object o = v;
    if (o.size() != 1) {
      return fail(path, "an operator object holds exactly one operator (" + std::string(kOperators) +
                            "); to combine operators on one field, list them as alternatives or "
                            "use $or");
    }
    auto [name, arg] = *o.begin();
    Alternative alt;
    alt.kind = Alternative::Kind::is;
    if (name == "prefix" || name == "suffix") {
      auto a = affix(arg, path, name == "prefix");
      if (!a) return std::move(a).error();
      alt.atoms.push_back(std::move(*a));
    } else if (name == "equals-ignore-case") {
      if (arg.type() != element_type::STRING) {
        return fail(path, std::string("equals-ignore-case takes a string, got ") + type_name(arg.type()));
      }
      Atom a;
      a.kind = AtomKind::equals_ic;
      a.text = fold_case(std::string_view(arg));
      alt.atoms.push_back(std::move(a));
    } else if (name == "wildcard") {
      auto a = wildcard(arg, path);
      if (!a) return std::move(a).error();
      alt.atoms.push_back(std::move(*a));
    } else if (name == "anything-but") {
      return anything_but(arg, path);
    } else if (name == "numeric") {
      auto a = numeric(arg, path);
      if (!a) return std::move(a).error();
      alt.atoms.push_back(std::move(*a));
    } else if (name == "exists") {
      if (arg.type() != element_type::BOOL) {
        return fail(path, std::string("exists takes true or false, got ") + type_name(arg.type()));
      }
      if (bool(arg)) {
        alt.atoms.push_back(Atom{});  // AtomKind::exists
      } else {
        alt.kind = Alternative::Kind::absent;
      }
    } else if (name == "cidr") {
      if (arg.type() != element_type::STRING) {
        return fail(path, std::string("cidr takes a string like \"10.0.0.0/24\", got ") +
                              type_name(arg.type()));
      }
      std::string err;
      auto block = parse_cidr(std::string_view(arg), err);
      if (!block) return fail(path, err);
      Atom a;
      a.kind = AtomKind::cidr;
      a.cidr = *block;
      alt.atoms.push_back(std::move(a));
    } else {
      std::string why = "unknown operator " + quote_json(name) + "; the operators are " +
                        std::string(kOperators);
      if (name.empty() || name[0] != '$') {
        std::string nested = path;
        append_path_segment(nested, name);
        why += ". To match the nested field " + nested + ", map the field to an object instead "
               "of a list";
      }
      return fail(path, why);
    }
    return alt;
  }

  Result<Alternative> anything_but(element arg, const std::string& path) {
    Alternative alt;
    alt.kind = Alternative::Kind::is_not;
    auto bad = [&] {
      return fail(path,
                  "anything-but takes a string, a number, a list of only strings or only "
                  "numbers, or an object with one of prefix, suffix, equals-ignore-case, "
                  "wildcard");
    };
    switch (arg.type()) {
      case element_type::STRING:
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: alt.atoms.push_back(literal(arg)); break;
      case element_type::ARRAY: {
        simdjson::dom::array arr = arg;
        if (arr.size() == 0) return fail(path, "anything-but needs at least one value");
        if (arr.size() > limits_.max_values) {
          return fail(path, "the anything-but list has " + std::to_string(arr.size()) +
                                " values; the limit is " + std::to_string(limits_.max_values));
        }
        bool strings = false, numbers = false;
        for (element x : arr) {
          if (x.type() == element_type::STRING) {
            strings = true;
          } else if (is_number(x)) {
            numbers = true;
          } else {
            return bad();
          }
          alt.atoms.push_back(literal(x));
        }
        if (strings && numbers) {
          return fail(path, "an anything-but list holds only strings or only numbers, not both");
        }
        break;
      }
      case element_type::OBJECT: {
        simdjson::dom::object o = arg;
        if (o.size() != 1) return bad();
        auto [name, inner] = *o.begin();
        std::vector<element> items;
        if (inner.type() == element_type::ARRAY) {
          for (element x : simdjson::dom::array(inner)) items.push_back(x);
          if (items.empty()) return fail(path, "anything-but needs at least one value");
          if (items.size() > limits_.max_values) {
            return fail(path, "the anything-but list has " + std::to_string(items.size()) +
                                  " values; the limit is " + std::to_string(limits_.max_values));
          }
        } else {
          items.push_back(inner);
        }
        for (element x : items) {
          if (x.type() != element_type::STRING) {
            return fail(path, "anything-but " + std::string(name) + " takes a string or a list of strings");
          }
          Atom a;
          std::string_view s = x;
          if (name == "prefix") {
            a.kind = AtomKind::prefix;
            a.text = std::string(s);
          } else if (name == "suffix") {
            a.kind = AtomKind::suffix;
            a.text = std::string(s);
          } else if (name == "equals-ignore-case") {
            a.kind = AtomKind::equals_ic;
            a.text = fold_case(s);
          } else if (name == "wildcard") {
            auto w = wildcard(x, path);
            if (!w) return std::move(w).error();
            a = std::move(*w);
          } else {
            return bad();
          }
          alt.atoms.push_back(std::move(a));
        }
        break;
      }
      default: return bad();
    }
    // The excluded set is a set: canonical order, no duplicates.
    std::sort(alt.atoms.begin(), alt.atoms.end(),
              [](const Atom& a, const Atom& b) { return a.key() < b.key(); });
    alt.atoms.erase(std::unique(alt.atoms.begin(), alt.atoms.end(),
                                [](const Atom& a, const Atom& b) { return a.key() == b.key(); }),
                    alt.atoms.end());
    return alt;
  }

  Result<Atom> numeric(element arg, const std::string& path) {
    const std::string kShape =
        "numeric range needs an even list of operators and numbers, like [\">\", 0, \"<=\", 5] "
        "or [\"=\", 3.5]";
    if (arg.type() != element_type::ARRAY) return fail(path, kShape);
    std::vector<element> items;
    for (element x : simdjson::dom::array(arg)) items.push_back(x);
    if (items.empty() || items.size() % 2 != 0 || items.size() > 4) return fail(path, kShape);
    Atom a;
    a.kind = AtomKind::range;
    bool have_lo = false, have_hi = false, have_eq = false;
    for (size_t i = 0; i < items.size(); i += 2) {
      if (items[i].type() != element_type::STRING) {
        return fail(path, kShape + "; position " + std::to_string(i) + " must be an operator");
      }
      std::string_view op = items[i];
      if (!is_number(items[i + 1])) {
        return fail(path, "numeric operator \"" + std::string(op) + "\" must be followed by a number, got " +
                              type_name(items[i + 1].type()));
      }
      double n = as_double(items[i + 1]);
      if (op == "=") {
        if (items.size() != 2) {
          return fail(path, "numeric \"=\" stands alone; it cannot be combined with other operators");
        }
        a.range = NumericRange{n, true, n, true};
        have_eq = true;
      } else if (op == ">" || op == ">=") {
        if (have_lo) return fail(path, "numeric range has two lower bounds (> or >=); keep one");
        a.range.lo = n;
        a.range.lo_incl = op == ">=";
        have_lo = true;
      } else if (op == "<" || op == "<=") {
        if (have_hi) return fail(path, "numeric range has two upper bounds (< or <=); keep one");
        a.range.hi = n;
        a.range.hi_incl = op == "<=";
        have_hi = true;
      } else {
        return fail(path, "unknown numeric operator " + quote_json(op) +
                              "; use one of =, <, <=, >, >=");
      }
    }
    if (!have_eq && have_lo && have_hi) {
      const NumericRange& r = a.range;
      bool empty = r.lo > r.hi || (r.lo == r.hi && !(r.lo_incl && r.hi_incl));
      if (empty) {
        return fail(path, "numeric range is empty: no number is " +
                              std::string(r.lo_incl ? ">= " : "> ") + format_number(r.lo) + " and " +
                              std::string(r.hi_incl ? "<= " : "< ") + format_number(r.hi));
      }
    }
    return a;
  }

  const PatternLimits& limits_;
};

// Branch count and total complexity of a pattern object, without expanding it.
struct Size {
  size_t branches = 1;
  size_t complexity = 0;
};

Size combine_and(Size a, Size b) {
  return {sat_mul(a.branches, b.branches),
          sat_add(sat_mul(a.complexity, b.branches), sat_mul(b.complexity, a.branches))};
}

size_t atom_weight(const Atom& a) { return a.kind == AtomKind::wildcard ? a.glob.parts.size() : 1; }

Size measure(const PatternObject& obj) {
  Size total;
  for (const auto& f : obj.fields) {
    Size s;
    if (f.object) {
      s = measure(*f.object);
    } else {
      bool absent = false, positive = false;
      size_t cost = 0;
      for (const Alternative& alt : f.values) {
        if (alt.kind == Alternative::Kind::absent) {
          absent = true;
        } else {
          positive = true;
          for (const Atom& a : alt.atoms) cost = sat_add(cost, atom_weight(a));
        }
      }
      s = (absent && positive) ? Size{2, sat_add(cost, 1)} : Size{1, absent ? 1 : cost};
    }
    total = combine_and(total, s);
  }
  for (const auto& group : obj.ors) {
    Size any{0, 0};
    for (const auto& alt : group) {
      Size s = measure(alt);
      any = {sat_add(any.branches, s.branches), sat_add(any.complexity, s.complexity)};
    }
    total = combine_and(total, any);
  }
  return total;
}

std::string json_error_position(std::string_view text) {
  boost::json::stream_parser p;
  boost::system::error_code ec;
  size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec) p.finish(ec);
  if (!ec) return "";
  return " at byte " + std::to_string(used) + " (" + ec.message() + ")";
}

// Expansion into branches.
void expand(const PatternObject& obj, std::vector<std::string>& prefix, std::vector<Branch>& out) {
  std::vector<Branch> acc(1);
  auto cross = [&](const std::vector<Branch>& parts) {
    std::vector<Branch> next;
    next.reserve(acc.size() * parts.size());
    for (const Branch& a : acc) {
      for (const Branch& b : parts) {
        Branch c = a;
        c.insert(c.end(), b.begin(), b.end());
        next.push_back(std::move(c));
      }
    }
    acc = std::move(next);
  };
  for (const auto& f : obj.fields) {
    prefix.push_back(f.key);
    std::vector<Branch> parts;
    if (f.object) {
      expand(*f.object, prefix, parts);
    } else {
      Condition positive{prefix, {}};
      bool absent = false;
      for (const Alternative& alt : f.values) {
        if (alt.kind == Alternative::Kind::absent) {
          absent = true;
        } else {
          positive.alternatives.push_back(alt);
        }
      }
      if (!positive.alternatives.empty()) {
        auto& alts = positive.alternatives;
        std::sort(alts.begin(), alts.end(),
                  [](const Alternative& a, const Alternative& b) { return a.key() < b.key(); });
        alts.erase(std::unique(alts.begin(), alts.end(),
                               [](const Alternative& a, const Alternative& b) { return a.key() == b.key(); }),
                   alts.end());
        parts.push_back(Branch{std::move(positive)});
      }
      if (absent) {
        Alternative a;
        a.kind = Alternative::Kind::absent;
        parts.push_back(Branch{Condition{prefix, {a}}});
      }
    }
    prefix.pop_back();
    cross(parts);
  }
  for (const auto& group : obj.ors) {
    std::vector<Branch> parts;
    for (const auto& alt : group) expand(alt, prefix, parts);
    cross(parts);
  }
  for (Branch& b : acc) out.push_back(std::move(b));
}

}  // namespace

void append_path_segment(std::string& path, std::string_view key) {
  if (plain_key(key)) {
    path.push_back('.');
    path += key;
    return;
  }
  path += "['";
  for (char c : key) {
    if (c == '\'' || c == '\\') path.push_back('\\');
    path.push_back(c);
  }
  path += "']";
}

std::string format_path(const std::vector<std::string>& path) {
  std::string s = "$";
  for (const auto& k : path) append_path_segment(s, k);
  return s;
}

std::string Condition::key() const {
  std::string k;
  for (const auto& a : alternatives) {
    std::string ak = a.key();
    k += std::to_string(ak.size());
    k.push_back(':');
    k += ak;
  }
  return k;
}

Result<Pattern> compile_pattern(std::string_view pattern_json, const PatternLimits& limits) {
  if (pattern_json.size() > limits.max_bytes) {
    return make_error(Errc::invalid_pattern,
                      "$: the pattern is " + std::to_string(pattern_json.size()) +
                          " bytes; the limit is " + std::to_string(limits.max_bytes));
  }
  thread_local simdjson::dom::parser parser;
  thread_local std::string buffer;
  element root;
  if (auto err = parse_lenient_json(parser, pattern_json, false, buffer, root); err) {
    return make_error(Errc::invalid_pattern, "$: the pattern is not valid JSON" +
                                                 json_error_position(pattern_json) + "; " +
                                                 simdjson::error_message(err));
  }
  if (root.type() != element_type::OBJECT) {
    return make_error(Errc::invalid_pattern,
                      std::string("$: a pattern must be a JSON object, like {\"type\": "
                                  "[\"order.created\"]}; got ") +
                          type_name(root.type()));
  }
  Compiler compiler(limits);
  auto obj = compiler.object(root, "$", 0);
  if (!obj) return std::move(obj).error();

  auto data = std::make_shared<Pattern::Data>();
  Size size = measure(*obj);
  data->branches = size.branches;
  data->complexity = size.complexity;
  if (size.branches > limits.max_branches || size.complexity > limits.max_complexity) {
    auto show = [](size_t n) { return n >= kSaturated ? std::string("more than 10^18") : std::to_string(n); };
    return make_error(
        Errc::invalid_pattern,
        "$: the pattern is too complex: " + show(size.branches) + " branches (limit " +
            std::to_string(limits.max_branches) + ") and complexity " + show(size.complexity) +
            " (limit " + std::to_string(limits.max_complexity) +
            ") once $or and lists mixing exists:false are multiplied out; split it into several "
            "patterns or use fewer $or alternatives");
  }
  data->root = std::move(*obj);
  data->json = simdjson::minify(root);
  Pattern p;
  p.data_ = std::move(data);
  return p;
}

std::vector<Branch> expand_branches(const Pattern& pattern) {
  std::vector<Branch> out;
  if (pattern.empty()) return out;
  std::vector<std::string> prefix;
  expand(pattern.root(), prefix, out);
  for (Branch& b : out) {
    // Canonical order and no duplicate conditions.
    std::vector<std::pair<std::string, Condition>> keyed;
    for (Condition& c : b) {
      std::string k;
      for (const auto& seg : c.path) {
        k += std::to_string(seg.size());
        k.push_back(':');
        k += seg;
      }
      k += "|" + c.key();
      keyed.emplace_back(std::move(k), std::move(c));
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    keyed.erase(std::unique(keyed.begin(), keyed.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                keyed.end());
    b.clear();
    for (auto& [k, c] : keyed) b.push_back(std::move(c));
  }
  return out;
}

}  // namespace eddy::rules
