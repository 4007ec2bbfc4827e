// Authentication of requests to user routes: none, API keys, or JWT bearer tokens signed
// with HS256 (a shared secret) or RS256 (an RSA public key), with issuer and audience
// checks. Secrets are compared in constant time. Pure: no I/O, thread-safe once built.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace eddy::sources::http {

// Looks up a request header by name (any case); "" when absent.
using HeaderLookup = std::function<std::string_view(std::string_view name)>;

// Who made an authenticated request, for the proxy event's requestContext.
struct Principal {
  enum class Kind { none, api_key, jwt };
  Kind kind = Kind::none;
  std::string api_key;              // the key presented (api_key)
  boost::json::object claims;       // the token's claims (jwt)
  std::vector<std::string> scopes;  // from `scope` (space-separated) or `scp` (jwt)
};

class RouteAuth {
 public:
  enum class Type { none, api_key, jwt };

  // {"type":"none"}; {"type":"api_key","keys":[...],"header":"x-api-key"};
  // {"type":"jwt","algorithm":"HS256","secret":S | "algorithm":"RS256","public_key":PEM,
  //  "issuer":I,"audience":A|[A...],"header":"authorization","leeway_s":0}.
  // Errors are invalid_argument naming the field.
  static Result<RouteAuth> parse(const boost::json::value& v);
  RouteAuth() = default;

  Type type() const { return type_; }
  // The spec as stored (`redact`: secrets and keys replaced by "<redacted>").
  boost::json::value to_json(bool redact) const;

  // Checks a request. On failure the error's message says why (for the 401 body).
  Result<Principal> authenticate(const HeaderLookup& headers, int64_t now_s) const;
  // The WWW-Authenticate value for a 401 ("" for API keys).
  std::string_view challenge() const { return type_ == Type::jwt ? "Bearer" : ""; }

 private:
  Result<boost::json::object> verify_jwt(std::string_view token, int64_t now_s) const;

  Type type_ = Type::none;
  std::string header_;                    // where the key or token is read from
  std::vector<std::string> keys_;         // api_key: the keys as configured
  std::vector<std::string> key_digests_;  // api_key: their SHA-256, compared in constant time
  std::string algorithm_;                 // jwt: "HS256" or "RS256"
  std::string secret_;                    // HS256
  std::string public_key_pem_;            // RS256
  std::shared_ptr<void> public_key_;      // RS256: the parsed EVP_PKEY
  std::optional<std::string> issuer_;
  std::vector<std::string> audiences_;
  int64_t leeway_s_ = 0;
};

}  // namespace eddy::sources::http
