// Internal to the gateway: invoking a function with an API Gateway proxy event and mapping
// its reply back to HTTP, shared by user routes (api_routes.cc) and webhooks with a
// function target (api_webhooks.cc).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "gateway/api.h"
#include "sources/http/proxy_event.h"

namespace eddy::gateway {

// An error reply in the native shape {"error":{"code","message"}} with any status and code
// word (for the codes Errc has no entry for: unauthorized, function_error, timeout, ...).
Response coded_error(http::status status, std::string_view code, std::string_view message);

// The request as the proxy event builders read it (the source IP is the TCP peer; an
// X-Forwarded-For header is not trusted and stays a header). Views into `ctx`, `req` and
// `request_id`, which must outlive the result.
sources::http::ProxyRequest proxy_request(const Context& ctx, const Request& req,
                                          const std::string& request_id);

// Invokes `function` synchronously with `event` (moved from) and maps the result: the
// function's proxy reply; 502 function_error when it failed, 504 timeout when it timed
// out, 502 bad_reply when its reply is malformed, 502 function_not_found, 429 throttled,
// 503 unavailable.
boost::asio::awaitable<Response> invoke_proxy(Context& ctx, const std::string& function,
                                              sources::http::PayloadVersion version,
                                              std::string& event, const std::string& request_id);

// The HTTP response for a mapped proxy reply.
Response to_response(const sources::http::ProxyReply& reply);

}  // namespace eddy::gateway
