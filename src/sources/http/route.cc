#include "sources/http/route.h"

#include <fmt/format.h>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/json_util.h"

namespace eddy::sources::http {
namespace json = boost::json;

namespace {

constexpr size_t kMaxBodyLimit = size_t(1) << 30;

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
         c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
}

Result<std::string> parse_method(std::string_view m) {
  if (m.empty() || m.size() > 20 || !std::all_of(m.begin(), m.end(), is_token_char)) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("method '{}' must be an HTTP method like GET or POST, or ANY", m));
  }
  std::string out(m);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view payload_version_name(PayloadVersion v) {
  return v == PayloadVersion::v1 ? "1.0" : "2.0";
}

Result<PayloadVersion> parse_payload_version(std::string_view text) {
  if (text == "1.0") return PayloadVersion::v1;
  if (text == "2.0") return PayloadVersion::v2;
  return make_error(Errc::invalid_argument,
                    fmt::format("payload_version must be \"1.0\" or \"2.0\", not '{}'", text));
}

Status validate_route_id(std::string_view id) {
  bool ok =
      !id.empty() && id.size() <= 200 && id != "." && id != ".." &&
      std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!ok) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("route id '{}' must be 1-200 characters of A-Z a-z 0-9 . _ -", id));
  }
  return {};
}

bool is_reserved_segment(std::string_view s) {
  static constexpr std::array<std::string_view, 5> kReserved = {"v1", "_eddy", "healthz", "hooks",
                                                                "2015-03-31"};
  return std::find(kReserved.begin(), kReserved.end(), s) != kReserved.end();
}

Result<std::shared_ptr<const Route>> Route::parse(std::string_view id, const json::object& body) {
  if (auto s = validate_route_id(id); !s) return std::move(s).error();
  if (auto s = reject_unknown_fields(body, {"id", "method", "path", "function", "payload_version",
                                            "cors", "max_body_bytes", "auth", "async"});
      !s) {
    return std::move(s).error();
  }
  // A description read back with GET carries its id; it may be PUT again as it is.
  if (auto given = get_string(body, "id"); !given || (*given && **given != id)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("'id' in the body must be the route id in the path, '{}'", id));
  }
  auto r = std::make_shared<Route>();
  r->id = std::string(id);
  auto method = get_string(body, "method");
  auto path = get_string(body, "path");
  auto function = get_string(body, "function");
  auto version = get_string(body, "payload_version");
  for (const auto* f : {&method, &path, &function, &version}) {
    if (!*f) return f->error();
  }
  auto m = parse_method(method->value_or("ANY"));
  if (!m) return std::move(m).error();
  r->method = std::move(*m);
  if (!*path) {
    return make_error(Errc::invalid_argument, "'path' is required, e.g. \"/orders/{id}\"");
  }
  auto tmpl = PathTemplate::parse(**path);
  if (!tmpl) return std::move(tmpl).error();
  if (!tmpl->segments().empty() && tmpl->segments()[0].kind == PathTemplate::Kind::literal &&
      is_reserved_segment(tmpl->segments()[0].text)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("path '{}' is eddy's own (/v1, /hooks, /_eddy, /healthz, "
                                  "/2015-03-31 are reserved); choose another prefix",
                                  **path));
  }
  r->path = std::move(*tmpl);
  if (!*function || (*function)->empty()) {
    return make_error(Errc::invalid_argument, "'function' is required: the function to invoke");
  }
  r->function = std::move(**function);
  if (*version) {
    auto v = parse_payload_version(**version);
    if (!v) return std::move(v).error();
    r->payload_version = *v;
  }
  if (auto it = body.find("cors"); it != body.end() && !it->value().is_null()) {
    auto c = CorsPolicy::parse(it->value());
    if (!c) return std::move(c).error();
    r->cors = std::move(*c);
  }
  auto max_body = get_int(body, "max_body_bytes");
  if (!max_body) return std::move(max_body).error();
  if (*max_body) {
    if (**max_body < 0 || size_t(**max_body) > kMaxBodyLimit) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("max_body_bytes must be 0-{} (0: the server's limit)", kMaxBodyLimit));
    }
    r->max_body_bytes = static_cast<size_t>(**max_body);
  }
  if (auto it = body.find("auth"); it != body.end() && !it->value().is_null()) {
    auto a = RouteAuth::parse(it->value());
    if (!a) return std::move(a).error();
    r->auth = std::move(*a);
  }
  auto async = get_bool(body, "async");
  if (!async) return std::move(async).error();
  r->async = async->value_or(false);
  r->route_key = r->method + " " + r->path.text();
  return std::shared_ptr<const Route>(std::move(r));
}

json::object Route::to_json(bool redact) const {
  json::object o{{"id", id},
                 {"method", method},
                 {"path", path.text()},
                 {"function", function},
                 {"payload_version", payload_version_name(payload_version)},
                 {"async", async},
                 {"auth", auth.to_json(redact)}};
  if (cors) o["cors"] = cors->to_json();
  if (max_body_bytes) o["max_body_bytes"] = max_body_bytes;
  return o;
}

}  // namespace eddy::sources::http
