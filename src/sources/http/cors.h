// CORS for user routes: the route's policy, eddy's answer to preflight requests, and the
// headers added to actual responses. When a route has a CORS policy eddy owns these
// headers: the ones a function returns are replaced, as API Gateway does.
#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace eddy::sources::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct CorsPolicy {
  std::vector<std::string> allow_origins;  // exact origins, or "*"
  std::vector<std::string> allow_methods;  // upper case, or "*"
  std::vector<std::string> allow_headers;  // lower case, or "*"
  std::vector<std::string> expose_headers;
  int64_t max_age_s = -1;  // -1: no Access-Control-Max-Age
  bool allow_credentials = false;

  // `true` (any origin, method and header) or an object with `allow_origins`,
  // `allow_methods`, `allow_headers`, `expose_headers` (arrays of strings), `max_age`
  // (seconds) and `allow_credentials`. `allow_origins` is required in the object form.
  static Result<CorsPolicy> parse(const boost::json::value& v);
  boost::json::value to_json() const;

  bool origin_allowed(std::string_view origin) const;

  // The headers of eddy's reply (204) to a preflight from `origin` asking for `method` and
  // `request_headers` (the Access-Control-Request-Headers value). Empty when the policy
  // does not allow it: the browser then refuses the request.
  HeaderList preflight(std::string_view origin, std::string_view method,
                       std::string_view request_headers) const;
  // Headers to set on an actual response to a request from `origin` (empty when the
  // origin is not allowed or absent).
  HeaderList response_headers(std::string_view origin) const;
};

// A preflight is an OPTIONS request with Origin and Access-Control-Request-Method.
inline bool is_preflight(std::string_view method, std::string_view origin,
                         std::string_view request_method) {
  return method == "OPTIONS" && !origin.empty() && !request_method.empty();
}

}  // namespace eddy::sources::http
