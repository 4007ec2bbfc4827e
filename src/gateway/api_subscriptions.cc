// /v1/subscriptions: subscription administration, and the pull API (pull with long-poll,
// ack, nack, seek, redrive).
#include <fmt/format.h>
#include <boost/json/value.hpp>

#include "bus/subscriptions.h"
#include "common/json_util.h"
#include "gateway/api.h"
#include "gateway/await.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string pull_reply_body(const std::vector<bus::PulledMessage>& msgs) {
  size_t size = 32;
  for (const auto& m : msgs) size += m.event.size() + m.ack_id.size() + 96;
  std::string body;
  body.reserve(size);
  body += R"({"messages":[)";
  for (size_t i = 0; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    if (i) body += ',';
    body += R"({"ack_id":)";
    append_json_string(body, m.ack_id);
    fmt::format_to(std::back_inserter(body),
                   R"(,"delivery_attempt":{},"partition":{},"offset":{},)", m.delivery_attempt,
                   m.partition, m.offset);
    if (m.redriven) body += R"("redriven":true,)";
    body += R"("event":)";
    body += m.event;
    body += '}';
  }
  body += "]}";
  return body;
}

Response object_reply(Result<json::object> r) {
  if (!r) return error_reply(r.error());
  return json_reply(http::status::ok, json::value(std::move(*r)));
}

}  // namespace

asio::awaitable<Response> handle_subscriptions(Context& ctx, Request& req, const Target& t) {
  auto& subs = ctx.services.subscriptions;
  const auto& seg = t.segments;
  const auto method = req.method();
  if (seg.size() == 2) {
    if (method != http::verb::get) co_return method_not_allowed("GET");
    co_return json_reply(http::status::ok,
                         json::value(json::object{{"subscriptions", subs.list()}}));
  }
  const std::string& name = seg[2];
  if (seg.size() == 3) {
    co_return resource_reply(subs, req, name);
  }
  if (seg.size() == 4) {
    const std::string& verb = seg[3];
    if (verb != "pull" && verb != "ack" && verb != "nack" && verb != "seek" && verb != "redrive") {
      co_return error_reply(Errc::not_found,
                            fmt::format("no such endpoint: {}; subscriptions take pull, ack, "
                                        "nack, seek and redrive",
                                        std::string_view(req.target())));
    }
    if (method != http::verb::post) co_return method_not_allowed("POST");
    auto body = parse_json_object(req.body());
    if (!body) co_return error_reply(body.error());
    if (verb == "pull") {
      auto pulled = co_await await_callback<Result<std::vector<bus::PulledMessage>>>(
          [&](auto done) { subs.pull(name, *body, std::move(done)); });
      if (!pulled) co_return error_reply(pulled.error());
      co_return json_reply(http::status::ok, pull_reply_body(*pulled));
    }
    if (verb == "ack") co_return object_reply(subs.ack(name, *body));
    if (verb == "nack") co_return object_reply(subs.nack(name, *body));
    if (verb == "seek") co_return object_reply(subs.seek(name, *body));
    if (!body->empty()) {
      co_return error_reply(Errc::invalid_argument, "redrive takes no fields; send {} or nothing");
    }
    co_return object_reply(subs.redrive(name));
  }
  co_return error_reply(Errc::not_found,
                        fmt::format("no such endpoint: {}", std::string_view(req.target())));
}

}  // namespace eddy::gateway
