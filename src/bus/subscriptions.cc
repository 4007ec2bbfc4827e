#include "bus/subscriptions.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "bus/subscription.h"
#include "bus/topic_filter.h"
#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/io_threads.h"
#include "common/json_util.h"
#include "log/topic.h"

namespace eddy::bus {
namespace json = boost::json;

namespace {

constexpr std::string_view kKind = "subscription";
constexpr std::string_view kStateKey = "acks";
constexpr int64_t kMaxPullEvents = 10000;
constexpr int64_t kMaxWaitMs = 60000;
constexpr size_t kMaxAckIds = 100000;

bool same_start(const StartPosition& a, const StartPosition& b) {
  return a.kind == b.kind && a.value == b.value;
}

Result<std::vector<std::string>> read_ack_ids(const json::object& body) {
  auto it = body.find("ack_ids");
  if (it == body.end() || !it->value().is_array()) {
    return make_error(Errc::invalid_argument,
                      "'ack_ids' is required: an array of the ack_id strings a pull returned");
  }
  const auto& arr = it->value().as_array();
  if (arr.size() > kMaxAckIds) {
    return make_error(Errc::too_large, fmt::format("at most {} ack_ids per request", kMaxAckIds));
  }
  std::vector<std::string> ids;
  ids.reserve(arr.size());
  for (const auto& v : arr) {
    if (!v.is_string()) {
      return make_error(Errc::invalid_argument, "'ack_ids' must hold strings only");
    }
    ids.emplace_back(v.get_string());
  }
  return ids;
}

}  // namespace

SubscriptionManager::SubscriptionManager(IoThreads& io, catalog::Catalog& catalog,
                                         TopicManager& topics, const Clock& clock)
    : io_(io),
      writer_(std::make_unique<boost::asio::thread_pool>(1)),
      catalog_(catalog),
      topics_(topics),
      clock_(clock) {}

SubscriptionManager::~SubscriptionManager() {
  stop();
  writer_->join();
}

void SubscriptionManager::set_function_target(FunctionTarget target) {
  functions_ = std::move(target);
}

Status SubscriptionManager::open_all() {
  auto all = catalog_.list(kKind);
  if (!all) return std::move(all).error();
  for (const auto& r : *all) {
    json::error_code ec;
    json::value spec = json::parse(r.spec, ec);
    if (ec || !spec.is_object()) {
      return make_error(Errc::corrupt,
                        fmt::format("catalog entry for subscription '{}' is not JSON", r.name));
    }
    auto config = SubscriptionConfig::from_json(spec.as_object());
    if (!config) {
      return make_error(Errc::corrupt, fmt::format("catalog entry for subscription '{}': {}",
                                                   r.name, config.error().message));
    }
    auto state = catalog_.get_state(kKind, r.name, kStateKey);
    if (!state) return std::move(state).error();
    auto topic = topics_.find(config->topic);
    if (!topic) {
      spdlog::warn("subscription '{}': its topic '{}' no longer exists", r.name, config->topic);
    }
    Subscription::Deps deps{io_.at(io_.next()), *writer_, catalog_, topics_, clock_, functions_};
    auto filters = filters_for(topic);
    auto sub = Subscription::create(deps, r.name, std::move(*config), std::move(topic),
                                    std::move(filters), *state);
    if (!sub) return std::move(sub).error();
    (*sub)->start();
    std::lock_guard lock(mu_);
    subs_[r.name] = std::move(*sub);
  }
  spdlog::info("opened {} subscription(s)", all->size());
  return {};
}

std::shared_ptr<TopicFilter> SubscriptionManager::filters_for(
    const std::shared_ptr<log::Topic>& topic) {
  if (!topic) return nullptr;
  std::lock_guard lock(mu_);
  std::erase_if(filters_, [](const auto& kv) { return kv.second.expired(); });
  auto& slot = filters_[topic->name()];
  auto filters = slot.lock();
  if (!filters || !filters->serves(topic)) {
    filters = std::make_shared<TopicFilter>(topic);
    slot = filters;
  }
  return filters;
}

std::shared_ptr<Subscription> SubscriptionManager::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = subs_.find(name);
  return it == subs_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Subscription>> SubscriptionManager::find_or_error(
    std::string_view name) const {
  if (auto s = find(name)) return s;
  return make_error(Errc::not_found, fmt::format("subscription '{}' does not exist; create it "
                                                 "with PUT /v1/subscriptions/{}",
                                                 name, name));
}

Result<std::pair<json::object, bool>> SubscriptionManager::put(std::string_view name,
                                                               const json::object& body) {
  if (auto s = validate_subscription_name(name); !s) return std::move(s).error();
  auto config = SubscriptionConfig::from_json(body);
  if (!config) return std::move(config).error();
  std::lock_guard admin(admin_mu_);
  auto topic = topics_.find(config->topic);
  if (!topic) {
    return make_error(Errc::not_found,
                      fmt::format("topic '{}' does not exist; create it with PUT /v1/topics/{}",
                                  config->topic, config->topic));
  }
  if (config->target == SubscriptionConfig::Target::function) {
    if (!functions_.invoke) {
      return make_error(Errc::invalid_argument, "this server does not run functions");
    }
    if (!functions_.exists(config->target_function)) {
      return make_error(Errc::not_found,
                        fmt::format("function '{}' does not exist; deploy it with PUT "
                                    "/v1/functions/{}",
                                    config->target_function, config->target_function));
    }
  }
  // Topics named as targets are created when missing.
  for (const auto* t : {&config->dead_letter_topic, &config->target_topic}) {
    if (t->empty()) continue;
    if (auto r = topics_.ensure(*t); !r) return std::move(r).error();
  }
  const std::string spec = json_text(config->to_json());
  if (auto existing = find(name)) {
    auto old = existing->config();
    if (old.topic != config->topic || old.mode != config->mode ||
        !same_start(old.start, config->start)) {
      return make_error(Errc::conflict,
                        fmt::format("subscription '{}' exists with another topic, mode or start; "
                                    "those cannot change (use seek to move it, or delete it "
                                    "and create it again)",
                                    name));
    }
    if (auto s = catalog_.put(kKind, name, spec, clock_.now_ms()); !s) return std::move(s).error();
    if (auto s = existing->reconfigure(std::move(*config)); !s) return std::move(s).error();
    auto d = describe(name);
    if (!d) return std::move(d).error();
    return std::pair{std::move(*d), false};
  }
  Subscription::Deps deps{io_.at(io_.next()), *writer_, catalog_, topics_, clock_, functions_};
  auto sub = Subscription::create(deps, std::string(name), *config, topic, filters_for(topic),
                                  std::nullopt);
  if (!sub) return std::move(sub).error();
  // The spec first, then the start position: a crash in between leaves a subscription that
  // computes its start again at the next open.
  if (auto s = catalog_.put(kKind, name, spec, clock_.now_ms()); !s) return std::move(s).error();
  if (auto s = (*sub)->flush_now(); !s) {
    (void)catalog_.remove(kKind, name);
    return std::move(s).error();
  }
  (*sub)->start();
  {
    std::lock_guard lock(mu_);
    subs_[std::string(name)] = *sub;
  }
  spdlog::info("created subscription '{}' on topic '{}'", name, config->topic);
  auto d = describe(name);
  if (!d) return std::move(d).error();
  return std::pair{std::move(*d), true};
}

Result<json::object> SubscriptionManager::describe(std::string_view name) const {
  auto sub = find_or_error(name);
  if (!sub) return std::move(sub).error();
  json::object o;
  o["name"] = (*sub)->name();
  for (auto& kv : (*sub)->config().to_json()) o[kv.key()] = kv.value();
  o["stats"] = (*sub)->stats();
  return o;
}

json::array SubscriptionManager::list() const {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, s] : subs_) names.push_back(n);
  }
  json::array out;
  for (const auto& n : names) {
    if (auto d = describe(n)) out.push_back(std::move(*d));
  }
  return out;
}

