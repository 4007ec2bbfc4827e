#include "rules/transform.h"

#include <simdjson.h>

#include <boost/json/parse.hpp>
#include <charconv>
#include <vector>

#include "rules/predicates.h"

namespace eddy::rules {

namespace {

constexpr size_t kMaxPaths = 100;
constexpr size_t kMaxTemplate = 8192;
constexpr std::string_view kWholeEvent = "aws.events.event.json";

struct PathStep {
  std::string key;
  int64_t index = -1;  // >= 0: an array index instead of a key
};
using Path = std::vector<PathStep>;

Result<Path> parse_path(std::string_view text, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, where + ": " + quote_json(text) + " " + why);
  };
  if (text.empty() || text[0] != '$') {
    return bad("is not a path; paths start with \"$\", like \"$.data.id\"");
  }
  Path path;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == '.') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '.' && text[j] != '[') ++j;
      if (j == i + 1) return bad("has an empty name after '.'");
      path.push_back({std::string(text.substr(i + 1, j - i - 1)), -1});
      i = j;
    } else if (text[i] == '[') {
      if (i + 1 < text.size() && (text[i + 1] == '\'' || text[i + 1] == '"')) {
        char q = text[i + 1];
        std::string key;
        size_t j = i + 2;
        for (; j < text.size() && text[j] != q; ++j) {
          if (text[j] == '\\' && j + 1 < text.size()) ++j;
          key.push_back(text[j]);
        }
        if (j + 1 >= text.size() || text[j + 1] != ']')
          return bad("has an unterminated ['name'] step");
        path.push_back({std::move(key), -1});
        i = j + 2;
      } else {
        size_t close = text.find(']', i);
        if (close == std::string_view::npos) return bad("has an unterminated [index] step");
        std::string_view num = text.substr(i + 1, close - i - 1);
        int64_t index = -1;
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), index);
        if (num.empty() || ec != std::errc() || p != num.data() + num.size() || index < 0) {
          return bad("has an index that is not a non-negative number");
        }
        path.push_back({"", index});
        i = close + 1;
      }
    } else {
      return bad("is not a path: expected '.' or '[' at position " + std::to_string(i));
    }
  }
  return path;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A value found in the event for one path.
struct Found {
  bool present = false;
  bool is_string = false;
  std::string json;  // the value as JSON text
  std::string text;  // for strings: the unescaped text
};

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  return s;
}

// The event, parsed once per apply(); values are looked up path by path.
class EventReader {
 public:
  bool open(std::string_view json) {
    size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    buffer_.reserve(need);
    buffer_.assign(json.data(), json.size());
    size_ = json.size();
    // Validate the whole event once; the on-demand lookups below skip what they do not read.
    thread_local simdjson::dom::parser validator;
    simdjson::dom::element e;
    return !validator.parse(buffer_.data(), size_, false).get(e);
  }

