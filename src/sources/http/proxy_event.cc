#include "sources/http/proxy_event.h"

#include <fmt/format.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

#include "common/json_util.h"
#include "common/text.h"
#include "events/attribute_syntax.h"
#include "events/base64.h"
#include "sources/crypto.h"

namespace eddy::sources::http {
namespace json = boost::json;

namespace {

constexpr std::string_view kAccountId = "000000000000";
constexpr std::string_view kApiId = "eddy";
constexpr std::string_view kStage = "$default";

// A JSON string of `s`; bytes that are not UTF-8 are read as Latin-1, HTTP's historic
// header charset, so the event is always valid JSON.
void put_text(std::string& out, std::string_view s) {
  if (events::is_valid_utf8(s)) {
    append_json_string(out, s);
    return;
  }
  std::string converted;
  for (unsigned char c : s) {
    if (c < 0x80) {
      converted.push_back(static_cast<char>(c));
    } else {
      converted.push_back(static_cast<char>(0xC0 | (c >> 6)));
      converted.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  append_json_string(out, converted);
}

// Writes one JSON object's members with the commas in the right places.
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  std::string& key(std::string_view k) {
    if (!first_) out_.push_back(',');
    first_ = false;
    put_text(out_, k);
    out_.push_back(':');
    return out_;
  }
  void text(std::string_view k, std::string_view v) { put_text(key(k), v); }
  void raw(std::string_view k, std::string_view json_text) { key(k) += json_text; }
  void close() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

struct Group {
  std::string name;
  std::vector<std::string_view> values;
};

// Groups values by name, case-insensitively, in order of first appearance. With
// `lower_names` the names are lower-cased, else the first spelling is kept.
template <class Pairs>
std::vector<Group> group(const Pairs& pairs, bool lower_names, bool case_insensitive,
                         bool skip_cookie) {
  std::vector<Group> out;
  for (const auto& pair : pairs) {
    std::string_view name = pair.first, value = pair.second;
    if (skip_cookie && iequals(name, "cookie")) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const Group& g) {
      return case_insensitive ? iequals(g.name, name) : g.name == name;
    });
    if (it == out.end()) {
      out.push_back({lower_names ? ascii_lower(name) : std::string(name), {}});
      it = out.end() - 1;
    }
    it->values.push_back(value);
  }
  return out;
}

// Payload 1.0's pair of maps: `single` holds each name's last value, `multi` all of them.
void put_last_and_all(ObjectWriter& ev, std::string_view single, std::string_view multi,
                      const std::vector<Group>& groups) {
  ObjectWriter one(ev.key(single));
  for (const auto& g : groups) one.text(g.name, g.values.back());
  one.close();
  ObjectWriter all(ev.key(multi));
  for (const auto& g : groups) {
    std::string& o = all.key(g.name);
    o += '[';
    for (size_t i = 0; i < g.values.size(); ++i) {
      if (i) o += ',';
      put_text(o, g.values[i]);
    }
    o += ']';
  }
  all.close();
}

// Payload 2.0's map: each name's values joined with commas.
void put_joined(ObjectWriter& ev, std::string_view key, const std::vector<Group>& groups) {
  ObjectWriter m(ev.key(key));
  std::string joined;
  for (const auto& g : groups) {
    joined.clear();
    for (size_t i = 0; i < g.values.size(); ++i) {
      if (i) joined += ',';
      joined += g.values[i];
    }
    m.text(g.name, joined);
  }
  m.close();
}

std::string_view header_value(const ProxyRequest& req, std::string_view name) {
  std::string_view v;
  for (const auto& [n, value] : req.headers) {
    if (iequals(n, name)) v = value;
  }
  return v;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    out.emplace_back(percent_decode(part.substr(0, eq)), eq == std::string_view::npos
                                                             ? std::string()
                                                             : percent_decode(part.substr(eq + 1)));
  }
  return out;
}

void split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t q = target.find('?');
  path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (path.empty()) path = "/";
}

// "12/Mar/2020:19:03:58 +0000", API Gateway's request time.
std::string request_time(int64_t ms) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000", tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string_view domain_name(const ProxyRequest& req) {
  std::string_view host = header_value(req, "host");
  if (host.empty()) return "localhost";
  if (host.front() == '[') {
    size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  return host.substr(0, host.rfind(':'));
}

