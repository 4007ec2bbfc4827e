// A user HTTP route: `PUT /v1/routes/{id}` with {"method","path","function",
// "payload_version","cors","max_body_bytes","auth","async"}. Parsing validates every field
// and fills the defaults; the catalog (kind "route") stores the spec as to_json(false) gives
// it, and the API shows it as to_json(true) (secrets redacted).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "sources/http/auth.h"
#include "sources/http/cors.h"
#include "sources/http/path_template.h"

namespace eddy::sources::http {

// The API Gateway Lambda proxy payload a function receives.
enum class PayloadVersion { v1, v2 };
std::string_view payload_version_name(PayloadVersion v);  // "1.0" / "2.0"
// "1.0" or "2.0"; anything else is invalid_argument.
Result<PayloadVersion> parse_payload_version(std::string_view text);

// Route ids: 1-200 characters of A-Z a-z 0-9 . _ -.
Status validate_route_id(std::string_view id);

// The first path segments eddy serves itself; a route may not start with one of them.
bool is_reserved_segment(std::string_view first_segment);

struct Route {
  std::string id;
  std::string method;  // "GET", "POST", ... or "ANY"
  PathTemplate path;
  std::string function;
  PayloadVersion payload_version = PayloadVersion::v2;
  std::optional<CorsPolicy> cors;
  size_t max_body_bytes = 0;  // 0: the server's request limit
  RouteAuth auth;
  bool async = false;     // answer 202 and invoke asynchronously
  std::string route_key;  // "GET /orders/{id}", as the 2.0 event's routeKey

  // Parses a request body. `function` and `path` are required; `method` defaults to ANY and
  // `payload_version` to "2.0". Errors are invalid_argument naming the field.
  static Result<std::shared_ptr<const Route>> parse(std::string_view id,
                                                    const boost::json::object& body);
  boost::json::object to_json(bool redact) const;
};

}  // namespace eddy::sources::http
