// /v1/functions (registry, code upload, sync and async invoke, logs, invocation records),
// /v1/usage, and the Lambda Invoke API at /2015-03-31/functions/{name}/invocations as
// @aws-sdk/client-lambda, boto3 and `aws lambda invoke --endpoint-url` call it.
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "common/json_util.h"
#include "events/base64.h"
#include "functions/manager.h"
#include "gateway/api.h"
#include "gateway/await.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;
using functions::InvokeOptions;
using functions::InvokeResult;

namespace {

constexpr int64_t kMaxListLimit = 10000;
constexpr size_t kLogTailBytes = 4096;  // what Lambda returns with X-Amz-Log-Type: Tail

void set_invoke_headers(Response& res, const InvokeResult& r) {
  res.set("x-amzn-RequestId", r.request_id);
  res.set("X-Amz-Executed-Version", std::to_string(r.version));
  if (r.function_error) res.set("X-Amz-Function-Error", "Unhandled");
}

// Parameters are references: GCC 12 mis-copies class-type parameters of coroutines (an
// SSO string copied bitwise), so coroutines here take nothing heavier than a reference.
asio::awaitable<Result<InvokeResult>> invoke_sync(Context& ctx, std::string_view name,
                                                  std::string& payload,
                                                  const std::string& client_context) {
  co_return co_await await_callback<Result<InvokeResult>>([&](auto done) {
    InvokeOptions options;
    options.client_context = client_context;
    ctx.services.functions.invoke(name, std::move(payload), std::move(options), std::move(done));
  });
}

asio::awaitable<Response> native_invoke(Context& ctx, Request& req, const Target& t,
                                        const std::string& name) {
  auto& fm = ctx.services.functions;
  auto mode = t.param("mode").value_or("sync");
  if (mode == "async" || mode == "event") {
    auto id = co_await await_callback<Result<std::string>>([&](auto done) {
      fm.invoke_async(name, std::move(req.body()), std::move(done));
    });
    if (!id) co_return error_reply(id.error());
    Response res = json_reply(http::status::accepted, json::value(json::object{{"request_id", *id}}));
    res.set("x-amzn-RequestId", *id);
    co_return res;
  }
  if (mode != "sync") {
    co_return error_reply(Errc::invalid_argument,
                          fmt::format("mode must be sync or async, not '{}'", mode));
  }
  static const std::string kNone;
  auto r = co_await invoke_sync(ctx, name, req.body(), kNone);
  if (!r) co_return error_reply(r.error());
  Response res = json_reply(http::status::ok, std::move(r->payload));
  set_invoke_headers(res, *r);
  co_return res;
}

Result<json::object> list_logs(Context& ctx, const Target& t, const std::string& name) {
  auto after = t.int_param("after", 0, 0, INT64_MAX);
  if (!after) return std::move(after).error();
  auto limit = t.int_param("limit", 1000, 1, kMaxListLimit);
  if (!limit) return std::move(limit).error();
  std::string request_id(t.param("request_id").value_or(""));
  auto lines = ctx.services.functions.logs(name, static_cast<uint64_t>(*after),
                                           static_cast<size_t>(*limit), request_id);
  if (!lines) return std::move(lines).error();
  json::array out;
  uint64_t next = static_cast<uint64_t>(*after);
  for (const auto& l : *lines) {
    out.push_back(functions::to_json(l));
    next = l.seq;
  }
  return json::object{{"logs", std::move(out)}, {"next_after", next}};
}

Result<json::object> list_invocations(Context& ctx, const Target& t, const std::string& name) {
  auto before = t.int_param("before", 0, 0, INT64_MAX);
  if (!before) return std::move(before).error();
  auto limit = t.int_param("limit", 100, 1, kMaxListLimit);
  if (!limit) return std::move(limit).error();
  auto recs = ctx.services.functions.invocations(name, static_cast<uint64_t>(*before),
                                                 static_cast<size_t>(*limit));
  if (!recs) return std::move(recs).error();
  json::array out;
  for (const auto& r : *recs) out.push_back(functions::to_json(r));
  json::object o{{"invocations", std::move(out)}};
  // Pages go backwards: pass `before` = next_before for older records.
  if (!recs->empty() && recs->size() == static_cast<size_t>(*limit)) {
    o["next_before"] = recs->back().seq;
  } else {
    o["next_before"] = nullptr;
  }
  return o;
}

// Lambda's error shape: status, x-amzn-ErrorType and {"Type","message"} (plus __type, which
// the SDKs read as the code).
Response lambda_error(http::status status, std::string_view type, std::string_view message) {
  json::object body{{"Type", "User"}, {"message", message}, {"__type", type}};
  if (type == "TooManyRequestsException") {
    body["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded";
  }
  Response res = json_reply(status, json::value(std::move(body)));
  res.set("x-amzn-ErrorType", type);
  return res;
}

Response lambda_error(Context& ctx, const Error& e, std::string_view name) {
  switch (e.code) {
    case Errc::not_found:
      return lambda_error(http::status::not_found, "ResourceNotFoundException",
                          fmt::format("Function not found: {}", ctx.services.functions.arn(name)));
    case Errc::throttled:
      return lambda_error(http::status::too_many_requests, "TooManyRequestsException",
                          "Rate Exceeded.");
    case Errc::too_large:
      return lambda_error(http::status::payload_too_large, "RequestTooLargeException", e.message);
    case Errc::invalid_argument:
      return lambda_error(http::status::bad_request, "InvalidRequestContentException", e.message);
    case Errc::unavailable:
      return lambda_error(http::status::service_unavailable, "ServiceException", e.message);
    default:
      return lambda_error(http::status::internal_server_error, "ServiceException", e.message);
  }
}

// POST /2015-03-31/functions/{name}/invocations
asio::awaitable<Response> lambda_invoke(Context& ctx, Request& req, const Target& t) {
  auto& fm = ctx.services.functions;
  // FunctionName may be a name, an ARN, or name:qualifier.
  std::string name = t.segments[2];
  if (auto p = name.rfind(":function:"); p != std::string::npos) name = name.substr(p + 10);
  std::string qualifier(t.param("Qualifier").value_or(""));
  if (auto colon = name.find(':'); colon != std::string::npos) {
    qualifier = name.substr(colon + 1);
    name = name.substr(0, colon);
  }
  if (!fm.exists(name)) co_return lambda_error(ctx, Error{Errc::not_found, ""}, name);
  if (!qualifier.empty() && qualifier != "$LATEST") {
    auto d = fm.describe(name);
    if (!d || std::to_string(d->at("version").to_number<int64_t>()) != qualifier) {
      co_return lambda_error(http::status::not_found, "ResourceNotFoundException",
                             fmt::format("Function not found: {}:{}", fm.arn(name), qualifier));
    }
  }
  std::string type(header(req, "x-amz-invocation-type"));
  if (type.empty()) type = "RequestResponse";
  if (type == "DryRun") co_return Response{http::status::no_content, 11};
  if (type == "Event") {
    auto id = co_await await_callback<Result<std::string>>([&](auto done) {
      fm.invoke_async(name, std::move(req.body()), std::move(done));
    });
    if (!id) co_return lambda_error(ctx, id.error(), name);
    Response res{http::status::accepted, 11};
    res.set("x-amzn-RequestId", *id);
    co_return res;
  }
  if (type != "RequestResponse") {
    co_return lambda_error(http::status::bad_request, "InvalidParameterValueException",
                           fmt::format("X-Amz-Invocation-Type must be RequestResponse, Event or "
                                       "DryRun, not '{}'",
                                       type));
  }
  std::string client_context;
  if (auto cc = header(req, "x-amz-client-context"); !cc.empty()) {
    auto decoded = events::base64_decode(cc);
    if (!decoded) {
      co_return lambda_error(http::status::bad_request, "InvalidParameterValueException",
                             "X-Amz-Client-Context must be base64");
    }
    client_context = std::move(*decoded);
  }
  auto r = co_await invoke_sync(ctx, name, req.body(), client_context);
  if (!r) co_return lambda_error(ctx, r.error(), name);
  std::string tail;
  if (header(req, "x-amz-log-type") == "Tail") {
    if (auto logs = fm.log_tail(name, r->request_id, kLogTailBytes)) tail = std::move(*logs);
  }
  Response res = json_reply(http::status::ok, std::move(r->payload));
  set_invoke_headers(res, *r);
  if (header(req, "x-amz-log-type") == "Tail") {
    std::string b64;
    events::append_base64(b64, tail);
    res.set("X-Amz-Log-Result", b64);
  }
  co_return res;
}

}  // namespace

asio::awaitable<Response> handle_functions(Context& ctx, Request& req, const Target& t) {
  auto& fm = ctx.services.functions;
  const auto& seg = t.segments;
  const auto method = req.method();
  if (seg.size() == 2) {
    if (method != http::verb::get) co_return method_not_allowed("GET");
    co_return json_reply(http::status::ok, json::value(json::object{{"functions", fm.list()}}));
  }
  const std::string& name = seg[2];
  if (seg.size() == 3) {
    co_return resource_reply(fm, req, name);
  }
  if (seg.size() == 4) {
    const std::string& what = seg[3];
    if (what == "code") {
      if (method != http::verb::put) co_return method_not_allowed("PUT");
      auto r = fm.put_code(name, req.body());
      if (!r) co_return error_reply(r.error());
      co_return json_reply(http::status::ok, json::value(std::move(*r)));
    }
    if (what == "invoke") {
      if (method != http::verb::post) co_return method_not_allowed("POST");
      co_return co_await native_invoke(ctx, req, t, name);
    }
    if (what == "logs" || what == "invocations") {
      if (method != http::verb::get) co_return method_not_allowed("GET");
      auto r = what == "logs" ? list_logs(ctx, t, name) : list_invocations(ctx, t, name);
      if (!r) co_return error_reply(r.error());
      co_return json_reply(http::status::ok, json::value(std::move(*r)));
    }
  }
  co_return error_reply(Errc::not_found,
                        fmt::format("no such endpoint: {}", std::string_view(req.target())));
}

asio::awaitable<Response> handle_usage(Context& ctx, Request& req, const Target&) {
  if (req.method() != http::verb::get) co_return method_not_allowed("GET");
  co_return json_reply(http::status::ok, json::value(ctx.services.functions.usage()));
}

asio::awaitable<Response> handle_lambda(Context& ctx, Request& req, const Target& t) {
  const auto& seg = t.segments;
  if (seg.size() == 4 && seg[1] == "functions" && seg[3] == "invocations") {
    if (req.method() != http::verb::post) co_return method_not_allowed("POST");
    co_return co_await lambda_invoke(ctx, req, t);
  }
  co_return lambda_error(http::status::not_found, "UnknownOperationException",
                         fmt::format("eddy implements Invoke of the Lambda API, not {} {}",
                                     std::string_view(req.method_string()),
                                     std::string_view(req.target())));
}

}  // namespace eddy::gateway