// API Gateway passes JWT claims as strings; arrays as "[a b]".
std::string claim_text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_array()) {
    std::string out = "[";
    for (const auto& e : v.as_array()) {
      if (out.size() > 1) out += ' ';
      out += claim_text(e);
    }
    return out + "]";
  }
  return json_text(v);
}

void put_claims(ObjectWriter& w, const Principal& p) {
  std::string& out = w.key("claims");
  ObjectWriter claims(out);
  for (const auto& [k, v] : p.claims) claims.text(k, claim_text(v));
  claims.close();
  std::string& s = w.key("scopes");
  if (p.scopes.empty()) {
    s += "null";
  } else {
    s += '[';
    for (size_t i = 0; i < p.scopes.size(); ++i) {
      if (i) s += ',';
      put_text(s, p.scopes[i]);
    }
    s += ']';
  }
}

bool body_is_text(const ProxyRequest& req) {
  return is_textual_content_type(header_value(req, "content-type")) &&
         events::is_valid_utf8(req.body);
}

void put_body(ObjectWriter& w, const ProxyRequest& req, bool null_when_empty) {
  if (req.body.empty()) {
    if (null_when_empty) w.raw("body", "null");
    w.raw("isBase64Encoded", "false");
    return;
  }
  if (body_is_text(req)) {
    w.text("body", req.body);
    w.raw("isBase64Encoded", "false");
    return;
  }
  std::string& out = w.key("body");
  out.push_back('"');
  events::append_base64(out, req.body);
  out.push_back('"');
  w.raw("isBase64Encoded", "true");
}

void put_path_params(ObjectWriter& w, const ProxyRoute& route, bool null_when_empty) {
  if (!route.path_params || route.path_params->empty()) {
    if (null_when_empty) w.raw("pathParameters", "null");
    return;
  }
  ObjectWriter p(w.key("pathParameters"));
  for (const auto& [k, v] : *route.path_params) p.text(k, v);
  p.close();
}

std::string event_v1(const ProxyRequest& req, const ProxyRoute& route) {
  std::string_view path, query;
  split_target(req.target, path, query);
  std::string out;
  out.reserve(1024 + req.body.size() * 4 / 3);
  ObjectWriter ev(out);
  ev.text("version", "1.0");
  ev.text("resource", route.resource);
  ev.text("path", path);
  ev.text("httpMethod", req.method);

  put_last_and_all(ev, "headers", "multiValueHeaders", group(req.headers, false, true, false));
  auto params = parse_query(query);
  if (params.empty()) {
    ev.raw("queryStringParameters", "null");
    ev.raw("multiValueQueryStringParameters", "null");
  } else {
    put_last_and_all(ev, "queryStringParameters", "multiValueQueryStringParameters",
                     group(params, false, false, false));
  }

  {
    std::string_view domain = domain_name(req);
    ObjectWriter rc(ev.key("requestContext"));
    rc.text("accountId", kAccountId);
    rc.text("apiId", kApiId);
    if (route.principal && route.principal->kind == Principal::Kind::jwt) {
      ObjectWriter a(rc.key("authorizer"));
      put_claims(a, *route.principal);
      a.close();
    }
    rc.text("domainName", domain);
    rc.text("domainPrefix", domain.substr(0, domain.find('.')));
    rc.text("extendedRequestId", req.request_id);
    rc.text("httpMethod", req.method);
    {
      ObjectWriter id(rc.key("identity"));
      for (auto k :
           {"accessKey", "accountId", "caller", "cognitoAmr", "cognitoAuthenticationProvider",
            "cognitoAuthenticationType", "cognitoIdentityId", "cognitoIdentityPoolId",
            "principalOrgId", "user", "userArn"}) {
        id.raw(k, "null");
      }
      if (route.principal && route.principal->kind == Principal::Kind::api_key) {
        id.text("apiKey", route.principal->api_key);
      }
      id.text("sourceIp", req.source_ip);
      id.text("userAgent", header_value(req, "user-agent"));
      id.close();
    }
    rc.text("path", path);
    rc.text("protocol", req.protocol);
    rc.text("requestId", req.request_id);
    rc.text("requestTime", request_time(req.time_ms));
    rc.raw("requestTimeEpoch", std::to_string(req.time_ms));
    rc.raw("resourceId", "null");
    rc.text("resourcePath", route.resource);
    rc.text("stage", kStage);
    rc.close();
  }
  put_path_params(ev, route, true);
  ev.raw("stageVariables", "null");
  put_body(ev, req, true);
  ev.close();
  return out;
}

