// /v1/topics: topic administration, publishing (the three CloudEvents HTTP modes and plain
// JSON) and reading the log by offset or time with long-poll.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <cctype>

#include "bus/topics.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "common/text.h"
#include "events/cloud_event.h"
#include "gateway/api.h"
#include "gateway/await.h"

namespace eddy::gateway {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int64_t kMaxReadLimit = 10000;
constexpr int64_t kMaxWaitMs = 60000;
constexpr size_t kMaxReadBytes = 16u << 20;

// Decodes a publish request in whichever mode it uses.
Result<std::vector<events::Event>> decode_events(const Context& ctx, const Request& req,
                                                 std::string_view topic) {
  events::Limits limits{ctx.options.max_event_bytes};
  std::string content_type(header(req, "content-type"));
  std::string mt = ascii_lower(media_type_essence(content_type));
  if (mt == "application/cloudevents+json") return events::parse_structured(req.body(), limits);
  if (mt == "application/cloudevents-batch+json") return events::parse_batch(req.body(), limits);
  if (req.find("ce-specversion") != req.end()) {
    std::vector<events::Header> headers;
    for (const auto& f : req) headers.push_back({f.name_string(), f.value()});
    auto ev = events::parse_binary(headers, content_type, req.body(), limits);
    if (!ev) return std::move(ev).error();
    std::vector<events::Event> out;
    out.push_back(std::move(*ev));
    return out;
  }
  if (mt.empty() || mt == "application/json" || mt.ends_with("+json")) {
    auto ev = events::wrap_plain(req.body(), topic, events::new_event_id(),
                                 ctx.services.clock.now_ms(), limits);
    if (!ev) return std::move(ev).error();
    std::vector<events::Event> out;
    out.push_back(std::move(*ev));
    return out;
  }
  return make_error(Errc::unsupported,
                    fmt::format("cannot publish Content-Type '{}': send "
                                "application/cloudevents+json, "
                                "application/cloudevents-batch+json, plain JSON, or a "
                                "binary-mode event with ce-* headers",
                                content_type));
}

std::string publish_reply_body(const std::vector<bus::PublishedEvent>& results) {
  std::string body;
  body.reserve(32 + results.size() * 64);
  body += R"({"results":[)";
  for (size_t i = 0; i < results.size(); ++i) {
    if (i) body += ',';
    body += R"({"id":)";
    append_json_string(body, results[i].id);
    fmt::format_to(std::back_inserter(body), R"(,"partition":{},"offset":{}}})",
                   results[i].partition, results[i].offset);
  }
  body += "]}";
  return body;
}

asio::awaitable<Response> publish(Context& ctx, Request& req, std::string_view name) {
  auto topic = ctx.services.topics.find(name);
  if (!topic) {
    co_return error_reply(Errc::not_found,
                          fmt::format("topic '{}' does not exist; create it with PUT /v1/topics/{}",
                                      name, name));
  }
  auto evs = decode_events(ctx, req, name);
  if (!evs) co_return error_reply(evs.error());
  auto published = co_await await_callback<Result<std::vector<bus::PublishedEvent>>>(
      [&](auto done) { ctx.services.topics.publish(topic, std::move(*evs), std::move(done)); });
  if (!published) co_return error_reply(published.error());
  co_return json_reply(http::status::ok, publish_reply_body(*published));
}

std::string read_reply_body(uint32_t partition, const log::ReadResult& r) {
  std::string body;
  body.reserve(r.buffer.size() + r.records.size() * 80 + 32);
  body += R"({"events":[)";
  for (size_t i = 0; i < r.records.size(); ++i) {
    const auto& rec = r.records[i];
    if (i) body += ',';
    fmt::format_to(std::back_inserter(body), R"({{"partition":{},"offset":{},"time":")", partition,
                   rec.offset);
    append_rfc3339_ms(body, rec.time_ms);
    body += R"(","event":)";
    body += rec.payload;
    body += '}';
  }
  fmt::format_to(std::back_inserter(body), R"(],"next_offset":{}}})", r.next_offset);
  return body;
}

asio::awaitable<Response> read(Context& ctx, const Target& t, std::string_view name) {
  auto topic = ctx.services.topics.find(name);
  if (!topic) {
    co_return error_reply(Errc::not_found, fmt::format("topic '{}' does not exist", name));
  }
  auto partition = t.int_param("partition", 0, 0, int64_t(topic->partition_count()) - 1);
  auto limit = t.int_param("limit", 100, 1, kMaxReadLimit);
  auto wait_ms = t.int_param("wait_ms", 0, 0, kMaxWaitMs);
  for (const auto* r : {&partition, &limit, &wait_ms}) {
    if (!*r) co_return error_reply(r->error());
  }
  auto& part = topic->partition(static_cast<uint32_t>(*partition));
  uint64_t offset = part.start_offset();
  if (auto time = t.param("time")) {
    if (t.param("offset")) {
      co_return error_reply(Errc::invalid_argument, "give either 'offset' or 'time', not both");
    }
    auto ms = parse_rfc3339_ms(*time);
    if (!ms) co_return error_reply(ms.error());
    offset = part.offset_for_time(*ms);
  } else if (t.param("offset")) {
    auto o = t.int_param("offset", 0, 0, INT64_MAX);
    if (!o) co_return error_reply(o.error());
    offset = static_cast<uint64_t>(*o);
  }

  auto do_read = [&] { return part.read(offset, static_cast<size_t>(*limit), kMaxReadBytes); };
  auto result = do_read();
  if (result && result->records.empty() && *wait_ms > 0) {
    // Long-poll: listen before re-reading so an append in between is not missed.
    auto ex = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(ex, std::chrono::milliseconds(*wait_ms));
    uint64_t id = part.add_listener([timer, ex](uint64_t) {
      asio::post(ex, [timer] { timer->cancel(); });
    });
    result = do_read();
    if (result && result->records.empty()) {
      co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
      result = do_read();
    }
    part.remove_listener(id);
  }
  if (!result) co_return error_reply(result.error());
  co_return json_reply(http::status::ok, read_reply_body(static_cast<uint32_t>(*partition), *result));
}

}  // namespace

asio::awaitable<Response> handle_topics(Context& ctx, Request& req, const Target& t) {
  auto& topics = ctx.services.topics;
  const auto& seg = t.segments;
  const auto method = req.method();
  if (seg.size() == 2) {
    if (method != http::verb::get) co_return method_not_allowed("GET");
    bool internal = t.param("internal") == "true";
    co_return json_reply(http::status::ok,
                         json::value(json::object{{"topics", topics.list(internal)}}));
  }
  const std::string& name = seg[2];
  if (seg.size() == 3) {
    co_return resource_reply(topics, req, name);
  }
  if (seg.size() == 4 && seg[3] == "events") {
    if (method == http::verb::post) co_return co_await publish(ctx, req, name);
    if (method == http::verb::get) co_return co_await read(ctx, t, name);
    co_return method_not_allowed("POST, GET");
  }
  co_return error_reply(Errc::not_found, fmt::format("no such endpoint: {}", std::string_view(req.target())));
}

}  // namespace eddy::gateway