Status SubscriptionManager::remove(std::string_view name) {
  std::lock_guard admin(admin_mu_);
  std::shared_ptr<Subscription> sub;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(name);
    if (it == subs_.end()) {
      return make_error(Errc::not_found, fmt::format("subscription '{}' does not exist", name));
    }
    sub = std::move(it->second);
    subs_.erase(it);
  }
  sub->stop(/*persist=*/false);
  spdlog::info("deleted subscription '{}'", name);
  return catalog_.remove(kKind, name);
}

void SubscriptionManager::pull(std::string_view name, const json::object& body, PullCallback done) {
  auto sub = find_or_error(name);
  if (!sub) return done(std::move(sub).error());
  if (auto s = reject_unknown_fields(body, {"max_events", "wait_ms"}); !s) {
    return done(std::move(s).error());
  }
  auto max_events = get_int(body, "max_events");
  if (!max_events) return done(std::move(max_events).error());
  auto wait_ms = get_int(body, "wait_ms");
  if (!wait_ms) return done(std::move(wait_ms).error());
  int64_t max = max_events->value_or((*sub)->config().max_events());
  int64_t wait = wait_ms->value_or(0);
  if (max < 1 || max > kMaxPullEvents) {
    return done(make_error(Errc::invalid_argument,
                           fmt::format("'max_events' must be from 1 to {}", kMaxPullEvents)));
  }
  if (wait < 0 || wait > kMaxWaitMs) {
    return done(make_error(Errc::invalid_argument,
                           fmt::format("'wait_ms' must be from 0 to {}", kMaxWaitMs)));
  }
  (*sub)->pull(static_cast<size_t>(max), wait, std::move(done));
}