  Found lookup(const Path& path) {
    Found f;
    simdjson::ondemand::document doc;
    if (parser_.iterate(buffer_.data(), size_, buffer_.capacity()).get(doc)) return f;
    if (path.empty()) {
      std::string_view raw;
      if (doc.raw_json().get(raw)) return f;
      f.present = true;
      f.json = std::string(trim(raw));
      return f;
    }
    simdjson::ondemand::value v;
    if (doc.get_value().get(v)) return f;
    for (const PathStep& step : path) {
      simdjson::ondemand::json_type t;
      if (v.type().get(t)) return f;
      if (step.index >= 0) {
        if (t != simdjson::ondemand::json_type::array) return f;
        simdjson::ondemand::array arr;
        if (v.get_array().get(arr)) return f;
        int64_t i = 0;
        bool found = false;
        for (auto item : arr) {
          if (i++ == step.index) {
            if (std::move(item).get(v)) return f;
            found = true;
            break;
          }
        }
        if (!found) return f;
      } else {
        if (t != simdjson::ondemand::json_type::object) return f;
        simdjson::ondemand::object obj;
        if (v.get_object().get(obj)) return f;
        bool found = false;
        for (auto field_result : obj) {
          simdjson::ondemand::field field;
          if (std::move(field_result).get(field)) return f;
          std::string_view key;
          if (field.unescaped_key().get(key)) return f;
          if (key == step.key) {
            v = std::move(field.value());
            found = true;
            break;
          }
        }
        if (!found) return f;
      }
    }
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return f;
    std::string_view raw;
    switch (t) {
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object o;
        if (v.get_object().get(o) || o.raw_json().get(raw)) return f;
        break;
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array a;
        if (v.get_array().get(a) || a.raw_json().get(raw)) return f;
        break;
      }
      case simdjson::ondemand::json_type::string: {
        raw = v.raw_json_token();
        f.json = std::string(trim(raw));
        std::string_view s;
        if (v.get_string().get(s)) return f;
        f.text = std::string(s);
        f.is_string = true;
        f.present = true;
        return f;
      }
      default:
        raw = v.raw_json_token();
        break;
    }
    f.present = true;
    f.json = std::string(trim(raw));
    return f;
  }

 private:
  std::string buffer_;
  size_t size_ = 0;
  simdjson::ondemand::parser parser_;
};

}  // namespace

struct Transform::Data {
  enum class Mode { select, text, json };
  Mode mode = Mode::select;
  Path select;
  std::vector<Path> vars;  // by variable number; an empty path is the whole event
  struct Piece {
    std::string literal;  // text before the placeholder
    int var = -1;         // -1: no placeholder (the last piece)
    bool in_string = false;
  };
  std::vector<Piece> pieces;
};

bool Transform::json_output() const {
  return !data_ || data_->mode != Data::Mode::text;
}

