// Webhooks: `PUT /v1/webhooks/{name}` {"verify":{...},"target":{"topic":T}|{"function":F},
// "payload_version":"1.0"|"2.0"}, served at `POST /hooks/{name}`. The registry lives in the
// catalog (kind "webhook"); a topic named as a target is created when missing.
//
// A verified delivery to a topic becomes one CloudEvent: `id` = the provider's event id
// (Stripe's `id`, GitHub's X-GitHub-Delivery, the hmac scheme's id header) or a new one,
// `source` = /hooks/{name}, `type` = the provider's event type (Stripe's `type`, GitHub's
// X-GitHub-Event) or `eddy.webhook`, `time` = arrival, and the body as data in binary-mode
// rules (JSON stays JSON, text a string, anything else data_base64). Because the provider's
// id is the event id, the log itself says which deliveries were accepted: open_all()
// re-reads each topic target's last replay window into the ReplayGuard, so a replay is
// still recognised after a restart. (Function targets are remembered in memory only.)
//
// Threading: thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "common/error.h"
#include "events/cloud_event.h"
#include "sources/http/route.h"
#include "sources/webhooks/replay_guard.h"
#include "sources/webhooks/signature.h"

namespace eddy::catalog {
class Catalog;
}
namespace eddy::bus {
class TopicManager;
}

namespace eddy::sources::webhooks {

struct Webhook {
  enum class TargetKind { topic, function };

  std::string name;
  VerifyConfig verify;
  TargetKind target_kind = TargetKind::topic;
  std::string target;                                               // topic or function name
  http::PayloadVersion payload_version = http::PayloadVersion::v2;  // function targets

  // Errors are invalid_argument naming the field.
  static Result<std::shared_ptr<const Webhook>> parse(std::string_view name,
                                                      const boost::json::object& body);
  boost::json::object to_json(bool redact) const;
  // The replay window: the scheme's tolerance.
  int64_t window_ms() const { return verify.tolerance_s * 1000; }
  std::string source() const { return "/hooks/" + name; }
};

// The CloudEvent for a verified delivery (see the header comment).
Result<events::Event> delivery_event(const Webhook& hook, const Delivery& delivery,
                                     std::string_view content_type, std::string_view body,
                                     int64_t now_ms, const events::Limits& limits);

class WebhookManager {
 public:
  WebhookManager(catalog::Catalog& catalog, bus::TopicManager& topics, const Clock& clock);

  // Loads the registry and rebuilds the replay guard from the topic targets' logs.
  Status open_all();

  // Creates or replaces a webhook; returns its description (secrets redacted) and whether
  // it was created. Replacing one forgets the ids it had accepted only if its target changed.
  Result<std::pair<boost::json::object, bool>> put(std::string_view name,
                                                   const boost::json::object& body);
  Result<boost::json::object> describe(std::string_view name) const;
  boost::json::array list() const;
  Status remove(std::string_view name);

  std::shared_ptr<const Webhook> find(std::string_view name) const;
  ReplayGuard& replays() { return replays_; }

 private:
  void rebuild_replays(const Webhook& hook);

  catalog::Catalog& catalog_;
  bus::TopicManager& topics_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::mutex admin_mu_;
  std::map<std::string, std::shared_ptr<const Webhook>, std::less<>> hooks_;
  ReplayGuard replays_;
};

}  // namespace eddy::sources::webhooks