Result<json::object> SubscriptionManager::ack(std::string_view name, const json::object& body) {
  auto sub = find_or_error(name);
  if (!sub) return std::move(sub).error();
  if (auto s = reject_unknown_fields(body, {"ack_ids"}); !s) return std::move(s).error();
  auto ids = read_ack_ids(body);
  if (!ids) return std::move(ids).error();
  auto n = (*sub)->ack(*ids);
  if (!n) return std::move(n).error();
  return json::object{{"acked", *n}};
}

Result<json::object> SubscriptionManager::nack(std::string_view name, const json::object& body) {
  auto sub = find_or_error(name);
  if (!sub) return std::move(sub).error();
  if (auto s = reject_unknown_fields(body, {"ack_ids", "delay_ms"}); !s)
    return std::move(s).error();
  auto ids = read_ack_ids(body);
  if (!ids) return std::move(ids).error();
  auto delay = get_int(body, "delay_ms");
  if (!delay) return std::move(delay).error();
  if (delay->value_or(0) < 0 || delay->value_or(0) > 86400000) {
    return make_error(Errc::invalid_argument, "'delay_ms' must be from 0 to 86400000");
  }
  auto n = (*sub)->nack(*ids, delay->value_or(0));
  if (!n) return std::move(n).error();
  return json::object{{"nacked", *n}};
}

Result<json::object> SubscriptionManager::seek(std::string_view name, const json::object& body) {
  auto sub = find_or_error(name);
  if (!sub) return std::move(sub).error();
  return (*sub)->seek(body);
}

Result<json::object> SubscriptionManager::redrive(std::string_view name) {
  auto sub = find_or_error(name);
  if (!sub) return std::move(sub).error();
  return (*sub)->redrive();
}

std::string SubscriptionManager::render_metrics() const {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, s] : subs_) subs.push_back(s);
  }
  struct Metric {
    std::string_view name, key, type, help;
    double divisor;
    std::string lines;
  };
  Metric metrics[] = {
      {"eddy_subscription_backlog", "backlog", "gauge", "Events not yet acked.", 1, {}},
      {"eddy_subscription_oldest_unacked_age_seconds",
       "oldest_unacked_age_ms",
       "gauge",
       "Age of the oldest event not yet acked.",
       1000,
       {}},
      {"eddy_subscription_in_flight",
       "in_flight",
       "gauge",
       "Events delivered and not yet acked.",
       1,
       {}},
      {"eddy_subscription_deliveries_total",
       "deliveries",
       "counter",
       "Deliveries since start.",
       1,
       {}},
      {"eddy_subscription_retries_total", "retries", "counter", "Redeliveries since start.", 1, {}},
      {"eddy_subscription_acks_total", "acks", "counter", "Events acked since start.", 1, {}},
      {"eddy_subscription_dead_lettered_total",
       "dead_lettered",
       "counter",
       "Events sent to the dead-letter topic since start.",
       1,
       {}},
  };
  for (const auto& s : subs) {
    auto st = s->stats();
    for (auto& m : metrics) {
      m.lines += fmt::format("{}{{subscription=\"{}\"}} {}\n", m.name, s->name(),
                             st[m.key].to_number<double>() / m.divisor);
    }
  }
  std::string out;
  for (const auto& m : metrics) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n", m.name, m.help, m.type);
    out += m.lines;
  }
  return out;
}

void SubscriptionManager::stop() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mu_);
    for (const auto& [n, s] : subs_) subs.push_back(s);
  }
  for (auto& s : subs) s->stop(/*persist=*/true);
}

}  // namespace eddy::bus
