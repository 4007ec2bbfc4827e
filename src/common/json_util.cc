#include "common/json_util.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace eddy {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

namespace {

void append_object(std::string& out, const boost::json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, kv.key());
    out.push_back(':');
    append_json_text(out, kv.value());
  }
  out.push_back('}');
}

void append_array(std::string& out, const boost::json::array& a) {
  out.push_back('[');
  bool first = true;
  for (const auto& v : a) {
    if (!first) out.push_back(',');
    first = false;
    append_json_text(out, v);
  }
  out.push_back(']');
}

}  // namespace

void append_json_text(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_int64());
      break;
    case boost::json::kind::uint64:
      fmt::format_to(std::back_inserter(out), "{}", v.get_uint64());
      break;
    case boost::json::kind::double_:
      if (std::isfinite(v.get_double())) {
        fmt::format_to(std::back_inserter(out), "{}", v.get_double());
      } else {
        out += "null";
      }
      break;
    case boost::json::kind::string:
      append_json_string(out, v.get_string());
      break;
    case boost::json::kind::array:
      append_array(out, v.get_array());
      break;
    case boost::json::kind::object:
      append_object(out, v.get_object());
      break;
  }
}

std::string json_text(const boost::json::value& v) {
  std::string out;
  append_json_text(out, v);
  return out;
}

std::string json_text(const boost::json::object& o) {
  std::string out;
  append_object(out, o);
  return out;
}

std::string json_text(const boost::json::array& a) {
  std::string out;
  append_array(out, a);
  return out;
}

Result<boost::json::object> parse_json_object(std::string_view body) {
  if (std::all_of(body.begin(), body.end(), [](char c) { return std::isspace(uint8_t(c)); })) {
    return boost::json::object();
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (ec) {
    return make_error(Errc::invalid_argument,
                      fmt::format("request body is not valid JSON: {}", ec.message()));
  }
  if (!v.is_object()) {
    return make_error(Errc::invalid_argument, "request body must be a JSON object");
  }
  return std::move(v.as_object());
}

Result<std::optional<int64_t>> get_int(const boost::json::object& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const auto& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= uint64_t(INT64_MAX)) {
    return std::optional<int64_t>(int64_t(v.get_uint64()));
  }
  if (v.is_double() && std::trunc(v.get_double()) == v.get_double() &&
      std::abs(v.get_double()) < 9.0e18) {
    return std::optional<int64_t>(int64_t(v.get_double()));
  }
  return make_error(Errc::invalid_argument, fmt::format("'{}' must be an integer", field));
}

Result<std::optional<std::string>> get_string(const boost::json::object& o,
                                              std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return make_error(Errc::invalid_argument, fmt::format("'{}' must be a string", field));
  }
  return std::optional<std::string>(std::string(it->value().get_string()));
}

Result<std::optional<bool>> get_bool(const boost::json::object& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool()) {
    return make_error(Errc::invalid_argument, fmt::format("'{}' must be true or false", field));
  }
  return std::optional<bool>(it->value().get_bool());
}

Status reject_unknown_fields(const boost::json::object& o,
                             std::initializer_list<std::string_view> known) {
  for (const auto& kv : o) {
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return make_error(Errc::invalid_argument,
                        fmt::format("unknown field '{}' (known fields: {})",
                                    std::string_view(kv.key()), list));
    }
  }
  return {};
}

}  // namespace eddy