std::string event_v2(const ProxyRequest& req, const ProxyRoute& route) {
  std::string_view path, query;
  split_target(req.target, path, query);
  std::string out;
  out.reserve(1024 + req.body.size() * 4 / 3);
  ObjectWriter ev(out);
  ev.text("version", "2.0");
  ev.text("routeKey", route.route_key);
  ev.text("rawPath", path);
  ev.text("rawQueryString", query);

  std::vector<std::string_view> cookies;
  for (const auto& [n, v] : req.headers) {
    if (!iequals(n, "cookie")) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view c = trim_ows(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      if (!c.empty()) cookies.push_back(c);
    }
  }
  if (!cookies.empty()) {
    std::string& o = ev.key("cookies");
    o += '[';
    for (size_t i = 0; i < cookies.size(); ++i) {
      if (i) o += ',';
      put_text(o, cookies[i]);
    }
    o += ']';
  }
  put_joined(ev, "headers", group(req.headers, true, true, true));
  auto params = parse_query(query);
  if (!params.empty()) put_joined(ev, "queryStringParameters", group(params, false, false, false));
  {
    std::string_view domain = domain_name(req);
    ObjectWriter rc(ev.key("requestContext"));
    rc.text("accountId", kAccountId);
    rc.text("apiId", kApiId);
    if (route.principal && route.principal->kind == Principal::Kind::jwt) {
      ObjectWriter a(rc.key("authorizer"));
      ObjectWriter jwt(a.key("jwt"));
      put_claims(jwt, *route.principal);
      jwt.close();
      a.close();
    }
    rc.text("domainName", domain);
    rc.text("domainPrefix", domain.substr(0, domain.find('.')));
    {
      ObjectWriter http(rc.key("http"));
      http.text("method", req.method);
      http.text("path", path);
      http.text("protocol", req.protocol);
      http.text("sourceIp", req.source_ip);
      http.text("userAgent", header_value(req, "user-agent"));
      http.close();
    }
    rc.text("requestId", req.request_id);
    rc.text("routeKey", route.route_key);
    rc.text("stage", kStage);
    rc.text("time", request_time(req.time_ms));
    rc.raw("timeEpoch", std::to_string(req.time_ms));
    rc.close();
  }
  put_body(ev, req, false);
  put_path_params(ev, route, false);
  ev.close();
  return out;
}

// ---- replies ----

Error malformed(std::string why) {
  return make_error(Errc::invalid_argument,
                    "the function's reply is not a valid proxy response: " + std::move(why));
}

bool is_hop_by_hop(std::string_view name) {
  for (auto h : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                 "trailer", "upgrade", "content-length"}) {
    if (iequals(name, h)) return true;
  }
  return false;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c >= 0x7F ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
            std::string_view::npos) {
      return false;
    }
  }
  return true;
}

Result<std::string> header_text(std::string_view name, const json::value& v) {
  std::string s;
  if (v.is_string()) {
    s = std::string(v.as_string());
  } else if (v.is_number() || v.is_bool()) {
    s = json_text(v);
  } else {
    return malformed(fmt::format("header '{}' must be a string, number or boolean", name));
  }
  if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return malformed(fmt::format("header '{}' contains a line break or NUL", name));
  }
  return s;
}

Status add_header(HeaderList& out, std::string_view name, const json::value& v) {
  if (!is_token(name)) return malformed(fmt::format("'{}' is not a valid header name", name));
  if (v.is_null() || is_hop_by_hop(name)) return {};
  if (v.is_array()) {
    for (const auto& e : v.as_array()) {
      if (e.is_null()) continue;
      auto t = header_text(name, e);
      if (!t) return std::move(t).error();
      out.emplace_back(std::string(name), std::move(*t));
    }
    return {};
  }
  auto t = header_text(name, v);
  if (!t) return std::move(t).error();
  out.emplace_back(std::string(name), std::move(*t));
  return {};
}

Result<int> status_code(const json::value& v) {
  int64_t code = 0;
  if (v.is_int64()) {
    code = v.get_int64();
  } else if (v.is_uint64()) {
    code = v.get_uint64() > 1000 ? 0 : static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double() &&
             v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()))) {
    code = static_cast<int64_t>(v.get_double());
  } else if (v.is_string() && !v.as_string().empty() && v.as_string().size() <= 3 &&
             std::all_of(v.as_string().begin(), v.as_string().end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    code = std::stoi(std::string(v.as_string()));
  } else {
    return malformed("statusCode must be a number");
  }
  if (code < 100 || code > 599) {
    return malformed(fmt::format("statusCode {} is not an HTTP status (100-599)", code));
  }
  return static_cast<int>(code);
}

}  // namespace

