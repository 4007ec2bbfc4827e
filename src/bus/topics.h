// Topics as users see them: named, configured, persisted in the catalog, their bytes in the
// log. Every producer inside eddy (the HTTP API, webhooks, buckets, tables, schedules, dead
// letters) publishes through TopicManager::publish, so every event takes the same durable
// path.
//
// Threading: thread-safe. publish() does not block on fsync: its callback runs once the
// events are durable under the topic's policy (on the log's flusher thread or inline).
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/error.h"
#include "events/cloud_event.h"
#include "log/topic.h"

namespace eddy::bus {

// Topic names: 1-200 characters of A-Z a-z 0-9 . _ -, not "." or "..".
Status validate_topic_name(std::string_view name);

// Topics whose names begin with this are eddy's own (the async invocation queue): readable
// like any other, left out of listings, and not created, changed or deleted through the API.
inline constexpr std::string_view kInternalTopicPrefix = "_eddy.";

struct PublishedEvent {
  std::string id;
  uint32_t partition = 0;
  uint64_t offset = 0;
};

using PublishCallback = std::function<void(Result<std::vector<PublishedEvent>>)>;

class TopicManager {
 public:
  TopicManager(catalog::Catalog& catalog, log::TopicStore& store, const Clock& clock);

  // Opens every topic the catalog knows and removes directories it does not.
  Status open_all();

  // Creates a topic from a request body (`partitions`, `retention_ms`, `retention_bytes`,
  // `fsync`), or updates the retention of an existing one. Changing the partition count of
  // an existing topic is a conflict. Returns the topic's description and whether it was
  // created.
  Result<std::pair<boost::json::object, bool>> put(std::string_view name,
                                                   const boost::json::object& body);
  // The topic's configuration and stats, as `GET /v1/topics/{topic}` answers.
  Result<boost::json::object> describe(std::string_view name) const;
  // Every topic's description; eddy's own topics only when `include_internal`.
  boost::json::array list(bool include_internal = false) const;
  Status remove(std::string_view name);

  std::shared_ptr<log::Topic> find(std::string_view name) const { return store_.find(name); }
  std::vector<std::shared_ptr<log::Topic>> find_all() const { return store_.list(); }
  // The topic, created with defaults (1 partition) when missing: for topics named as
  // targets (dead letters, destinations, webhooks, notifications).
  Result<std::shared_ptr<log::Topic>> ensure(std::string_view name);

  // Appends the events (already validated) to their partitions and calls `done` once all
  // are durable, with one result per event in input order. On an append error nothing more
  // is appended and `done` gets the error (events already appended to other partitions
  // stay: they are readable and were simply not acknowledged).
  void publish(const std::shared_ptr<log::Topic>& topic, std::vector<events::Event> events,
               PublishCallback done);

 private:
  Result<std::shared_ptr<log::Topic>> create(std::string_view name, const log::TopicConfig& c);

  catalog::Catalog& catalog_;
  log::TopicStore& store_;
  const Clock& clock_;
  std::mutex admin_mu_;  // serializes create/update/delete
};

}  // namespace eddy::bus
