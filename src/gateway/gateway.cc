#include "gateway/gateway.h"

#include <boost/url/parse.hpp>

#include <charconv>
#include <fmt/format.h>

#include "bus/subscriptions.h"
#include "bus/topics.h"
#include "gateway/api.h"
#include "gateway/server.h"

namespace eddy::gateway {
namespace asio = boost::asio;

Result<Target> Target::parse(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return make_error(Errc::invalid_argument,
                      fmt::format("malformed request target '{}'", target));
  }
  Target t;
  for (auto seg : url->segments()) t.segments.emplace_back(seg);
  // A trailing slash gives an empty last segment; treat "/v1/topics/" as "/v1/topics".
  if (!t.segments.empty() && t.segments.back().empty()) t.segments.pop_back();
  for (auto p : url->params()) t.query.emplace_back(p.key, p.has_value ? p.value : "");
  return t;
}

std::optional<std::string_view> Target::param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

Result<int64_t> Target::int_param(std::string_view name, int64_t fallback, int64_t min,
                                  int64_t max) const {
  auto v = param(name);
  if (!v) return fallback;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    return make_error(Errc::invalid_argument,
                      fmt::format("query parameter '{}' must be an integer from {} to {}, got '{}'",
                                  name, min, max, *v));
  }
  return n;
}

Response method_not_allowed(std::string_view allowed) {
  Response res = error_reply(Errc::invalid_argument,
                             fmt::format("method not allowed here; use {}", allowed));
  res.result(http::status::method_not_allowed);
  res.set(http::field::allow, allowed);
  return res;
}

struct Gateway::Impl {
  GatewayOptions options;
  Services services;
  HttpServer server;

  Impl(IoThreads& io, GatewayOptions o, Services s)
      : options(std::move(o)),
        services(s),
        server(io, ServerOptions{options.listen, options.max_request_bytes},
               [this](Request& req, std::string_view peer) { return dispatch(req, peer); }) {}

  asio::awaitable<Response> dispatch(Request& req, std::string_view peer) {
    Context ctx{services, options, peer};
    auto target = Target::parse(req.target());
    if (!target) co_return error_reply(target.error());
    const auto& seg = target->segments;
    if (seg.size() == 1 && seg[0] == "healthz") {
      co_return json_reply(http::status::ok, std::string(R"({"status":"ok"})"));
    }
    if (seg.size() == 2 && seg[0] == "_eddy" && seg[1] == "metrics") {
      Response res{http::status::ok, 11};
      res.set(http::field::content_type, "text/plain; version=0.0.4");
      res.body() = render_metrics();
      co_return res;
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "topics") {
      co_return co_await handle_topics(ctx, req, *target);
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "patterns") {
      co_return co_await handle_patterns(ctx, req, *target);
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "subscriptions") {
      co_return co_await handle_subscriptions(ctx, req, *target);
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "functions") {
      co_return co_await handle_functions(ctx, req, *target);
    }
    if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "usage") {
      co_return co_await handle_usage(ctx, req, *target);
    }
    if (!seg.empty() && seg[0] == "2015-03-31") {
      co_return co_await handle_lambda(ctx, req, *target);
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "routes") {
      co_return co_await handle_routes(ctx, req, *target);
    }
    if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "webhooks") {
      co_return co_await handle_webhooks(ctx, req, *target);
    }
    if (!seg.empty() && seg[0] == "hooks") co_return co_await handle_hook(ctx, req, *target);
    // Everything outside eddy's own prefixes belongs to the user's HTTP routes.
    if (seg.empty() || (seg[0] != "v1" && seg[0] != "_eddy" && seg[0] != "healthz")) {
      co_return co_await handle_user_route(ctx, req, *target);
    }
    co_return error_reply(Errc::not_found,
                          fmt::format("no such endpoint: {} {}", std::string_view(req.method_string()),
                                      std::string_view(req.target())));
  }

  std::string render_metrics() const;
};

std::string Gateway::Impl::render_metrics() const {
  const auto& c = server.counters();
  std::string out;
  auto counter = [&out](std::string_view name, std::string_view help, std::string_view labels,
                        uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0}{2} {3}\n", name, help, labels, v);
  };
  out += "# HELP eddy_http_requests_total HTTP requests answered, by status class.\n"
         "# TYPE eddy_http_requests_total counter\n";
  out += fmt::format("eddy_http_requests_total{{code=\"2xx\"}} {}\n", c.responses_2xx.load());
  out += fmt::format("eddy_http_requests_total{{code=\"4xx\"}} {}\n", c.responses_4xx.load());
  out += fmt::format("eddy_http_requests_total{{code=\"5xx\"}} {}\n", c.responses_5xx.load());
  counter("eddy_http_request_bytes_total", "Bytes of HTTP requests read.", "", c.bytes_in.load());
  counter("eddy_http_response_bytes_total", "Bytes of HTTP responses written.", "",
          c.bytes_out.load());
  out += fmt::format(
      "# HELP eddy_http_connections Open HTTP connections.\n# TYPE eddy_http_connections gauge\n"
      "eddy_http_connections {}\n",
      c.connections_open.load());

  std::string appended, fsyncs, size, events;
  for (const auto& t : services.topics.find_all()) {
    for (uint32_t p = 0; p < t->partition_count(); ++p) {
      auto s = t->partition(p).stats();
      std::string labels = fmt::format("{{topic=\"{}\",partition=\"{}\"}}", t->name(), p);
      appended += fmt::format("eddy_events_appended_total{} {}\n", labels, s.appended_records);
      fsyncs += fmt::format("eddy_log_fsyncs_total{} {}\n", labels, s.fsyncs);
      size += fmt::format("eddy_log_size_bytes{} {}\n", labels, s.size_bytes);
      events += fmt::format("eddy_log_end_offset{} {}\n", labels, s.end_offset);
    }
  }
  out += "# HELP eddy_events_appended_total Events appended since start.\n"
         "# TYPE eddy_events_appended_total counter\n" + appended;
  out += "# HELP eddy_log_fsyncs_total Fsyncs of the log since start.\n"
         "# TYPE eddy_log_fsyncs_total counter\n" + fsyncs;
  out += "# HELP eddy_log_size_bytes Bytes of retained log segments.\n"
         "# TYPE eddy_log_size_bytes gauge\n" + size;
  out += "# HELP eddy_log_end_offset The next offset to be written.\n"
         "# TYPE eddy_log_end_offset gauge\n" + events;
  out += services.subscriptions.render_metrics();
  return out;
}

Gateway::Gateway(IoThreads& io, GatewayOptions options, Services services)
    : impl_(std::make_unique<Impl>(io, std::move(options), services)) {}
Gateway::~Gateway() = default;
Result<uint16_t> Gateway::start() { return impl_->server.start(); }
void Gateway::stop() { impl_->server.stop(); }
bool Gateway::drained() const { return impl_->server.drained(); }

}  // namespace eddy::gateway
