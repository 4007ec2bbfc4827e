#include "bus/topics.h"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "common/json_util.h"

namespace eddy::bus {
namespace json = boost::json;
namespace {

constexpr std::string_view kKind = "topic";
constexpr uint32_t kMaxPartitions = 1024;

json::object config_to_json(const log::TopicConfig& c) {
  json::object o;
  o["partitions"] = c.partitions;
  o["retention_ms"] = c.retention_ms;
  o["retention_bytes"] = c.retention_bytes;
  if (c.durability) o["fsync"] = c.durability->to_string();
  return o;
}

// Reads a topic config from a body, starting from `base` for fields left out.
Result<log::TopicConfig> config_from_json(const json::object& body, log::TopicConfig base) {
  if (auto s = reject_unknown_fields(body, {"name", "partitions", "retention_ms",
                                            "retention_bytes", "fsync", "stats"});
      !s) {
    return std::move(s).error();
  }
  auto partitions = get_int(body, "partitions");
  if (!partitions) return std::move(partitions).error();
  if (*partitions) {
    if (**partitions < 1 || **partitions > kMaxPartitions) {
      return make_error(Errc::invalid_argument,
                        fmt::format("'partitions' must be between 1 and {}", kMaxPartitions));
    }
    base.partitions = static_cast<uint32_t>(**partitions);
  }
  for (auto [field, slot] : {std::pair{"retention_ms", &base.retention_ms},
                             std::pair{"retention_bytes", &base.retention_bytes}}) {
    auto v = get_int(body, field);
    if (!v) return std::move(v).error();
    if (*v) {
      if (**v < -1 || **v == 0) {
        return make_error(Errc::invalid_argument,
                          fmt::format("'{}' must be positive, or -1 for no limit", field));
      }
      *slot = **v;
    }
  }
  auto fsync = get_string(body, "fsync");
  if (!fsync) return std::move(fsync).error();
  if (*fsync) {
    auto d = log::Durability::parse(**fsync);
    if (!d) return std::move(d).error();
    base.durability = *d;
  }
  return base;
}

}  // namespace

Status validate_topic_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 200 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (ok) return {};
  return make_error(Errc::invalid_argument,
                    fmt::format("invalid topic name '{}': use 1-200 characters of A-Z a-z 0-9 . _ -",
                                name));
}

TopicManager::TopicManager(catalog::Catalog& catalog, log::TopicStore& store, const Clock& clock)
    : catalog_(catalog), store_(store), clock_(clock) {}

Status TopicManager::open_all() {
  auto all = catalog_.list(kKind);
  if (!all) return std::move(all).error();
  std::vector<std::string> names;
  for (const auto& r : *all) {
    json::error_code ec;
    json::value spec = json::parse(r.spec, ec);
    if (ec || !spec.is_object()) {
      return make_error(Errc::corrupt, fmt::format("catalog entry for topic '{}' is not JSON", r.name));
    }
    auto config = config_from_json(spec.as_object(), {});
    if (!config) return std::move(config).error();
    if (auto t = store_.open(r.name, *config); !t) return std::move(t).error();
    names.push_back(r.name);
  }
  store_.remove_orphans(names);
  spdlog::info("opened {} topic(s)", names.size());
  return {};
}

Result<std::shared_ptr<log::Topic>> TopicManager::create(std::string_view name,
                                                         const log::TopicConfig& config) {
  // Catalog first: a crash between the two leaves a catalog entry whose directory is made
  // at the next start, never a directory the catalog does not know about for long.
  if (auto s = catalog_.put(kKind, name, json_text(config_to_json(config)), clock_.now_ms());
      !s) {
    return std::move(s).error();
  }
  auto t = store_.open(std::string(name), config);
  if (!t) (void)catalog_.remove(kKind, name);
  return t;
}

namespace {

Status refuse_internal(std::string_view name) {
  if (!name.starts_with(kInternalTopicPrefix)) return {};
  return make_error(Errc::invalid_argument,
                    fmt::format("topic '{}' is eddy's own: names beginning with '{}' are reserved",
                                name, kInternalTopicPrefix));
}

}  // namespace