std::string percent_decode(std::string_view s) {
  if (s.find('%') == std::string_view::npos) return std::string(s);
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) << 4 | hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool is_textual_content_type(std::string_view content_type) {
  std::string mt = ascii_lower(media_type_essence(content_type));
  if (mt.empty()) return true;
  if (mt.starts_with("text/")) return true;
  for (std::string_view suffix : {"/json", "+json", "/xml", "+xml", "/javascript",
                                  "/x-www-form-urlencoded", "/graphql", "/yaml", "/x-yaml"}) {
    if (mt.ends_with(suffix)) return true;
  }
  return false;
}

std::string build_proxy_event(PayloadVersion version, const ProxyRequest& req,
                              const ProxyRoute& route) {
  return version == PayloadVersion::v1 ? event_v1(req, route) : event_v2(req, route);
}

Result<ProxyReply> map_proxy_reply(PayloadVersion version, std::string_view result) {
  // A reply is usually small: its DOM lives in this buffer, not in the heap.
  unsigned char dom_buffer[4096];
  json::monotonic_resource dom(dom_buffer, sizeof dom_buffer);
  json::error_code ec;
  json::value v = json::parse(result, ec, &dom);
  bool shaped = !ec && v.is_object() && v.as_object().contains("statusCode");
  if (!shaped) {
    if (version == PayloadVersion::v1) {
      return malformed(
          "payload format 1.0 needs an object with statusCode, e.g. "
          "{\"statusCode\":200,\"body\":\"...\"}");
    }
    ProxyReply r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::string(result);
    return r;
  }
  const auto& o = v.as_object();
  ProxyReply r;
  auto code = status_code(o.at("statusCode"));
  if (!code) return std::move(code).error();
  r.status = *code;

  const json::object* multi = nullptr;
  if (version == PayloadVersion::v1) {
    if (auto it = o.find("multiValueHeaders"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_object()) return malformed("multiValueHeaders must be an object");
      multi = &it->value().as_object();
    }
  }
  if (auto it = o.find("headers"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return malformed("headers must be an object");
    for (const auto& member : it->value().as_object()) {
      std::string_view name = member.key();
      const json::value& value = member.value();
      if (multi && std::any_of(multi->begin(), multi->end(),
                               [&](const auto& m) { return iequals(m.key(), name); })) {
        continue;  // multiValueHeaders win for the same name
      }
      if (version == PayloadVersion::v1 && value.is_array()) {
        return malformed(
            fmt::format("header '{}' must be a string; put lists in "
                        "multiValueHeaders",
                        std::string_view(name)));
      }
      if (auto s = add_header(r.headers, name, value); !s) return std::move(s).error();
    }
  }
  if (multi) {
    for (const auto& [name, value] : *multi) {
      if (!value.is_array() && !value.is_null()) {
        return malformed(
            fmt::format("multiValueHeaders '{}' must be an array", std::string_view(name)));
      }
      if (auto s = add_header(r.headers, name, value); !s) return std::move(s).error();
    }
  }
  if (version == PayloadVersion::v2) {
    if (auto it = o.find("cookies"); it != o.end() && !it->value().is_null()) {
      if (!it->value().is_array()) return malformed("cookies must be an array of strings");
      for (const auto& c : it->value().as_array()) {
        if (!c.is_string()) return malformed("cookies must be an array of strings");
        if (auto s = add_header(r.headers, "Set-Cookie", c); !s) return std::move(s).error();
      }
    }
  }
  bool base64 = false;
  if (auto it = o.find("isBase64Encoded"); it != o.end() && !it->value().is_null()) {
    if (!it->value().is_bool()) return malformed("isBase64Encoded must be true or false");
    base64 = it->value().as_bool();
  }
  if (auto it = o.find("body"); it != o.end() && !it->value().is_null()) {
    const auto& b = it->value();
    if (b.is_string()) {
      r.body = std::string(b.as_string());
    } else if (version == PayloadVersion::v1) {
      return malformed("body must be a string (JSON.stringify it)");
    } else {
      r.body = json_text(b);
    }
  }
  if (base64) {
    auto decoded = base64_any_decode(r.body);
    if (!decoded) return malformed("isBase64Encoded is true but body is not base64");
    r.body = std::move(*decoded);
  }
  return r;
}

}  // namespace eddy::sources::http
