// /v1/webhooks (the registry) and POST /hooks/{name} (deliveries). A delivery is verified
// before anything else happens: a bad or missing signature is a 401 and nothing is
// published or invoked. A verified delivery is published to the target topic and answered
// once durable, or handed to the target function as an API Gateway proxy event whose reply
// is the answer. A delivery whose provider id was accepted within the replay window is
// answered 200 again without being acted on.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include "bus/topics.h"
#include "common/json_util.h"
#include "events/cloud_event.h"
#include "gateway/api.h"
#include "gateway/await.h"
#include "gateway/proxy_invoke.h"
#include "sources/webhooks/webhooks.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;
namespace sw = sources::webhooks;
namespace sh = sources::http;

namespace {

// Settles a replay claim when the delivery's handling ends, however it ends.
class ClaimGuard {
 public:
  ClaimGuard(sw::ReplayGuard* guard, std::string hook, std::string id, const Clock& clock,
             int64_t window_ms)
      : guard_(guard),
        hook_(std::move(hook)),
        id_(std::move(id)),
        clock_(clock),
        window_ms_(window_ms) {}
  ~ClaimGuard() {
    if (guard_) guard_->settle(hook_, id_, accepted_, clock_.now_ms(), window_ms_);
  }
  ClaimGuard(const ClaimGuard&) = delete;
  ClaimGuard& operator=(const ClaimGuard&) = delete;
  void accept() { accepted_ = true; }

 private:
  sw::ReplayGuard* guard_;
  std::string hook_, id_;
  const Clock& clock_;
  int64_t window_ms_;
  bool accepted_ = false;
};

asio::awaitable<Response> publish_delivery(Context& ctx, Request& req, const sw::Webhook& hook,
                                           const sw::Delivery& delivery, ClaimGuard& claim) {
  auto& topics = ctx.services.topics;
  events::Limits limits{ctx.options.max_event_bytes};
  auto ev = sw::delivery_event(hook, delivery, header(req, "content-type"), req.body(),
                               ctx.services.clock.now_ms(), limits);
  if (!ev) co_return error_reply(ev.error());
  auto topic = topics.ensure(hook.target);
  if (!topic) co_return error_reply(topic.error());
  std::vector<events::Event> batch;
  batch.push_back(std::move(*ev));
  auto published = co_await await_callback<Result<std::vector<bus::PublishedEvent>>>(
      [&](auto done) { topics.publish(*topic, std::move(batch), std::move(done)); });
  if (!published) co_return error_reply(published.error());
  claim.accept();
  const auto& p = published->front();
  co_return json_reply(
      http::status::ok,
      json::value(json::object{
          {"id", p.id}, {"topic", hook.target}, {"partition", p.partition}, {"offset", p.offset}}));
}

asio::awaitable<Response> invoke_delivery(Context& ctx, Request& req, const sw::Webhook& hook,
                                          ClaimGuard& claim) {
  std::string request_id = events::new_event_id();
  std::vector<std::pair<std::string, std::string>> params{{"name", hook.name}};
  std::string resource = "/hooks/{name}";
  std::string route_key = "POST /hooks/{name}";
  sh::ProxyRoute pr;
  pr.resource = resource;
  pr.route_key = route_key;
  pr.path_params = &params;
  std::string event =
      sh::build_proxy_event(hook.payload_version, proxy_request(ctx, req, request_id), pr);
  Response res = co_await invoke_proxy(ctx, hook.target, hook.payload_version, event, request_id);
  res.set("x-amzn-RequestId", request_id);
  // Only a success is remembered: after a failure the sender's retry must get through.
  if (res.result_int() < 300) claim.accept();
  co_return res;
}

}  // namespace

asio::awaitable<Response> handle_hook(Context& ctx, Request& req, const Target& t) {
  if (t.segments.size() != 2) {
    co_return error_reply(Errc::not_found, "webhooks are delivered to POST /hooks/{name}");
  }
  if (req.method() != http::verb::post) co_return method_not_allowed("POST");
  const std::string& name = t.segments[1];
  auto hook = ctx.services.webhooks.find(name);
  if (!hook)
    co_return error_reply(Errc::not_found, fmt::format("webhook '{}' does not exist", name));
  int64_t now_ms = ctx.services.clock.now_ms();
  auto delivery = sw::verify(
      hook->verify, [&req](std::string_view h) { return header(req, h); }, req.body(),
      now_ms / 1000);
  if (!delivery) {
    spdlog::warn("webhook '{}': refused a delivery: {}", name, delivery.error().message);
    co_return coded_error(http::status::unauthorized, "unauthorized",
                          "signature verification failed: " + delivery.error().message);
  }
  auto& replays = ctx.services.webhooks.replays();
  sw::ReplayGuard* guard = nullptr;
  if (!delivery->id.empty()) {
    switch (replays.claim(name, delivery->id, now_ms)) {
      case sw::ReplayGuard::Claim::duplicate:
        co_return json_reply(http::status::ok,
                             json::value(json::object{{"id", delivery->id}, {"duplicate", true}}));
      case sw::ReplayGuard::Claim::in_flight:
        co_return coded_error(
            http::status::conflict, "conflict",
            fmt::format("delivery '{}' is being processed; retry later", delivery->id));
      case sw::ReplayGuard::Claim::fresh:
        guard = &replays;
        break;
    }
  }
  ClaimGuard claim(guard, name, delivery->id, ctx.services.clock, hook->window_ms());
  if (hook->target_kind == sw::Webhook::TargetKind::topic) {
    co_return co_await publish_delivery(ctx, req, *hook, *delivery, claim);
  }
  co_return co_await invoke_delivery(ctx, req, *hook, claim);
}

asio::awaitable<Response> handle_webhooks(Context& ctx, Request& req, const Target& t) {
  co_return collection_reply(ctx.services.webhooks, req, t, "webhooks");
}

}  // namespace eddy::gateway