Result<std::pair<json::object, bool>> TopicManager::put(std::string_view name,
                                                        const json::object& body) {
  if (auto s = validate_topic_name(name); !s) return std::move(s).error();
  if (auto s = refuse_internal(name); !s) return std::move(s).error();
  std::lock_guard lock(admin_mu_);
  auto existing = store_.find(name);
  auto config = config_from_json(body, existing ? existing->config() : log::TopicConfig{});
  if (!config) return std::move(config).error();
  bool created = false;
  if (!existing) {
    auto t = create(name, *config);
    if (!t) return std::move(t).error();
    created = true;
  } else {
    if (config->partitions != existing->config().partitions) {
      return make_error(Errc::conflict,
                        fmt::format("topic '{}' has {} partitions; the partition count of an "
                                    "existing topic cannot change",
                                    name, existing->config().partitions));
    }
    if (config->retention_ms != existing->config().retention_ms ||
        config->retention_bytes != existing->config().retention_bytes ||
        config->durability.has_value() != existing->config().durability.has_value() ||
        (config->durability && config->durability->to_string() !=
                                   existing->config().durability->to_string())) {
      if (auto s = catalog_.put(kKind, name, json_text(config_to_json(*config)),
                                clock_.now_ms());
          !s) {
        return std::move(s).error();
      }
      // Reopen with the new retention; the bytes stay where they are.
      if (auto t = store_.reconfigure(std::string(name), *config); !t) return std::move(t).error();
    }
  }
  auto d = describe(name);
  if (!d) return std::move(d).error();
  return std::pair{std::move(*d), created};
}

Result<json::object> TopicManager::describe(std::string_view name) const {
  auto t = store_.find(name);
  if (!t) return make_error(Errc::not_found, fmt::format("topic '{}' does not exist", name));
  json::object o;
  o["name"] = t->name();
  for (auto& kv : config_to_json(t->config())) o[kv.key()] = kv.value();
  json::array parts;
  uint64_t events = 0, bytes = 0;
  for (uint32_t p = 0; p < t->partition_count(); ++p) {
    auto s = t->partition(p).stats();
    events += s.end_offset - s.start_offset;
    bytes += s.size_bytes;
    parts.push_back(json::object{{"partition", p},
                                 {"start_offset", s.start_offset},
                                 {"end_offset", s.end_offset},
                                 {"size_bytes", s.size_bytes},
                                 {"segments", s.segments}});
  }
  o["stats"] = json::object{{"events", events}, {"size_bytes", bytes}, {"partitions", parts}};
  return o;
}

json::array TopicManager::list(bool include_internal) const {
  json::array out;
  for (const auto& t : store_.list()) {
    if (!include_internal && t->name().starts_with(kInternalTopicPrefix)) continue;
    if (auto d = describe(t->name()); d) out.push_back(std::move(*d));
  }
  return out;
}

Status TopicManager::remove(std::string_view name) {
  if (auto s = refuse_internal(name); !s) return s;
  std::lock_guard lock(admin_mu_);
  if (auto s = catalog_.remove(kKind, name); !s) return s;
  return store_.drop(std::string(name));
}

Result<std::shared_ptr<log::Topic>> TopicManager::ensure(std::string_view name) {
  if (auto t = store_.find(name)) return t;
  if (auto s = validate_topic_name(name); !s) return std::move(s).error();
  std::lock_guard lock(admin_mu_);
  if (auto t = store_.find(name)) return t;
  spdlog::info("creating topic '{}' named as a target", name);
  return create(name, log::TopicConfig{});
}

namespace {

// Collects the per-partition durability completions of one publish.
struct PublishState {
  std::vector<PublishedEvent> results;
  std::atomic<int> pending{1};
  std::mutex mu;
  std::optional<Error> error;
  PublishCallback done;

  void finish_one(Status s) {
    if (!s) {
      std::lock_guard lock(mu);
      if (!error) error = std::move(s).error();
    }
    if (pending.fetch_sub(1) == 1) {
      if (error) {
        done(std::move(*error));
      } else {
        done(std::move(results));
      }
    }
  }
};

}  // namespace

void TopicManager::publish(const std::shared_ptr<log::Topic>& topic,
                           std::vector<events::Event> evs, PublishCallback done) {
  auto state = std::make_shared<PublishState>();
  state->done = std::move(done);
  state->results.resize(evs.size());

  const uint32_t n = topic->partition_count();
  // Group the payloads by partition, remembering each event's position.
  std::vector<std::vector<std::string_view>> payloads(n);
  std::vector<std::vector<size_t>> positions(n);
  for (size_t i = 0; i < evs.size(); ++i) {
    std::optional<std::string_view> key;
    if (evs[i].partition_key) key = *evs[i].partition_key;
    uint32_t p = n == 1 ? 0 : topic->choose_partition(key);
    payloads[p].push_back(evs[i].json);
    positions[p].push_back(i);
  }
  for (uint32_t p = 0; p < n; ++p) {
    if (payloads[p].empty()) continue;
    auto appended = topic->partition(p).append(payloads[p]);
    if (!appended) {
      state->finish_one(std::move(appended).error());
      return;
    }
    for (size_t j = 0; j < positions[p].size(); ++j) {
      auto& r = state->results[positions[p][j]];
      r.id = std::move(evs[positions[p][j]].id);
      r.partition = p;
      r.offset = appended->first_offset + j;
    }
    state->pending.fetch_add(1);
    topic->partition(p).when_durable(appended->end_offset,
                                     [state](Status s) { state->finish_one(std::move(s)); });
  }
  state->finish_one({});
}

}  // namespace eddy::bus
