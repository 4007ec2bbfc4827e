#include "gateway/proxy_invoke.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include "common/json_util.h"
#include "functions/manager.h"
#include "gateway/await.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace sh = sources::http;

namespace {

asio::awaitable<Result<functions::InvokeResult>> invoke_sync(Context& ctx, const std::string& name,
                                                             std::string& payload,
                                                             const std::string& request_id) {
  co_return co_await await_callback<Result<functions::InvokeResult>>([&](auto done) {
    functions::InvokeOptions options;
    options.request_id = request_id;
    options.payload_is_json = true;  // the proxy event eddy built
    ctx.services.functions.invoke(name, std::move(payload), std::move(options), std::move(done));
  });
}

}  // namespace

Response coded_error(http::status status, std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":)";
  append_json_string(body, code);
  body += R"(,"message":)";
  append_json_string(body, message);
  body += "}}";
  return json_reply(status, std::move(body));
}

Response to_response(const sh::ProxyReply& reply) {
  Response res;
  res.version(11);
  res.result(static_cast<unsigned>(reply.status));
  for (const auto& [name, value] : reply.headers) res.insert(name, value);
  if (reply.status != 204 && reply.status != 304 && reply.status >= 200) res.body() = reply.body;
  return res;
}

asio::awaitable<Response> invoke_proxy(Context& ctx, const std::string& function,
                                       sh::PayloadVersion version, std::string& event,
                                       const std::string& request_id) {
  auto r = co_await invoke_sync(ctx, function, event, request_id);
  if (!r) {
    const auto& e = r.error();
    switch (e.code) {
      case Errc::not_found:
        co_return coded_error(http::status::bad_gateway, "function_not_found",
                              fmt::format("function '{}' does not exist; deploy it with PUT "
                                          "/v1/functions/{}",
                                          function, function));
      case Errc::throttled:
        co_return coded_error(
            http::status::too_many_requests, "throttled",
            fmt::format("function '{}' is at its max_concurrency; retry later", function));
      case Errc::unavailable:
        co_return coded_error(http::status::service_unavailable, "unavailable", e.message);
      default:
        co_return coded_error(http::status::bad_gateway, "function_error", e.message);
    }
  }
  if (r->function_error) {
    if (r->error_type == "Sandbox.Timedout") {
      co_return coded_error(
          http::status::gateway_timeout, "timeout",
          fmt::format("function '{}' timed out (request {})", function, r->request_id));
    }
    co_return coded_error(http::status::bad_gateway, "function_error",
                          fmt::format("function '{}' failed with {} (request {}); see eddy "
                                      "function logs {}",
                                      function, r->error_type.empty() ? "an error" : r->error_type,
                                      r->request_id, function));
  }
  auto reply = sh::map_proxy_reply(version, r->payload);
  if (!reply) {
    spdlog::warn("function '{}' (request {}): {}", function, r->request_id, reply.error().message);
    co_return coded_error(http::status::bad_gateway, "bad_reply",
                          fmt::format("function '{}': {}", function, reply.error().message));
  }
  co_return to_response(*reply);
}

sh::ProxyRequest proxy_request(const Context& ctx, const Request& req,
                               const std::string& request_id) {
  sh::ProxyRequest p;
  p.method = req.method_string();
  p.target = req.target();
  p.headers.reserve(16);
  for (const auto& f : req) p.headers.emplace_back(f.name_string(), f.value());
  p.body = req.body();
  p.source_ip = ctx.peer;
  p.protocol = req.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  p.time_ms = ctx.services.clock.now_ms();
  p.request_id = request_id;
  return p;
}

}  // namespace eddy::gateway
