#include "sources/http/cors.h"

#include <fmt/format.h>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

#include "common/json_util.h"
#include "common/text.h"

namespace eddy::sources::http {
namespace json = boost::json;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

Result<std::vector<std::string>> string_list(const json::object& o, std::string_view field,
                                             std::string (*norm)(std::string_view)) {
  std::vector<std::string> out;
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("cors.{} must be an array of strings", field));
  }
  for (const auto& e : it->value().as_array()) {
    if (!e.is_string() || e.as_string().empty()) {
      return make_error(Errc::invalid_argument,
                        fmt::format("cors.{} must be an array of non-empty strings", field));
    }
    out.push_back(norm ? norm(e.as_string()) : std::string(e.as_string()));
  }
  return out;
}

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

}  // namespace

Result<CorsPolicy> CorsPolicy::parse(const json::value& v) {
  CorsPolicy p;
  if (v.is_bool()) {
    if (!v.as_bool()) {
      return make_error(Errc::invalid_argument,
                        "cors must be true or an object; leave it out for none");
    }
    p.allow_origins = {"*"};
    p.allow_methods = {"*"};
    p.allow_headers = {"*"};
    return p;
  }
  if (!v.is_object()) {
    return make_error(Errc::invalid_argument, "cors must be true or an object with allow_origins");
  }
  const auto& o = v.as_object();
  if (auto s = reject_unknown_fields(o, {"allow_origins", "allow_methods", "allow_headers",
                                         "expose_headers", "max_age", "allow_credentials"});
      !s) {
    return make_error(Errc::invalid_argument, "cors: " + s.error().message);
  }
  auto origins = string_list(o, "allow_origins", nullptr);
  auto methods = string_list(o, "allow_methods", upper);
  auto headers = string_list(o, "allow_headers", [](std::string_view s) { return ascii_lower(s); });
  auto expose = string_list(o, "expose_headers", nullptr);
  for (const auto* r : {&origins, &methods, &headers, &expose}) {
    if (!*r) return r->error();
  }
  if (origins->empty()) {
    return make_error(Errc::invalid_argument,
                      "cors.allow_origins must list at least one origin (or \"*\")");
  }
  for (const auto& origin : *origins) {
    if (origin != "*" && origin.find("://") == std::string::npos) {
      return make_error(Errc::invalid_argument,
                        fmt::format("cors.allow_origins: '{}' is not an origin like "
                                    "https://example.com or \"*\"",
                                    origin));
    }
  }
  p.allow_origins = std::move(*origins);
  p.allow_methods = methods->empty() ? std::vector<std::string>{"*"} : std::move(*methods);
  p.allow_headers = std::move(*headers);
  p.expose_headers = std::move(*expose);
  auto max_age = get_int(o, "max_age");
  if (!max_age) return make_error(Errc::invalid_argument, "cors: " + max_age.error().message);
  if (*max_age) {
    if (**max_age < 0 || **max_age > 86400) {
      return make_error(Errc::invalid_argument, "cors.max_age must be 0-86400 seconds");
    }
    p.max_age_s = **max_age;
  }
  auto creds = get_bool(o, "allow_credentials");
  if (!creds) return make_error(Errc::invalid_argument, "cors: " + creds.error().message);
  p.allow_credentials = creds->value_or(false);
  return p;
}

json::value CorsPolicy::to_json() const {
  json::object o{{"allow_origins", to_array(allow_origins)},
                 {"allow_methods", to_array(allow_methods)},
                 {"allow_headers", to_array(allow_headers)},
                 {"expose_headers", to_array(expose_headers)},
                 {"allow_credentials", allow_credentials}};
  if (max_age_s >= 0) o["max_age"] = max_age_s;
  return o;
}

bool CorsPolicy::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  return contains(allow_origins, "*") || contains(allow_origins, origin);
}

HeaderList CorsPolicy::preflight(std::string_view origin, std::string_view method,
                                 std::string_view request_headers) const {
  if (!origin_allowed(origin)) return {};
  std::string m = upper(trim_ows(method));
  bool any_method = contains(allow_methods, "*");
  if (!any_method && !contains(allow_methods, m)) return {};
  bool any_header = contains(allow_headers, "*");
  std::vector<std::string> asked;
  while (!request_headers.empty()) {
    size_t comma = request_headers.find(',');
    std::string h = ascii_lower(trim_ows(request_headers.substr(0, comma)));
    request_headers =
        comma == std::string_view::npos ? std::string_view() : request_headers.substr(comma + 1);
    if (h.empty()) continue;
    if (!any_header && !contains(allow_headers, h)) return {};
    asked.push_back(std::move(h));
  }
  HeaderList out = response_headers(origin);
  out.erase(
      std::remove_if(out.begin(), out.end(),
                     [](const auto& h) { return h.first == "Access-Control-Expose-Headers"; }),
      out.end());
  out.emplace_back("Access-Control-Allow-Methods", any_method ? m : join(allow_methods));
  if (!asked.empty()) {
    out.emplace_back("Access-Control-Allow-Headers",
                     any_header ? join(asked) : join(allow_headers));
  }
  if (max_age_s >= 0) out.emplace_back("Access-Control-Max-Age", std::to_string(max_age_s));
  return out;
}

HeaderList CorsPolicy::response_headers(std::string_view origin) const {
  HeaderList out;
  if (!origin_allowed(origin)) return out;
  bool wildcard = contains(allow_origins, "*") && !allow_credentials;
  out.emplace_back("Access-Control-Allow-Origin",
                   wildcard ? std::string("*") : std::string(origin));
  if (!wildcard) out.emplace_back("Vary", "Origin");
  if (allow_credentials) out.emplace_back("Access-Control-Allow-Credentials", "true");
  if (!expose_headers.empty()) {
    out.emplace_back("Access-Control-Expose-Headers", join(expose_headers));
  }
  return out;
}

}  // namespace eddy::sources::http
