// /v1/routes (the user HTTP route registry) and the user routes themselves: every request
// that is not for eddy's own endpoints is matched against the route table and becomes an
// API Gateway proxy event for the route's function, whose reply is mapped back to HTTP.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include <optional>

#include "common/json_util.h"
#include "events/cloud_event.h"
#include "functions/manager.h"
#include "gateway/api.h"
#include "gateway/await.h"
#include "gateway/proxy_invoke.h"
#include "sources/http/routes.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;
namespace sh = sources::http;

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The checks before a route's function runs. Either `early` is the answer (a preflight,
// 404, 405, 413 or 401), or `route`, `params` and `principal` say what to invoke.
struct Admission {
  std::optional<Response> early;
  std::shared_ptr<const sh::Route> route;
  std::vector<std::pair<std::string, std::string>> params;
  sh::Principal principal;
};

void add_cors(const sh::Route& route, std::string_view origin, Response& res) {
  if (!route.cors) return;
  for (const auto& [k, v] : route.cors->response_headers(origin)) res.set(k, v);
}

Admission admit(Context& ctx, const Request& req, const Target& t) {
  Admission a;
  auto table = ctx.services.routes.table();
  std::string_view method = req.method_string();
  std::string_view origin = header(req, "origin");
  std::string_view preflight_method = header(req, "access-control-request-method");
  if (sh::is_preflight(method, origin, preflight_method)) {
    auto m = table->match(preflight_method, t.segments);
    if (m.outcome == sh::RouteMatch::Outcome::found && m.route->cors) {
      Response res{http::status::no_content, 11};
      for (const auto& [k, v] : m.route->cors->preflight(
               origin, preflight_method, header(req, "access-control-request-headers"))) {
        res.set(k, v);
      }
      a.early = std::move(res);
      return a;
    }
  }
  auto m = table->match(method, t.segments);
  if (m.outcome == sh::RouteMatch::Outcome::not_found) {
    std::string_view target = req.target();
    a.early = coded_error(
        http::status::not_found, "not_found",
        fmt::format("no route matches {} {}", method, target.substr(0, target.find('?'))));
    return a;
  }
  if (m.outcome == sh::RouteMatch::Outcome::method_not_allowed) {
    Response res =
        coded_error(http::status::method_not_allowed, "method_not_allowed",
                    fmt::format("{} is not allowed here; use {}", method, join(m.allowed)));
    res.set(http::field::allow, join(m.allowed));
    a.early = std::move(res);
    return a;
  }
  const auto& route = *m.route;
  if (route.max_body_bytes && req.body().size() > route.max_body_bytes) {
    Response res = coded_error(
        http::status::payload_too_large, "too_large",
        fmt::format("request body is over this route's {} byte limit", route.max_body_bytes));
    add_cors(route, origin, res);
    a.early = std::move(res);
    return a;
  }
  auto principal =
      route.auth.authenticate([&req](std::string_view name) { return header(req, name); },
                              ctx.services.clock.now_ms() / 1000);
  if (!principal) {
    Response res =
        coded_error(http::status::unauthorized, "unauthorized", principal.error().message);
    if (!route.auth.challenge().empty())
      res.set(http::field::www_authenticate, route.auth.challenge());
    add_cors(route, origin, res);
    a.early = std::move(res);
    return a;
  }
  a.principal = std::move(*principal);
  a.params = std::move(m.params);
  a.route = std::move(m.route);
  return a;
}

Response async_reply(const Result<std::string>& id) {
  if (!id) {
    const auto& e = id.error();
    if (e.code == Errc::not_found) {
      return coded_error(http::status::bad_gateway, "function_not_found", e.message);
    }
    return error_reply(e);
  }
  Response res = json_reply(http::status::accepted, json::value(json::object{{"request_id", *id}}));
  res.set("x-amzn-RequestId", *id);
  return res;
}

}  // namespace

asio::awaitable<Response> handle_user_route(Context& ctx, Request& req, const Target& t) {
  Admission a = admit(ctx, req, t);
  if (a.early) co_return std::move(*a.early);
  const sh::Route& route = *a.route;
  std::string request_id = events::new_event_id();
  sh::ProxyRoute pr;
  pr.resource = route.path.text();
  pr.route_key = route.route_key;
  pr.path_params = &a.params;
  pr.principal = &a.principal;
  std::string event =
      sh::build_proxy_event(route.payload_version, proxy_request(ctx, req, request_id), pr);
  Response res;
  if (route.async) {
    auto id = co_await await_callback<Result<std::string>>([&](auto done) {
      ctx.services.functions.invoke_async(route.function, std::move(event), std::move(done));
    });
    res = async_reply(id);
  } else {
    res = co_await invoke_proxy(ctx, route.function, route.payload_version, event, request_id);
    res.set("x-amzn-RequestId", request_id);
  }
  add_cors(route, header(req, "origin"), res);
  co_return res;
}

asio::awaitable<Response> handle_routes(Context& ctx, Request& req, const Target& t) {
  co_return collection_reply(ctx.services.routes, req, t, "routes");
}

}  // namespace eddy::gateway
