#include "rules/interpreter.h"

#include "rules/event_json.h"

#include <simdjson.h>

#include <map>
#include <memory>

namespace eddy::rules {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A conjunct as the interpreter sees it: straight from the pattern's parsed form.
struct Cond {
  std::vector<std::string> path;
  std::vector<const Alternative*> alts;  // `is` / `is_not` alternatives, or
  bool absent = false;                   // no leaf value may exist at `path`
};
using Conj = std::vector<Cond>;

// Multiplies out `$or` and lists that mix `exists: false` with other alternatives.
std::vector<Conj> conjunctions(const PatternObject& obj, std::vector<std::string>& prefix) {
  std::vector<Conj> acc(1);
  auto cross = [&acc](const std::vector<Conj>& parts) {
    std::vector<Conj> next;
    for (const Conj& a : acc) {
      for (const Conj& b : parts) {
        Conj c = a;
        c.insert(c.end(), b.begin(), b.end());
        next.push_back(std::move(c));
      }
    }
    acc = std::move(next);
  };
  for (const auto& f : obj.fields) {
    prefix.push_back(f.key);
    std::vector<Conj> parts;
    if (f.object) {
      parts = conjunctions(*f.object, prefix);
    } else {
      Cond pos{prefix, {}, false};
      bool absent = false;
      for (const Alternative& a : f.values) {
        if (a.kind == Alternative::Kind::absent) {
          absent = true;
        } else {
          pos.alts.push_back(&a);
        }
      }
      if (!pos.alts.empty()) parts.push_back(Conj{pos});
      if (absent) parts.push_back(Conj{Cond{prefix, {}, true}});
    }
    prefix.pop_back();
    cross(parts);
  }
  for (const auto& group : obj.ors) {
    std::vector<Conj> parts;
    for (const auto& alt : group) {
      auto sub = conjunctions(alt, prefix);
      parts.insert(parts.end(), sub.begin(), sub.end());
    }
    cross(parts);
  }
  return acc;
}

std::vector<Conj> conjunctions(const Pattern& p) {
  std::vector<std::string> prefix;
  return conjunctions(p.root(), prefix);
}

// The first value under `key` in an object (later duplicates are ignored, as the matcher
// does).
bool first_at(element obj, std::string_view key, element& out) {
  for (auto [k, v] : simdjson::dom::object(obj)) {
    if (k == key) {
      out = v;
      return true;
    }
  }
  return false;
}

LeafValue leaf_of(element e) {
  LeafValue v;
  switch (e.type()) {
    case element_type::STRING:
      v.type = LeafValue::Type::string;
      v.str = std::string_view(e);
      break;
    case element_type::INT64:
      v.type = LeafValue::Type::number;
      v.num = static_cast<double>(int64_t(e));
      break;
    case element_type::UINT64:
      v.type = LeafValue::Type::number;
      v.num = static_cast<double>(uint64_t(e));
      break;
    case element_type::DOUBLE:
      v.type = LeafValue::Type::number;
      v.num = double(e);
      break;
    case element_type::BOOL:
      v.type = bool(e) ? LeafValue::Type::boolean_true : LeafValue::Type::boolean_false;
      break;
    default: v.type = LeafValue::Type::null; break;
  }
  return v;
}

bool is_scalar(element e) {
  return e.type() != element_type::ARRAY && e.type() != element_type::OBJECT;
}

// The leaf values of `e` itself: `e` if scalar, the scalars inside (nested) arrays.
void scalars(element e, std::vector<element>& out) {
  if (e.type() == element_type::ARRAY) {
    for (element x : simdjson::dom::array(e)) scalars(x, out);
  } else if (is_scalar(e)) {
    out.push_back(e);
  }
}

// Every leaf value at `path` below `e`, through any array elements.
void leaves_at(element e, const std::vector<std::string>& path, size_t i, std::vector<element>& out) {
  if (e.type() == element_type::ARRAY) {
    for (element x : simdjson::dom::array(e)) leaves_at(x, path, i, out);
    return;
  }
  if (i == path.size()) {
    if (is_scalar(e)) out.push_back(e);
    return;
  }
  if (e.type() != element_type::OBJECT) return;
  element child;
  if (first_at(e, path[i], child)) leaves_at(child, path, i + 1, out);
}

bool alternative_holds(const Alternative& alt, LeafForms& leaf) {
  if (alt.kind == Alternative::Kind::is) return atom_holds(alt.atoms.front(), leaf);
  for (const Atom& a : alt.atoms) {
    if (atom_holds(a, leaf)) return false;
  }
  return true;  // is_not
}

bool cond_holds_on(const Cond& c, element leaf) {
  LeafValue v = leaf_of(leaf);
  LeafForms forms(v);
  for (const Alternative* alt : c.alts) {
    if (alternative_holds(*alt, forms)) return true;
  }
  return false;
}

// The positive conditions of a conjunction arranged as a tree of their paths: conditions
// below one array element must all hold within that element.
struct Node {
  std::map<std::string, std::unique_ptr<Node>> children;
  std::vector<const Cond*> conds;  // conditions on the leaf values at this node
};

bool node_holds(const Node& node, element e);

// `e` is the value at `node` (node is a child reached from an object).
bool child_holds(const Node& node, element e) {
  if (!node.conds.empty()) {
    std::vector<element> leaves;
    scalars(e, leaves);
    for (const Cond* c : node.conds) {
      bool any = false;
      for (element l : leaves) {
        if (cond_holds_on(*c, l)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
  }
  return node.children.empty() || node_holds(node, e);
}

// The children of `node` hold within `e`; when `e` is an array, within one of its elements.
bool node_holds(const Node& node, element e) {
  if (e.type() == element_type::ARRAY) {
    for (element x : simdjson::dom::array(e)) {
      if (x.type() != element_type::ARRAY && x.type() != element_type::OBJECT) continue;
      if (node_holds(node, x)) return true;
    }
    return false;
  }
  if (e.type() != element_type::OBJECT) return false;
  for (const auto& [key, child] : node.children) {
    element v;
    if (!first_at(e, key, v)) return false;
    if (!child_holds(*child, v)) return false;
  }
  return true;
}

bool conj_holds(const Conj& conj, element root) {
  Node tree;
  for (const Cond& c : conj) {
    if (c.absent) {
      std::vector<element> leaves;
      leaves_at(root, c.path, 0, leaves);
      if (!leaves.empty()) return false;
      continue;
    }
    Node* n = &tree;
    for (const auto& seg : c.path) {
      auto& slot = n->children[seg];
      if (!slot) slot = std::make_unique<Node>();
      n = slot.get();
    }
    n->conds.push_back(&c);
  }
  return node_holds(tree, root);
}

bool parse_event(std::string_view event_json, simdjson::dom::parser& parser, element& root,
                 std::string* why) {
  thread_local std::string buffer;
  auto err = parse_lenient_json(parser, event_json, false, buffer, root);
  if (err) {
    if (why) *why = std::string("the event is not valid JSON: ") + simdjson::error_message(err);
    return false;
  }
  if (root.type() != element_type::OBJECT) {
    if (why) *why = "the event must be a JSON object (a CloudEvent in structured form)";
    return false;
  }
  return true;
}

std::string describe_leaf(element e) {
  LeafValue v = leaf_of(e);
  switch (v.type) {
    case LeafValue::Type::string: return quote_json(v.str);
    case LeafValue::Type::number: return format_number(v.num);
    case LeafValue::Type::boolean_true: return "true";
    case LeafValue::Type::boolean_false: return "false";
    case LeafValue::Type::null: return "null";
  }
  return "?";
}

template <class T, class F>
std::string join(const std::vector<T>& items, F f, size_t max = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    if (i) s += ", ";
    s += f(items[i]);
  }
  if (items.size() > max) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

// Why `c` fails on its own, or "" if it holds on its own.
std::string cond_failure(const Cond& c, element root) {
  std::vector<element> leaves;
  leaves_at(root, c.path, 0, leaves);
  if (c.absent) {
    if (leaves.empty()) return "";
    return "the field must not exist (exists: false) but has the value " + describe_leaf(leaves[0]);
  }
  for (element l : leaves) {
    if (cond_holds_on(c, l)) return "";
  }
  std::string wanted = c.alts.size() == 1 ? c.alts[0]->describe()
                                          : "any of [" + join(c.alts, [](const Alternative* a) {
                                              return a->describe();
                                            }, 8) + "]";
  if (leaves.empty()) {
    // Is there something there that is not a leaf value?
    element cur = root;
    bool found = true;
    for (const auto& seg : c.path) {
      if (cur.type() != element_type::OBJECT || !first_at(cur, seg, cur)) {
        found = false;
        break;
      }
    }
    if (found && cur.type() == element_type::OBJECT) {
      return "is an object, not a value; the pattern expects " + wanted +
             " (to match inside it, map the field to an object of nested fields)";
    }
    if (found && cur.type() == element_type::ARRAY) {
      return "holds no values (an empty list or a list of objects); the pattern expects " + wanted;
    }
    return "the field is missing; the pattern expects " + wanted;
  }
  std::string got = leaves.size() == 1 ? describe_leaf(leaves[0])
                                       : "[" + join(leaves, describe_leaf) + "]";
  std::string reason = (leaves.size() == 1 ? got + " does not match " : "none of " + got + " matches ") +
                       wanted;
  // A common slip: numbers sent as strings, or the other way round.
  bool wants_number = false, wants_string = false;
  for (const Alternative* a : c.alts) {
    if (a->kind != Alternative::Kind::is) continue;
    AtomKind k = a->atoms.front().kind;
    wants_number |= k == AtomKind::range || k == AtomKind::number_eq;
    wants_string |= k == AtomKind::string_eq || k == AtomKind::prefix || k == AtomKind::suffix ||
                    k == AtomKind::prefix_ic || k == AtomKind::suffix_ic ||
                    k == AtomKind::equals_ic || k == AtomKind::wildcard || k == AtomKind::cidr;
  }
  LeafValue first = leaf_of(leaves[0]);
  if (wants_number && !wants_string && first.type == LeafValue::Type::string) {
    reason += " (the value is a string; numeric matching needs a JSON number)";
  } else if (wants_string && !wants_number && first.type == LeafValue::Type::number) {
    reason += " (the value is a number; string matching needs a JSON string)";
  }
  return reason;
}

Mismatch first_mismatch(const Conj& conj, element root) {
  for (const Cond& c : conj) {
    std::string why = cond_failure(c, root);
    if (!why.empty()) return {format_path(c.path), why};
  }
  // Every condition holds on its own: two of them hold only in different array elements.
  for (size_t i = 0; i < conj.size(); ++i) {
    for (size_t j = i + 1; j < conj.size(); ++j) {
      if (conj[i].absent || conj[j].absent) continue;
      if (conj_holds(Conj{conj[i], conj[j]}, root)) continue;
      std::vector<std::string> common;
      for (size_t k = 0; k < conj[i].path.size() && k < conj[j].path.size() &&
                         conj[i].path[k] == conj[j].path[k];
           ++k) {
        common.push_back(conj[i].path[k]);
      }
      return {format_path(common),
              "the conditions on " + format_path(conj[i].path) + " and " + format_path(conj[j].path) +
                  " each hold, but only in different elements of a list; they must hold in the "
                  "same element"};
    }
  }
  return {"$", "the conditions each hold, but not all within the same list elements"};
}

}  // namespace

bool matches(const Pattern& pattern, std::string_view event_json) {
  if (pattern.empty()) return false;
  thread_local simdjson::dom::parser parser;
  element root;
  if (!parse_event(event_json, parser, root, nullptr)) return false;
  for (const Conj& c : conjunctions(pattern)) {
    if (conj_holds(c, root)) return true;
  }
  return false;
}

bool any_branch_matches(const std::vector<Branch>& branches, std::string_view event_json) {
  thread_local simdjson::dom::parser parser;
  element root;
  if (!parse_event(event_json, parser, root, nullptr)) return false;
  for (const Branch& b : branches) {
    Conj conj;
    for (const Condition& c : b) {
      Cond cond{c.path, {}, c.absent()};
      if (!cond.absent) {
        for (const Alternative& a : c.alternatives) cond.alts.push_back(&a);
      }
      conj.push_back(std::move(cond));
    }
    if (conj_holds(conj, root)) return true;
  }
  return false;
}

Explanation explain(const Pattern& pattern, std::string_view event_json) {
  Explanation out;
  if (pattern.empty()) {
    out.mismatches.push_back({"$", "the pattern is empty"});
    out.message = "$: the pattern is empty";
    return out;
  }
  thread_local simdjson::dom::parser parser;
  element root;
  std::string why;
  if (!parse_event(event_json, parser, root, &why)) {
    out.mismatches.push_back({"$", why});
    out.message = "$: " + why;
    return out;
  }
  auto conjs = conjunctions(pattern);
  for (const Conj& c : conjs) {
    if (conj_holds(c, root)) {
      out.match = true;
      out.mismatches.clear();
      out.message = "the event matches the pattern";
      return out;
    }
    Mismatch m = first_mismatch(c, root);
    // Branches failing on the same condition say the same thing once.
    bool seen = false;
    for (const Mismatch& x : out.mismatches) seen |= x.path == m.path && x.reason == m.reason;
    if (!seen) out.mismatches.push_back(std::move(m));
  }
  if (out.mismatches.size() == 1) {
    out.message = out.mismatches[0].path + ": " + out.mismatches[0].reason;
  } else {
    out.message = "none of the pattern's " + std::to_string(conjs.size()) +
                  " alternatives ($or) matches:";
    for (size_t i = 0; i < out.mismatches.size() && i < 10; ++i) {
      out.message += " (" + std::to_string(i + 1) + ") " + out.mismatches[i].path + ": " +
                     out.mismatches[i].reason + ";";
    }
    if (out.mismatches.size() > 10) out.message += " ...";
    out.message.pop_back();
  }
  return out;
}

}  // namespace eddy::rules
