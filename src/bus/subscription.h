// Subscription: the delivery engine of one subscription (see subscriptions.h for the
// contract). It owns a PartitionCursor per partition of its topic, plus one per partition
// of the dead-letter topic while a redrive is in progress, and moves events from the log
// to pullers or push targets. SubscriptionManager owns the Subscriptions; this header is
// internal to the bus.
//
// Threading: thread-safe; one mutex guards all state. Log reads happen under it; callbacks
// (pull answers, push completions, catalog writes) run outside it.
#pragma once

#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event_rewrite.h"
#include "bus/partition_cursor.h"
#include "bus/subscription_config.h"
#include "bus/subscriptions.h"
#include "rules/transform.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio
namespace eddy::log {
class Topic;
class Partition;
}  // namespace eddy::log

namespace eddy::bus {

class PushClient;
class TopicFilter;

// An ack id names a lease of one event: `{partition}.{offset}.{lease}`, with an `r` before
// the partition for an event redriven from the dead-letter topic.
struct AckRef {
  bool redrive = false;
  uint32_t partition = 0;
  uint64_t offset = 0;
  uint64_t lease = 0;
};
std::string format_ack_id(const AckRef& ref);
std::optional<AckRef> parse_ack_id(std::string_view id);

class Subscription : public std::enable_shared_from_this<Subscription> {
 public:
  struct Deps {
    boost::asio::io_context& io;
    boost::asio::thread_pool& writer;  // writes the ack state, so io threads never fsync
    catalog::Catalog& catalog;
    TopicManager& topics;
    const Clock& clock;
    const FunctionTarget& functions;
  };

  // A subscription over `topic` (null: the topic is gone; the subscription then only
  // answers errors). `filters` holds the filters of the topic's subscriptions (null when
  // `topic` is); this one's filter joins them. `state` is the ack state the catalog holds
  // (nullopt for a new subscription, which starts at config.start). Call start() to begin
  // delivering.
  static Result<std::shared_ptr<Subscription>> create(Deps deps, std::string name,
                                                      SubscriptionConfig config,
                                                      std::shared_ptr<log::Topic> topic,
                                                      std::shared_ptr<TopicFilter> filters,
                                                      const std::optional<std::string>& state);
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Registers the partition listeners and delivers what is pending.
  void start();
  // Answers waiting pullers, stops delivering and releases the topic; writes the ack state
  // when `persist`. Idempotent.
  void stop(bool persist);
  // Applies a new configuration with the same topic, mode and start.
  Status reconfigure(SubscriptionConfig config);
  // Writes the ack state to the catalog now.
  Status flush_now();

  const std::string& name() const { return name_; }
  SubscriptionConfig config() const;

  void pull(size_t max_events, int64_t wait_ms, PullCallback done);
  // Unknown or stale ids are ignored; malformed ones are rejected before anything changes.
  Result<size_t> ack(std::span<const std::string> ack_ids);
  Result<size_t> nack(std::span<const std::string> ack_ids, int64_t delay_ms);
  Result<boost::json::object> seek(const boost::json::object& body);
  Result<boost::json::object> redrive();

  boost::json::object stats() const;

 private:
  struct Source;
  struct Waiter;
  struct Delivery;
  struct DeadLetter;
  struct Asio;

  Subscription(Deps deps, std::string name, SubscriptionConfig config);
  Status init(std::shared_ptr<log::Topic> topic, std::shared_ptr<TopicFilter> filters,
              const std::optional<std::string>& state);

  // All below run with mu_ held unless noted.
  Source* source_for(bool redrive, uint32_t partition);
  size_t source_count() const { return main_.size() + redrive_.size(); }
  Source& source_at(size_t i);
  Now now() const;
  bool attached();
  void detach();
  void fill(Source& s, size_t want);
  std::vector<PulledMessage> collect(size_t max);
  void collect_dead(Source& s, const std::vector<uint64_t>& offsets, std::vector<DeadLetter>& out);
  void retire_redrive();
  void drop_filter();
  void rearm();
  void mark_dirty();
  std::string state_json() const;
  Error stopped_error() const;

  // Without mu_ held.
  void on_data();
  void post_pump();
  void pump();
  void on_timer();
  void waiter_expired(uint64_t id);
  void flush();
  void deliver(Delivery d);
  // One result per item of `d`: nullopt for success.
  void complete(const Delivery& d, std::vector<std::optional<Failure>> results);
  void fail_all(const Delivery& d, const Failure& failure);
  // What a function's outcome means for each event of the delivery (batchItemFailures).
  static std::vector<std::optional<Failure>> function_results(const Delivery& d,
                                                              const FunctionOutcome& outcome,
                                                              bool batched);
  void arm_window(TimePoint at);
  void send_dead(std::vector<DeadLetter> dead);
  void dead_published(std::shared_ptr<std::vector<DeadLetter>> dead, bool ok);

  Deps deps_;
  const std::string name_;
  mutable std::mutex mu_;
  SubscriptionConfig config_;
  std::shared_ptr<TopicFilter> filters_;
  uint64_t filter_id_ = 0;  // this subscription's filter in filters_
  bool filtered_ = false;   // whether it has one
  rules::Transform transform_;
  std::shared_ptr<PushClient> push_;
  std::shared_ptr<log::Topic> topic_;
  std::shared_ptr<log::Topic> dl_topic_;  // the topic redrive sources read
  std::vector<std::unique_ptr<Source>> main_;
  std::map<uint32_t, std::unique_ptr<Source>> redrive_;
  std::vector<uint64_t> redrive_mark_;  // per dead-letter partition: where the next redrive starts
  uint64_t lease_counter_ = 0;
  size_t rr_ = 0;
  std::list<Waiter> waiters_;
  uint64_t next_waiter_ = 0;
  size_t in_flight_ = 0;
  std::unique_ptr<Asio> asio_;  // timers
  std::optional<TimePoint> armed_at_;
  std::optional<TimePoint> window_at_;  // when a function batch waiting to fill is due
  bool flush_scheduled_ = false;
  bool dirty_ = false;
  bool stopped_ = false;
  bool detached_ = false;
  std::mt19937_64 rng_;
  std::mutex flush_mu_;  // orders catalog writes of the state
  std::atomic<size_t> waiting_{0};
  std::atomic<bool> pump_posted_{false};
  std::atomic<bool> pushes_{false};

  struct Counters {
    uint64_t deliveries = 0, retries = 0, acks = 0, nacks = 0, expired = 0;
    uint64_t dead_lettered = 0, discarded = 0, filtered = 0, push_failures = 0;
  } counters_;
};

}  // namespace eddy::bus
