// The gateway's view of HTTP: Beast request/response types and reply helpers. Only the
// gateway includes Beast; every other subsystem speaks plain C++ types.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::gateway {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A JSON reply with the given status.
Response json_reply(http::status status, std::string body);
Response json_reply(http::status status, const boost::json::value& body);
// The native API's error reply: {"error":{"code","message"}} with the code's HTTP status.
Response error_reply(const Error& error);
Response error_reply(Errc code, std::string message);

// Header value or empty.
inline std::string_view header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value());
}

}  // namespace eddy::gateway
