// Subscriptions: named, durable consumers of a topic. Every subscription sees every event
// of its topic (fan-out) that passes its filter, and is consumed by pulling or pushed to an
// HTTP URL, a function or another topic. See DESIGN.md for the contract; bus/README.md for the
// rules.
//
// Mode `queue` acks each event on its own, redelivers it when its ack deadline passes or on
// a nack, and after `retry.max_attempts` deliveries publishes it to the dead-letter topic
// with its delivery history. Mode `stream` keeps order per partition: one batch in flight
// per partition, an ack commits everything before it.
//
// Durability: configuration is a catalog resource (kind "subscription"); the ack state (a
// committed offset plus the runs of acks above it, per partition) is written to the
// catalog's state table at most kStateFlushInterval after it changes, and at shutdown. A
// kill -9 therefore redelivers what was acked in the last ~100 ms: delivery is at least
// once. Failed events' attempt counts, first attempt times and last errors are saved with
// the ack state, so retry limits hold across restarts.
//
// Cost: no thread per subscription. Each runs on one of the App's io threads; ack-state writes run
// on one writer thread shared by all subscriptions, so io threads never wait for SQLite's
// fsync. Partition listeners wake a subscription only when it has a waiting puller or a
// push target, and timers are armed only while messages are leased or backing off, so an
// idle subscription uses no CPU.
//
// Threading: SubscriptionManager is thread-safe. Callbacks run on the io threads.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio
namespace eddy {
class IoThreads;
}
namespace eddy::catalog {
class Catalog;
}
namespace eddy::log {
class Topic;
}

namespace eddy::bus {

class TopicManager;
class TopicFilter;
class Subscription;

inline constexpr std::chrono::milliseconds kStateFlushInterval{100};

struct PulledMessage {
  std::string ack_id;
  uint32_t delivery_attempt = 0;
  uint32_t partition = 0;  // of the topic; for a redriven event, of the dead-letter topic
  uint64_t offset = 0;
  bool redriven = false;
  std::string event;  // the stored event (CloudEvents structured JSON), or its transform as JSON
};

using PullCallback = std::function<void(Result<std::vector<PulledMessage>>)>;

// How a delivery to a function ended.
struct FunctionOutcome {
  bool ok = false;
  bool permanent = false;  // retrying cannot help (the event is refused as input)
  std::string error;       // for the dead letter's `eddyerror`
  std::string payload;     // the function's result, when ok (read for batchItemFailures)
};

// How subscriptions reach functions. The functions subsystem depends on the bus, so the App
// hands these in; until it does, function targets are refused.
struct FunctionTarget {
  // Whether a function of this name exists.
  std::function<bool(std::string_view name)> exists;
  // Invokes the function once with `payload` (a stored CloudEvent or the subscription's
  // transform of it, or {"Records":[...]} of them); `done` is called once, on any thread.
  std::function<void(std::string_view name, std::string payload,
                     std::function<void(FunctionOutcome)> done)>
      invoke;
};

class SubscriptionManager {
 public:
  // All references must outlive the manager. Call stop() before the io threads stop. Each
  // subscription runs on one of the io threads' contexts, in turn.
  SubscriptionManager(IoThreads& io, catalog::Catalog& catalog, TopicManager& topics,
                      const Clock& clock);
  ~SubscriptionManager();
  SubscriptionManager(const SubscriptionManager&) = delete;
  SubscriptionManager& operator=(const SubscriptionManager&) = delete;

  // Lets subscriptions deliver to functions. Call before the io_context runs.
  void set_function_target(FunctionTarget target);

  // Loads every subscription of the catalog with its ack state and starts delivering.
  Status open_all();

  // Creates a subscription from a request body, or updates one (its topic, mode and start
  // cannot change: conflict). The topic must exist; a dead-letter or target topic is
  // created when missing. Returns the description and whether it was created.
  Result<std::pair<boost::json::object, bool>> put(std::string_view name,
                                                   const boost::json::object& body);
  // Configuration and `stats`, as `GET /v1/subscriptions/{name}` answers.
  Result<boost::json::object> describe(std::string_view name) const;
  boost::json::array list() const;
  Status remove(std::string_view name);

  // `{"max_events","wait_ms"}`: leases up to max_events ready events, waiting up to wait_ms
  // for the first when there is none. `done` gets them (possibly none) on the io_context
  // or inline.
  void pull(std::string_view name, const boost::json::object& body, PullCallback done);
  // `{"ack_ids":[...]}` -> `{"acked":N}`; unknown and stale ids are ignored.
  Result<boost::json::object> ack(std::string_view name, const boost::json::object& body);
  // `{"ack_ids":[...],"delay_ms":D}` -> `{"nacked":N}`: redelivers after D ms (default 0).
  Result<boost::json::object> nack(std::string_view name, const boost::json::object& body);
  // `{"offset","partition"}` (every partition when left out; offset may be "earliest" or
  // "latest") or `{"time"}`: forgets outstanding deliveries and acks at and after the new
  // position and restarts there.
  Result<boost::json::object> seek(std::string_view name, const boost::json::object& body);
  // Delivers again the dead letters this subscription wrote since the last redrive.
  Result<boost::json::object> redrive(std::string_view name);

  // Prometheus text for every subscription.
  std::string render_metrics() const;

  // Answers waiting pullers, stops pushing, and writes every ack state to the catalog.
  void stop();

 private:
  std::shared_ptr<Subscription> find(std::string_view name) const;
  // The filters of the subscriptions of `topic` (null for null), shared by them all.
  std::shared_ptr<TopicFilter> filters_for(const std::shared_ptr<log::Topic>& topic);
  Result<std::shared_ptr<Subscription>> find_or_error(std::string_view name) const;

  IoThreads& io_;
  std::unique_ptr<boost::asio::thread_pool> writer_;  // one thread: ack-state writes
  catalog::Catalog& catalog_;
  TopicManager& topics_;
  const Clock& clock_;
  FunctionTarget functions_;
  std::mutex admin_mu_;  // serializes put / remove
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Subscription>, std::less<>> subs_;
  std::map<std::string, std::weak_ptr<TopicFilter>, std::less<>> filters_;  // by topic name
};

}  // namespace eddy::bus
