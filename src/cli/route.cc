#include "cli/route.h"

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "cli/resource_command.h"

namespace eddy::cli {
namespace json = boost::json;

namespace {

struct Options {
  std::string id, spec, method, path, function, payload_version, jwt_algorithm, jwt_secret,
      jwt_public_key, jwt_issuer, api_key_header;
  std::vector<std::string> cors_origins, api_keys, jwt_audiences;
  bool cors = false, async = false;
  std::optional<int64_t> max_body_bytes;
};

Result<json::object> body_from(const Options& o) {
  auto spec = spec_arg(o.spec);
  if (!spec) return std::move(spec).error();
  json::object body = std::move(*spec);
  if (!o.method.empty()) body["method"] = o.method;
  if (!o.path.empty()) body["path"] = o.path;
  if (!o.function.empty()) body["function"] = o.function;
  if (!o.payload_version.empty()) body["payload_version"] = o.payload_version;
  if (o.async) body["async"] = true;
  if (o.max_body_bytes) body["max_body_bytes"] = *o.max_body_bytes;
  if (!o.cors_origins.empty()) {
    json::array origins;
    for (const auto& s : o.cors_origins) origins.emplace_back(s);
    body["cors"] = json::object{{"allow_origins", std::move(origins)}};
  } else if (o.cors) {
    body["cors"] = true;
  }
  if (!o.api_keys.empty()) {
    json::array keys;
    for (const auto& k : o.api_keys) keys.emplace_back(k);
    json::object auth{{"type", "api_key"}, {"keys", std::move(keys)}};
    if (!o.api_key_header.empty()) auth["header"] = o.api_key_header;
    body["auth"] = std::move(auth);
  } else if (!o.jwt_secret.empty() || !o.jwt_public_key.empty()) {
    json::object auth{{"type", "jwt"}};
    if (!o.jwt_secret.empty()) {
      auth["algorithm"] = o.jwt_algorithm.empty() ? "HS256" : o.jwt_algorithm;
      auth["secret"] = o.jwt_secret;
    } else {
      auto pem = text_arg(o.jwt_public_key);
      if (!pem) return std::move(pem).error();
      auth["algorithm"] = o.jwt_algorithm.empty() ? "RS256" : o.jwt_algorithm;
      auth["public_key"] = *pem;
    }
    if (!o.jwt_issuer.empty()) auth["issuer"] = o.jwt_issuer;
    if (!o.jwt_audiences.empty()) {
      json::array aud;
      for (const auto& a : o.jwt_audiences) aud.emplace_back(a);
      auth["audience"] = std::move(aud);
    }
    body["auth"] = std::move(auth);
  }
  return body;
}

}  // namespace

Command add_route_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto [put, command] = add_resource_command(
      app, "route", "Serve HTTP requests with functions (API Gateway proxy events)", "/v1/routes",
      std::shared_ptr<std::string>(o, &o->id), [o] { return body_from(*o); });
  put->add_option("--spec", o->spec, "the route as JSON, or @FILE (flags override its fields)");
  put->add_option("--method", o->method, "HTTP method, or ANY (default ANY)");
  put->add_option("--path", o->path, "path template, e.g. /orders/{id} or /files/{proxy+}");
  put->add_option("--function", o->function, "function to invoke");
  put->add_option("--payload-version", o->payload_version,
                  "API Gateway payload format: 1.0 or 2.0 (default 2.0)");
  put->add_flag("--async", o->async, "answer 202 at once and invoke asynchronously");
  put->add_option("--max-body-bytes", o->max_body_bytes, "largest request body (413 beyond)");
  put->add_flag("--cors", o->cors, "answer CORS preflights for any origin, method and header");
  put->add_option("--cors-origin", o->cors_origins, "allowed CORS origin (repeatable)");
  put->add_option("--api-key", o->api_keys, "require this API key (repeatable)");
  put->add_option("--api-key-header", o->api_key_header,
                  "header holding the API key (default x-api-key)");
  put->add_option("--jwt-secret", o->jwt_secret, "require a JWT signed with this HS256 secret");
  put->add_option("--jwt-public-key", o->jwt_public_key,
                  "require a JWT signed with this RS256 key (PEM or @FILE)");
  put->add_option("--jwt-algorithm", o->jwt_algorithm, "HS256 or RS256");
  put->add_option("--jwt-issuer", o->jwt_issuer, "required iss claim");
  put->add_option("--jwt-audience", o->jwt_audiences, "accepted aud claim (repeatable)");
  return command;
}

}  // namespace eddy::cli
