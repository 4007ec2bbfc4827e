// Internal to the gateway: the parsed request target and the handler families.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <boost/json/value.hpp>

#include "common/json_util.h"
#include "gateway/gateway.h"
#include "gateway/http.h"

namespace eddy::gateway {

// A request target split into percent-decoded path segments and query parameters.
struct Target {
  std::vector<std::string> segments;  // "/v1/topics/a" -> {"v1","topics","a"}
  std::vector<std::pair<std::string, std::string>> query;

  static Result<Target> parse(std::string_view target);
  std::optional<std::string_view> param(std::string_view name) const;
  // An integer query parameter within [min, max]; `fallback` when absent.
  Result<int64_t> int_param(std::string_view name, int64_t fallback, int64_t min,
                            int64_t max) const;
};

// One request's view of the gateway.
struct Context {
  Services& services;
  const GatewayOptions& options;
  std::string_view peer;  // the client's IP address
};

// 405 naming the allowed methods.
Response method_not_allowed(std::string_view allowed);

// PUT (create 201 / update 200), GET and DELETE (204) of one named resource, for every
// manager with `put(name, body) -> Result<pair<object, bool created>>`,
// `describe(name) -> Result<object>` and `remove(name) -> Status`.
template <class Manager>
Response resource_reply(Manager& manager, const Request& req, std::string_view name) {
  switch (req.method()) {
    case http::verb::put: {
      auto body = parse_json_object(req.body());
      if (!body) return error_reply(body.error());
      auto put = manager.put(name, *body);
      if (!put) return error_reply(put.error());
      return json_reply(put->second ? http::status::created : http::status::ok,
                        boost::json::value(std::move(put->first)));
    }
    case http::verb::get: {
      auto d = manager.describe(name);
      if (!d) return error_reply(d.error());
      return json_reply(http::status::ok, boost::json::value(std::move(*d)));
    }
    case http::verb::delete_: {
      if (auto s = manager.remove(name); !s) return error_reply(s.error());
      return Response{http::status::no_content, 11};
    }
    default:
      return method_not_allowed("PUT, GET, DELETE");
  }
}

// /v1/{collection}[/{name}] for a manager as above that also has `list() -> json::array`:
// GET the collection as {"<collection>":[...]}, or PUT/GET/DELETE one resource.
template <class Manager>
Response collection_reply(Manager& manager, const Request& req, const Target& t,
                          std::string_view collection) {
  if (t.segments.size() == 2) {
    if (req.method() != http::verb::get) return method_not_allowed("GET");
    return json_reply(http::status::ok,
                      boost::json::value(boost::json::object{{collection, manager.list()}}));
  }
  if (t.segments.size() != 3) {
    return error_reply(Errc::not_found,
                       fmt::format("no such endpoint: {}", std::string_view(req.target())));
  }
  return resource_reply(manager, req, t.segments[2]);
}

// /v1/topics[/{topic}[/events]]
boost::asio::awaitable<Response> handle_topics(Context& ctx, Request& req, const Target& t);
// /v1/patterns/test and /v1/patterns/backtest
boost::asio::awaitable<Response> handle_patterns(Context& ctx, Request& req, const Target& t);

// /v1/subscriptions[/{name}[/pull|ack|nack|seek|redrive]]
boost::asio::awaitable<Response> handle_subscriptions(Context& ctx, Request& req, const Target& t);

// /v1/functions[/{name}[/code|invoke|logs|invocations]] and /v1/usage
boost::asio::awaitable<Response> handle_functions(Context& ctx, Request& req, const Target& t);
boost::asio::awaitable<Response> handle_usage(Context& ctx, Request& req, const Target& t);
// The Lambda Invoke API: /2015-03-31/functions/{name}/invocations
boost::asio::awaitable<Response> handle_lambda(Context& ctx, Request& req, const Target& t);

// /v1/routes[/{id}], and every request not for eddy's own endpoints: the user's HTTP routes
// (404/405 when no route matches).
boost::asio::awaitable<Response> handle_routes(Context& ctx, Request& req, const Target& t);
boost::asio::awaitable<Response> handle_user_route(Context& ctx, Request& req, const Target& t);
// /v1/webhooks[/{name}], and deliveries at POST /hooks/{name}.
boost::asio::awaitable<Response> handle_webhooks(Context& ctx, Request& req, const Target& t);
boost::asio::awaitable<Response> handle_hook(Context& ctx, Request& req, const Target& t);

}  // namespace eddy::gateway
