// The API Gateway Lambda proxy integration, both payload formats: the event a function
// receives for an HTTP request, and how its reply becomes the HTTP response.
//
// Format 1.0 (REST API style): `headers` holds each header's last value and
// `multiValueHeaders` all of them, names as received; the query likewise in
// `queryStringParameters` / `multiValueQueryStringParameters`; absent parts are null.
// Format 2.0 (HTTP API style): header names lower-case with repeated values joined by `,`;
// Cookie headers become the `cookies` array; the query is `rawQueryString` plus
// `queryStringParameters` with repeated values joined by `,`; absent parts are left out.
// In both, path and query parameters are percent-decoded ('+' is kept), and a body is sent
// as text when its Content-Type is textual (text/*, JSON, XML, form, JavaScript, or none)
// and it is valid UTF-8, otherwise base64 with `isBase64Encoded: true`.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "sources/http/auth.h"
#include "sources/http/cors.h"
#include "sources/http/route.h"

namespace eddy::sources::http {

// An HTTP request as the gateway received it. The views must outlive the call.
struct ProxyRequest {
  std::string_view method;
  std::string_view target;  // origin-form request target: raw path and query
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // in arrival order
  std::string_view body;
  std::string_view source_ip;
  std::string_view protocol = "HTTP/1.1";
  int64_t time_ms = 0;
  std::string_view request_id;
};

// What the matched route adds to the event.
struct ProxyRoute {
  std::string_view resource;   // the path template, "/orders/{id}"
  std::string_view route_key;  // "GET /orders/{id}"
  const std::vector<std::pair<std::string, std::string>>* path_params = nullptr;
  const Principal* principal = nullptr;  // null or Kind::none: no authorizer
};

// The event JSON for `version`.
std::string build_proxy_event(PayloadVersion version, const ProxyRequest& req,
                              const ProxyRoute& route);

// Whether a body with this Content-Type is passed as text (when it is also UTF-8).
bool is_textual_content_type(std::string_view content_type);

// An HTTP response to send.
struct ProxyReply {
  int status = 200;
  HeaderList headers;  // in order; Set-Cookie may repeat
  std::string body;
};

// Maps a function's result (its JSON text) back to HTTP. 1.0 requires an object with a
// numeric `statusCode`; 2.0 takes such an object the same way and turns anything else into
// a 200 application/json response whose body is the result. `headers` values may be
// strings, numbers or booleans; `multiValueHeaders` (1.0) arrays of them, and they win over
// `headers` for the same name; `cookies` (2.0) become Set-Cookie headers; a body with
// `isBase64Encoded: true` is decoded. Hop-by-hop headers (Connection, Content-Length,
// Transfer-Encoding, ...) are dropped. A result that breaks these rules is an
// invalid_argument error saying why (the gateway answers 502 with it).
Result<ProxyReply> map_proxy_reply(PayloadVersion version, std::string_view result);

// "%41b+c" -> "Ab+c"; a malformed escape is kept as it is.
std::string percent_decode(std::string_view s);

}  // namespace eddy::sources::http