Result<Transform> compile_transform(const boost::json::value& spec) {
  auto fail = [](const std::string& msg) { return make_error(Errc::invalid_argument, msg); };
  const boost::json::object* obj = spec.if_object();
  if (!obj) {
    return fail(
        "transform: must be an object, like {\"select\": \"$.data\"} or {\"input_paths\": {...}, "
        "\"input_template\": \"...\"}");
  }
  for (const auto& kv : *obj) {
    if (kv.key() != "select" && kv.key() != "input_paths" && kv.key() != "input_template") {
      return fail(
          "transform." + std::string(kv.key()) +
          ": unknown member; a transform has either select, or input_paths and input_template");
    }
  }
  auto data = std::make_shared<Transform::Data>();
  if (const auto* sel = obj->if_contains("select")) {
    if (obj->contains("input_paths") || obj->contains("input_template")) {
      return fail("transform: use either select or input_paths with input_template, not both");
    }
    if (!sel->is_string())
      return fail("transform.select: must be a path string, like \"$.data.order\"");
    auto path = parse_path(std::string_view(sel->get_string()), "transform.select");
    if (!path) return std::move(path).error();
    data->mode = Transform::Data::Mode::select;
    data->select = std::move(*path);
    Transform t;
    t.data_ = std::move(data);
    return t;
  }
  const auto* tmpl_value = obj->if_contains("input_template");
  if (!tmpl_value || !tmpl_value->is_string()) {
    return fail("transform.input_template: required, a string with <name> placeholders");
  }
  std::string_view tmpl(tmpl_value->get_string());
  if (tmpl.empty() || tmpl.size() > kMaxTemplate) {
    return fail("transform.input_template: must be 1 to " + std::to_string(kMaxTemplate) +
                " characters");
  }
  std::vector<std::string> names;
  if (const auto* paths = obj->if_contains("input_paths")) {
    const boost::json::object* po = paths->if_object();
    if (!po) return fail("transform.input_paths: must be an object of name -> path");
    if (po->size() > kMaxPaths) {
      return fail("transform.input_paths: has " + std::to_string(po->size()) +
                  " entries; the limit is " + std::to_string(kMaxPaths));
    }
    for (const auto& kv : *po) {
      std::string name(kv.key());
      std::string where = "transform.input_paths." + name;
      if (!valid_name(name)) {
        return fail(where + ": names are 1 to 64 letters, digits, '_', '-' or '.'");
      }
      if (name.rfind("aws.", 0) == 0)
        return fail(where + ": names starting with \"aws.\" are reserved");
      if (!kv.value().is_string())
        return fail(where + ": must be a path string, like \"$.data.id\"");
      auto path = parse_path(std::string_view(kv.value().get_string()), where);
      if (!path) return std::move(path).error();
      names.push_back(std::move(name));
      data->vars.push_back(std::move(*path));
    }
  }

  std::string_view body = trim(tmpl);
  bool json_mode = !body.empty() && (body.front() == '{' || body.front() == '[');
  data->mode = json_mode ? Transform::Data::Mode::json : Transform::Data::Mode::text;

  // Split the template at placeholders, tracking whether each sits inside a JSON string.
  Transform::Data::Piece cur;
  bool in_string = false;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (json_mode && in_string && c == '\\' && i + 1 < tmpl.size()) {
      cur.literal.push_back(c);
      cur.literal.push_back(tmpl[++i]);
      continue;
    }
    if (json_mode && c == '"') in_string = !in_string;
    if (c == '<') {
      size_t close = tmpl.find('>', i + 1);
      if (close != std::string_view::npos) {
        std::string_view name = tmpl.substr(i + 1, close - i - 1);
        int var = -1;
        for (size_t k = 0; k < names.size(); ++k) {
          if (names[k] == name) var = static_cast<int>(k);
        }
        if (var < 0 && name == kWholeEvent) {
          names.emplace_back(kWholeEvent);
          data->vars.push_back(Path{});
          var = static_cast<int>(names.size() - 1);
        }
        if (var >= 0) {
          cur.var = var;
          cur.in_string = json_mode && in_string;
          data->pieces.push_back(std::move(cur));
          cur = {};
          i = close;
          continue;
        }
      }
    }
    cur.literal.push_back(c);
  }
  data->pieces.push_back(std::move(cur));

  if (json_mode) {
    // The template must be JSON once placeholders are filled in.
    std::string probe;
    for (const auto& p : data->pieces) {
      probe += p.literal;
      if (p.var >= 0) probe += p.in_string ? "" : "null";
    }
    boost::system::error_code ec;
    boost::json::parse(probe, ec);
    if (ec) {
      return fail(
          "transform.input_template: starts like JSON but is not valid JSON with its placeholders "
          "filled in (" +
          ec.message() +
          "); a placeholder may stand for a value or sit inside a "
          "string, but not be an object key");
    }
  }
  Transform t;
  t.data_ = std::move(data);
  return t;
}

Result<std::string> apply(const Transform& transform, std::string_view event_json) {
  EventReader reader;
  if (!reader.open(event_json)) {
    return make_error(Errc::invalid_event, "the event is not valid JSON");
  }
  if (transform.empty()) return std::string(event_json);
  const Transform::Data& d = *transform.data_;
  if (d.mode == Transform::Data::Mode::select) {
    Found f = reader.lookup(d.select);
    return f.present ? f.json : std::string("null");
  }
  std::vector<Found> values;
  values.reserve(d.vars.size());
  for (const Path& p : d.vars) values.push_back(reader.lookup(p));
  std::string out;
  for (const auto& piece : d.pieces) {
    out += piece.literal;
    if (piece.var < 0) continue;
    const Found& f = values[static_cast<size_t>(piece.var)];
    if (d.mode == Transform::Data::Mode::text) {
      if (f.present) out += f.is_string ? f.text : f.json;
    } else if (!piece.in_string) {
      out += f.present ? f.json : "null";
    } else if (f.present) {
      std::string quoted = f.is_string ? f.json : quote_json(f.json);
      out.append(quoted, 1, quoted.size() - 2);
    }
  }
  return out;
}

}  // namespace eddy::rules
