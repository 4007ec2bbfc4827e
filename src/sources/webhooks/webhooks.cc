#include "sources/webhooks/webhooks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cctype>

#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "events/stored_json.h"

namespace eddy::sources::webhooks {
namespace json = boost::json;

namespace {

constexpr std::string_view kKind = "webhook";
constexpr size_t kScanBatch = 1000;
constexpr size_t kScanBytes = 4u << 20;

Status validate_name(std::string_view name) {
  bool ok =
      !name.empty() && name.size() <= 200 && name != "." && name != ".." &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (!ok) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("webhook name '{}' must be 1-200 characters of A-Z a-z 0-9 . _ -", name));
  }
  return {};
}

// Percent-encodes a binary-mode header value as the CloudEvents HTTP binding reads it.
std::string ce_header_value(std::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '%') {
      out += fmt::format("%{:02X}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Webhook>> Webhook::parse(std::string_view name,
                                                      const json::object& body) {
  if (auto s = validate_name(name); !s) return std::move(s).error();
  if (auto s = reject_unknown_fields(body, {"verify", "target", "payload_version"}); !s) {
    return std::move(s).error();
  }
  auto h = std::make_shared<Webhook>();
  h->name = std::string(name);
  auto vit = body.find("verify");
  if (vit == body.end() || vit->value().is_null()) {
    return make_error(
        Errc::invalid_argument,
        "'verify' is required: {\"scheme\":\"stripe\"|\"github\"|\"hmac\",\"secret\":...}; "
        "eddy never accepts unverified webhooks");
  }
  auto verify = VerifyConfig::parse(vit->value());
  if (!verify) return std::move(verify).error();
  h->verify = std::move(*verify);
  auto tit = body.find("target");
  if (tit == body.end() || !tit->value().is_object() || tit->value().as_object().size() != 1) {
    return make_error(Errc::invalid_argument,
                      "'target' must be {\"topic\":NAME} or {\"function\":NAME}");
  }
  const auto& [kind, value] = *tit->value().as_object().begin();
  if ((kind != "topic" && kind != "function") || !value.is_string() || value.as_string().empty()) {
    return make_error(Errc::invalid_argument,
                      "'target' must be {\"topic\":NAME} or {\"function\":NAME}");
  }
  h->target_kind = kind == "topic" ? TargetKind::topic : TargetKind::function;
  h->target = std::string(value.as_string());
  if (h->target_kind == TargetKind::topic) {
    if (auto s = bus::validate_topic_name(h->target); !s) return std::move(s).error();
  }
  auto version = get_string(body, "payload_version");
  if (!version) return std::move(version).error();
  if (*version) {
    auto v = http::parse_payload_version(**version);
    if (!v) return std::move(v).error();
    h->payload_version = *v;
  }
  return std::shared_ptr<const Webhook>(std::move(h));
}

json::object Webhook::to_json(bool redact) const {
  json::object o{
      {"name", name},
      {"verify", verify.to_json(redact)},
      {"target", json::object{{target_kind == TargetKind::topic ? "topic" : "function", target}}},
      {"url", "/hooks/" + name}};
  if (target_kind == TargetKind::function) {
    o["payload_version"] = http::payload_version_name(payload_version);
  }
  return o;
}

Result<events::Event> delivery_event(const Webhook& hook, const Delivery& delivery,
                                     std::string_view content_type, std::string_view body,
                                     int64_t now_ms, const events::Limits& limits) {
  std::string id = ce_header_value(delivery.id.empty() ? events::new_event_id() : delivery.id);
  std::string source = ce_header_value(hook.source());
  std::string type =
      ce_header_value(delivery.type.empty() ? std::string("eddy.webhook") : delivery.type);
  std::string time = format_rfc3339_ms(now_ms);
  events::Header headers[] = {{"ce-specversion", "1.0"},
                              {"ce-id", id},
                              {"ce-source", source},
                              {"ce-type", type},
                              {"ce-time", time}};
  return events::parse_binary(headers, content_type, body, limits);
}

WebhookManager::WebhookManager(catalog::Catalog& catalog, bus::TopicManager& topics,
                               const Clock& clock)
    : catalog_(catalog), topics_(topics), clock_(clock) {}

Status WebhookManager::open_all() {
  std::lock_guard admin(admin_mu_);
  auto rows = catalog_.list(kKind);
  if (!rows) return std::move(rows).error();
  for (const auto& row : *rows) {
    auto spec = parse_json_object(row.spec);
    auto hook = spec ? Webhook::parse(row.name, *spec)
                     : Result<std::shared_ptr<const Webhook>>(spec.error());
    if (!hook) {
      spdlog::error("webhook '{}' in the catalog is invalid and is not served: {}", row.name,
                    hook.error().message);
      continue;
    }
    rebuild_replays(**hook);
    std::lock_guard lock(mu_);
    hooks_[row.name] = std::move(*hook);
  }
  return {};
}

void WebhookManager::rebuild_replays(const Webhook& hook) {
  if (hook.target_kind != Webhook::TargetKind::topic) return;
  auto topic = topics_.find(hook.target);
  if (!topic) return;
  int64_t now = clock_.now_ms();
  std::string source = hook.source();
  size_t seen = 0;
  for (uint32_t p = 0; p < topic->partition_count(); ++p) {
    auto& part = topic->partition(p);
    uint64_t offset = part.offset_for_time(now - hook.window_ms());
    for (;;) {
      auto r = part.read(offset, kScanBatch, kScanBytes);
      if (!r || r->records.empty()) break;
      for (const auto& rec : r->records) {
        if (events::attribute(rec.payload, "source") != source) continue;
        if (auto id = events::attribute(rec.payload, "id")) {
          replays_.remember(hook.name, *id, rec.time_ms + hook.window_ms());
          ++seen;
        }
      }
      offset = r->next_offset;
    }
  }
  if (seen)
    spdlog::info("webhook '{}': {} recent deliveries remembered for replay detection", hook.name,
                 seen);
}

Result<std::pair<json::object, bool>> WebhookManager::put(std::string_view name,
                                                          const json::object& body) {
  auto hook = Webhook::parse(name, body);
  if (!hook) return std::move(hook).error();
  std::lock_guard admin(admin_mu_);
  if ((*hook)->target_kind == Webhook::TargetKind::topic) {
    auto t = topics_.ensure((*hook)->target);
    if (!t) return std::move(t).error();
  }
  json::object spec = (*hook)->to_json(false);
  spec.erase("name");
  spec.erase("url");
  if (auto s = catalog_.put(kKind, name, json_text(spec), clock_.now_ms()); !s) {
    return std::move(s).error();
  }
  std::shared_ptr<const Webhook> old;
  {
    std::lock_guard lock(mu_);
    auto& slot = hooks_[std::string(name)];
    old = std::move(slot);
    slot = *hook;
  }
  if (old && (old->target_kind != (*hook)->target_kind || old->target != (*hook)->target)) {
    replays_.forget(name);
  }
  return std::pair{(*hook)->to_json(true), old == nullptr};
}

Result<json::object> WebhookManager::describe(std::string_view name) const {
  auto h = find(name);
  if (!h) return make_error(Errc::not_found, fmt::format("webhook '{}' does not exist", name));
  return h->to_json(true);
}

json::array WebhookManager::list() const {
  std::lock_guard lock(mu_);
  json::array out;
  for (const auto& [name, h] : hooks_) out.push_back(h->to_json(true));
  return out;
}

Status WebhookManager::remove(std::string_view name) {
  std::lock_guard admin(admin_mu_);
  if (!find(name))
    return make_error(Errc::not_found, fmt::format("webhook '{}' does not exist", name));
  if (auto s = catalog_.remove(kKind, name); !s) return s;
  {
    std::lock_guard lock(mu_);
    hooks_.erase(hooks_.find(name));
  }
  replays_.forget(name);
  return {};
}

std::shared_ptr<const Webhook> WebhookManager::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = hooks_.find(name);
  return it == hooks_.end() ? nullptr : it->second;
}

}  // namespace eddy::sources::webhooks
