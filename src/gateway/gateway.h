// The gateway: eddy's one HTTP listener. It dispatches each request by path to the native
// API (/v1/...), health and metrics (/healthz, /_eddy/...), and later the Lambda, S3,
// webhook and user-route handlers. It owns no state of its own beyond connections: every
// handler calls into the subsystems listed in Services.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/error.h"

namespace eddy {
class IoThreads;
}

namespace eddy::catalog {
class Catalog;
}
namespace eddy::bus {
class TopicManager;
class SubscriptionManager;
}

namespace eddy::functions {
class FunctionManager;
}
namespace eddy::sources::http {
class RouteManager;
}
namespace eddy::sources::webhooks {
class WebhookManager;
}

namespace eddy::gateway {

struct GatewayOptions {
  std::string listen = "127.0.0.1:8400";
  size_t max_request_bytes = 64u << 20;
  size_t max_event_bytes = 1u << 20;
};

// The subsystems the handlers use. All must outlive the Gateway.
struct Services {
  catalog::Catalog& catalog;
  bus::TopicManager& topics;
  const Clock& clock;
  bus::SubscriptionManager& subscriptions;
  functions::FunctionManager& functions;
  sources::http::RouteManager& routes;
  sources::webhooks::WebhookManager& webhooks;
};

class Gateway {
 public:
  Gateway(IoThreads& io, GatewayOptions options, Services services);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts listening; returns the bound port.
  Result<uint16_t> start();
  // Stops accepting and lets in-flight requests finish.
  void stop();
  bool drained() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::gateway
