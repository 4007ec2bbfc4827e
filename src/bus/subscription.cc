#include "bus/subscription.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>

#include "bus/push_client.h"
#include "bus/topic_filter.h"
#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "events/stored_json.h"
#include "log/topic.h"
#include "rules/predicates.h"

namespace eddy::bus {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kKind = "subscription";
constexpr std::string_view kStateKey = "acks";
// Outstanding (read, not yet done) events kept in memory per partition; reading stops there.
constexpr size_t kMaxOutstanding = 10000;
constexpr size_t kReadChunk = 1000;
constexpr size_t kReadBytes = 8u << 20;
// A push lease outlives the request's timeout by this much, so it never expires first.
constexpr auto kPushLeaseMargin = std::chrono::seconds(5);
constexpr auto kDeadLetterRetry = std::chrono::seconds(1);
constexpr size_t kMaxForwardedBytes = 1u << 20;
// Failed messages whose delivery history is saved with the ack state, per partition, and
// how much of each one's last error.
constexpr size_t kMaxSavedAttempted = 10000;
constexpr size_t kMaxSavedError = 300;

// The "attempted" list of a saved partition: [offset, attempts, first_attempt_ms,
// last_status, last_error] per message. Entries that do not read as such are skipped: at
// worst a message starts counting its attempts again.
std::vector<Attempted> attempted_from_json(const json::value& part) {
  std::vector<Attempted> out;
  const auto* a = part.is_object() ? part.as_object().if_contains("attempted") : nullptr;
  if (!a || !a->is_array()) return out;
  for (const auto& e : a->as_array()) {
    const auto* f = e.if_array();
    if (!f || f->size() != 5 || !(*f)[4].is_string()) continue;
    json::error_code ec;
    Attempted h;
    h.offset = (*f)[0].to_number<uint64_t>(ec);
    if (!ec) h.attempts = (*f)[1].to_number<uint32_t>(ec);
    if (!ec) h.first_attempt_ms = (*f)[2].to_number<int64_t>(ec);
    if (!ec) h.last_status = (*f)[3].to_number<int>(ec);
    if (ec) continue;
    h.last_error = (*f)[4].as_string();
    out.push_back(std::move(h));
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool permanent_status(int status) {
  return status >= 400 && status <= 499 && status != 408 && status != 429;
}

// The content type of what a text template produced (URL bodies, forwarded data).
constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

// What a subscription with `transform` delivers for a stored event.
struct Transformed {
  std::string json;  // as JSON: text a template produced becomes a JSON string
  std::string raw;   // as the transform produced it (a URL target's body)
  bool text = false;
};

Result<Transformed> transform_event(const rules::Transform& transform, std::string_view payload) {
  auto out = rules::apply(transform, payload);
  if (!out) return std::move(out).error();
  Transformed t;
  t.text = !transform.json_output();
  t.json = t.text ? rules::quote_json(*out) : *out;
  t.raw = std::move(*out);
  return t;
}

}  // namespace

std::string format_ack_id(const AckRef& ref) {
  return fmt::format("{}{}.{}.{}", ref.redrive ? "r" : "", ref.partition, ref.offset, ref.lease);
}

std::optional<AckRef> parse_ack_id(std::string_view id) {
  AckRef ref;
  if (!id.empty() && id.front() == 'r') {
    ref.redrive = true;
    id.remove_prefix(1);
  }
  auto a = id.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  auto b = id.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  uint64_t partition = 0;
  if (!parse_u64(id.substr(0, a), partition) || partition > UINT32_MAX ||
      !parse_u64(id.substr(a + 1, b - a - 1), ref.offset) ||
      !parse_u64(id.substr(b + 1), ref.lease)) {
    return std::nullopt;
  }
  ref.partition = static_cast<uint32_t>(partition);
  return ref;
}

struct Subscription::Source {
  Source(SubscriptionMode mode, AckSet acks) : cursor(mode, std::move(acks)) {}
  bool redrive = false;
  uint32_t partition = 0;
  log::Partition* part = nullptr;  // valid while topic_ / dl_topic_ is held
  std::optional<uint64_t> listener;
  uint64_t limit = UINT64_MAX;  // redrive: read up to here
  PartitionCursor cursor;
};

struct Subscription::Waiter {
  uint64_t id = 0;
  size_t max = 0;
  PullCallback done;
  std::unique_ptr<asio::steady_timer> timer;
};

// One push: a single event, or for a function target a batch from one partition, in
// offset order.
struct Subscription::Delivery {
  struct Item {
    AckRef ref;
    uint32_t attempt = 0;
    std::string payload;
  };
  std::vector<Item> items;
};

struct Subscription::DeadLetter {
  AckRef ref;
  std::string payload;
  DeliveryHistory history;
};

struct Subscription::Asio {
  explicit Asio(asio::io_context& io) : timer(io), flush_timer(io), window_timer(io) {}
  asio::steady_timer timer;         // lease deadlines and retry times
  asio::steady_timer flush_timer;   // batched writes of the ack state
  asio::steady_timer window_timer;  // a function batch waiting for batch.window_ms
};

Subscription::Subscription(Deps deps, std::string name, SubscriptionConfig config)
    : deps_(deps),
      name_(std::move(name)),
      config_(std::move(config)),
      asio_(std::make_unique<Asio>(deps.io)),
      rng_(std::random_device{}()) {
  // Lease numbers grow across restarts, so an ack id handed out before a restart is older
  // than every lease after it (and still acks an event that is outstanding again).
  lease_counter_ = static_cast<uint64_t>(deps_.clock.now_ms()) << 10;
}

Subscription::~Subscription() = default;

Result<std::shared_ptr<Subscription>> Subscription::create(
    Deps deps, std::string name, SubscriptionConfig config, std::shared_ptr<log::Topic> topic,
    std::shared_ptr<TopicFilter> filters, const std::optional<std::string>& state) {
  std::shared_ptr<Subscription> sub(new Subscription(deps, std::move(name), std::move(config)));
  if (auto s = sub->init(std::move(topic), std::move(filters), state); !s) {
    std::lock_guard lock(sub->mu_);
    sub->drop_filter();
    return std::move(s).error();
  }
  return sub;
}

Status Subscription::init(std::shared_ptr<log::Topic> topic, std::shared_ptr<TopicFilter> filters,
                          const std::optional<std::string>& state) {
  if (!config_.transform.empty()) {
    auto t = rules::compile_transform(json::parse(config_.transform));
    if (!t) return std::move(t).error();
    transform_ = std::move(*t);
  }
  if (config_.target == SubscriptionConfig::Target::url) {
    auto client = PushClient::create(deps_.io, config_.target_url);
    if (!client) return std::move(client).error();
    push_ = std::move(*client);
  }
  pushes_ = config_.target != SubscriptionConfig::Target::pull;
  if (!topic) {
    detached_ = true;
    return {};
  }
  topic_ = std::move(topic);
  filters_ = std::move(filters);
  if (!config_.filter.empty()) {
    auto p = rules::compile_pattern(config_.filter);
    if (!p) return std::move(p).error();
    filter_id_ = filters_->new_id();
    filtered_ = true;
    if (auto s = filters_->set(filter_id_, *p); !s) return s;
  }

  json::object saved;
  if (state) {
    json::error_code ec;
    auto v = json::parse(*state, ec);
    if (ec || !v.is_object()) {
      return make_error(Errc::corrupt,
                        fmt::format("ack state of subscription '{}' is not JSON", name_));
    }
    saved = std::move(v.as_object());
  }
  const json::array* saved_parts = nullptr;
  if (auto it = saved.find("partitions"); it != saved.end() && it->value().is_array()) {
    saved_parts = &it->value().as_array();
  }
  for (uint32_t p = 0; p < topic_->partition_count(); ++p) {
    auto& part = topic_->partition(p);
    AckSet acks;
    if (saved_parts && p < saved_parts->size()) {
      auto a = AckSet::from_json((*saved_parts)[p]);
      if (!a) return std::move(a).error();
      acks = std::move(*a);
      // The log may end before the saved state (a crash under fsync=never lost its tail).
      if (acks.committed() > part.end_offset()) acks = AckSet(part.end_offset());
    } else {
      uint64_t start = part.visible_end();
      const auto& sp = config_.start;
      switch (sp.kind) {
        case StartPosition::Kind::latest:
          start = part.visible_end();
          break;
        case StartPosition::Kind::earliest:
          start = part.start_offset();
          break;
        case StartPosition::Kind::offset:
          start = std::clamp<uint64_t>(static_cast<uint64_t>(sp.value), part.start_offset(),
                                       part.visible_end());
          break;
        case StartPosition::Kind::time:
          start = part.offset_for_time(sp.value);
          break;
      }
      acks = AckSet(start);
    }
    auto src = std::make_unique<Source>(config_.mode, std::move(acks));
    if (saved_parts && p < saved_parts->size()) {
      src->cursor.restore(attempted_from_json((*saved_parts)[p]));
    }
    src->partition = p;
    src->part = &part;
    main_.push_back(std::move(src));
  }

  // A redrive in progress continues where it was.
  if (auto it = saved.find("redrive_mark"); it != saved.end() && it->value().is_array()) {
    for (const auto& m : it->value().as_array()) {
      json::error_code ec;
      auto v = m.to_number<uint64_t>(ec);
      redrive_mark_.push_back(ec ? 0 : v);
    }
  }
  if (auto it = saved.find("redrive");
      it != saved.end() && it->value().is_array() && !config_.dead_letter_topic.empty()) {
    dl_topic_ = deps_.topics.find(config_.dead_letter_topic);
    for (const auto& r : it->value().as_array()) {
      if (!dl_topic_ || !r.is_object()) break;
      const auto& ro = r.as_object();
      auto acks = AckSet::from_json(r);
      if (!acks) return std::move(acks).error();
      json::error_code ec1, ec2;
      auto p = ro.contains("partition") ? ro.at("partition").to_number<uint32_t>(ec1) : 0;
      auto limit = ro.contains("limit") ? ro.at("limit").to_number<uint64_t>(ec2) : 0;
      if (ec1 || ec2 || p >= dl_topic_->partition_count()) continue;
      auto src = std::make_unique<Source>(config_.mode, std::move(*acks));
      src->redrive = true;
      src->partition = p;
      src->part = &dl_topic_->partition(p);
      src->limit = limit;
      redrive_[p] = std::move(src);
    }
  }
  return {};
}

void Subscription::start() {
  std::weak_ptr<Subscription> weak = weak_from_this();
  {
    std::lock_guard lock(mu_);
    if (stopped_ || detached_) return;
    for (auto& s : main_) {
      s->listener = s->part->add_listener([weak](uint64_t) {
        if (auto self = weak.lock()) self->on_data();
      });
    }
  }
  post_pump();
}

void Subscription::stop(bool persist) {
  std::list<Waiter> waiters;
  std::string snapshot;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& s : main_) {
      if (s->listener && s->part) s->part->remove_listener(*s->listener);
      s->listener.reset();
    }
    asio_->timer.cancel();
    asio_->flush_timer.cancel();
    waiters.swap(waiters_);
    waiting_ = 0;
    if (persist && !detached_) snapshot = state_json();
    for (auto& s : main_) s->part = nullptr;
    for (auto& [p, s] : redrive_) s->part = nullptr;
    drop_filter();
    filters_.reset();
    topic_.reset();
    dl_topic_.reset();
  }
  for (auto& w : waiters) {
    w.timer->cancel();
    w.done(std::vector<PulledMessage>());
  }
  if (push_) push_->close();
  std::lock_guard flush_lock(flush_mu_);
  if (!snapshot.empty()) {
    if (auto s = deps_.catalog.put_state(kKind, name_, kStateKey, snapshot); !s) {
      spdlog::error("subscription '{}': cannot save its ack state: {}", name_, s.error().message);
    }
  }
}

Status Subscription::reconfigure(SubscriptionConfig config) {
  rules::Pattern filter;
  if (!config.filter.empty()) {
    auto p = rules::compile_pattern(config.filter);
    if (!p) return std::move(p).error();
    filter = std::move(*p);
  }
  rules::Transform transform;
  if (!config.transform.empty()) {
    auto t = rules::compile_transform(json::parse(config.transform));
    if (!t) return std::move(t).error();
    transform = std::move(*t);
  }
  std::shared_ptr<PushClient> client;
  if (config.target == SubscriptionConfig::Target::url) {
    auto c = PushClient::create(deps_.io, config.target_url);
    if (!c) return std::move(c).error();
    client = std::move(*c);
  }
  std::shared_ptr<PushClient> old;
  {
    std::lock_guard lock(mu_);
    if (filters_) {
      if (!filter.empty()) {
        if (!filtered_) filter_id_ = filters_->new_id();
        if (auto s = filters_->set(filter_id_, filter); !s) return s;
        filtered_ = true;
      } else {
        drop_filter();
      }
    }
    if (config.target == config_.target && config.target_url == config_.target_url && push_) {
      client = push_;  // keep its connections
    }
    old = std::exchange(push_, client);
    config_ = std::move(config);
    transform_ = std::move(transform);
    pushes_ = config_.target != SubscriptionConfig::Target::pull;
  }
  if (old && old != push_) old->close();
  post_pump();
  return {};
}

SubscriptionConfig Subscription::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

Error Subscription::stopped_error() const {
  if (detached_) {
    return make_error(Errc::conflict,
                      fmt::format("topic '{}' of subscription '{}' was deleted; delete the "
                                  "subscription and create it again",
                                  config_.topic, name_));
  }
  return make_error(Errc::unavailable, "the server is shutting down; retry on the next one");
}

Now Subscription::now() const {
  return Now{deps_.clock.steady_now(), deps_.clock.now_ms()};
}

bool Subscription::attached() {
  if (detached_ || stopped_) return false;
  if (deps_.topics.find(config_.topic) != topic_) {
    detach();
    return false;
  }
  return true;
}

void Subscription::detach() {
  spdlog::warn("subscription '{}': its topic '{}' was deleted; it delivers nothing more", name_,
               config_.topic);
  detached_ = true;
  for (auto& s : main_) {
    if (s->listener && s->part) s->part->remove_listener(*s->listener);
  }
  main_.clear();
  redrive_.clear();
  drop_filter();
  filters_.reset();
  topic_.reset();
  dl_topic_.reset();
  asio_->timer.cancel();
  armed_at_.reset();
}

void Subscription::drop_filter() {
  if (filters_ && filtered_) filters_->remove(filter_id_);
  filtered_ = false;
}

Subscription::Source* Subscription::source_for(bool redrive, uint32_t partition) {
  if (!redrive) return partition < main_.size() ? main_[partition].get() : nullptr;
  auto it = redrive_.find(partition);
  return it == redrive_.end() ? nullptr : it->second.get();
}

Subscription::Source& Subscription::source_at(size_t i) {
  if (i < main_.size()) return *main_[i];
  return *std::next(redrive_.begin(), static_cast<ptrdiff_t>(i - main_.size()))->second;
}

void Subscription::fill(Source& s, size_t want) {
  auto& c = s.cursor;
  // Stream mode delivers a partition's next batch only once the last one is done.
  if (c.mode() == SubscriptionMode::stream && c.outstanding() > c.ready()) return;
  while (c.ready() < want && c.outstanding() < kMaxOutstanding) {
    const uint64_t end = std::min(s.part->visible_end(), s.limit);
    const uint64_t from = c.next_read();
    if (from >= end) return;
    size_t n = std::min<uint64_t>({kReadChunk, end - from, kMaxOutstanding - c.outstanding(),
                                   std::max<size_t>(want - c.ready(), 64)});
    auto r = s.part->read(from, n, kReadBytes);
    if (!r) {
      spdlog::warn("subscription '{}': reading partition {} at {} failed: {}", name_, s.partition,
                   from, r.error().message);
      return;
    }
    if (r->records.empty()) {
      if (r->next_offset <= from) return;
      c.skip_to(std::min(r->next_offset, end));
      continue;
    }
    for (const auto& rec : r->records) {
      if (rec.offset >= s.limit) {
        c.skip_to(s.limit);
        break;
      }
      if (s.redrive) {
        // The dead-letter topic may hold dead letters of other subscriptions too.
        auto owner = events::attribute(rec.payload, "eddysubscription");
        auto original = owner && *owner == name_
                            ? strip_dead_letter(rec.payload)
                            : Result<events::Event>(Error{Errc::not_found, ""});
        if (!original) {
          c.skip_to(rec.offset + 1);
          continue;
        }
        c.add(rec.offset, rec.time_ms, std::move(original->json));
        continue;
      }
      if (filtered_ && !filters_->passes(filter_id_, s.partition, rec.offset, rec.payload)) {
        c.skip_to(rec.offset + 1);
        ++counters_.filtered;
        continue;
      }
      c.add(rec.offset, rec.time_ms, std::string(rec.payload));
    }
    if (r->next_offset <= from) return;
  }
}

std::vector<PulledMessage> Subscription::collect(size_t max) {
  std::vector<PulledMessage> out;
  const size_t n = source_count();
  if (n == 0) return out;
  const Now t = now();
  const TimePoint deadline = t.steady + std::chrono::milliseconds(config_.ack_deadline_ms);
  for (size_t i = 0; i < n && out.size() < max; ++i) {
    Source& s = source_at((rr_ + i) % n);
    fill(s, max - out.size());
    for (const Message* m : s.cursor.lease(max - out.size(), deadline, t, lease_counter_)) {
      PulledMessage pm;
      pm.ack_id = format_ack_id({s.redrive, s.partition, m->offset, m->lease});
      pm.delivery_attempt = m->attempts;
      pm.partition = s.partition;
      pm.offset = m->offset;
      pm.redriven = s.redrive;
      pm.event = m->payload;
      if (!transform_.empty()) {
        // The log holds valid JSON, so this does not fail; if it did, the event goes as it is.
        if (auto t = transform_event(transform_, m->payload)) {
          pm.event = std::move(t->json);
        } else {
          spdlog::warn("subscription '{}': cannot transform the event at {}.{}: {}", name_,
                       s.partition, m->offset, t.error().message);
        }
      }
      ++counters_.deliveries;
      if (m->attempts > 1) ++counters_.retries;
      out.push_back(std::move(pm));
    }
  }
  ++rr_;
  if (!out.empty()) rearm();
  return out;
}

void Subscription::collect_dead(Source& s, const std::vector<uint64_t>& offsets,
                                std::vector<DeadLetter>& out) {
  for (uint64_t o : offsets) {
    const Message* m = s.cursor.find(o);
    if (!m) continue;
    DeadLetter d;
    d.ref = {s.redrive, s.partition, o, m->lease};
    d.payload = m->payload;
    d.history = {name_,          m->attempts,         m->last_error,
                 m->last_status, m->first_attempt_ms, m->last_attempt_ms};
    out.push_back(std::move(d));
  }
}

void Subscription::retire_redrive() {
  for (auto it = redrive_.begin(); it != redrive_.end();) {
    if (it->second->cursor.acks().committed() >= it->second->limit) {
      it = redrive_.erase(it);
      mark_dirty();
    } else {
      ++it;
    }
  }
}

void Subscription::rearm() {
  std::optional<TimePoint> next;
  for (size_t i = 0; i < source_count(); ++i) {
    auto t = source_at(i).cursor.next_timer();
    if (t && (!next || *t < *next)) next = t;
  }
  if (!next) {
    if (armed_at_) {
      asio_->timer.cancel();
      armed_at_.reset();
    }
    return;
  }
  // A timer already set earlier fires, finds little to do and re-arms for the rest.
  if (armed_at_ && *armed_at_ <= *next) return;
  armed_at_ = next;
  asio_->timer.expires_at(*next);
  asio_->timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    if (auto self = weak.lock()) self->on_timer();
  });
}

void Subscription::mark_dirty() {
  dirty_ = true;
  if (flush_scheduled_ || stopped_) return;
  flush_scheduled_ = true;
  asio_->flush_timer.expires_after(kStateFlushInterval);
  asio_->flush_timer.async_wait(
      [weak = weak_from_this(), &writer = deps_.writer](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted) return;
        asio::post(writer, [weak] {
          if (auto self = weak.lock()) self->flush();
        });
      });
}

std::string Subscription::state_json() const {
  json::object o;
  json::array parts;
  for (const auto& s : main_) {
    auto part = s->cursor.acks().to_json();
    auto history = s->cursor.attempted(kMaxSavedAttempted);
    if (!history.empty()) {
      json::array a;
      for (const auto& h : history) {
        a.push_back(json::array{h.offset, h.attempts, h.first_attempt_ms, h.last_status,
                                std::string_view(h.last_error).substr(0, kMaxSavedError)});
      }
      part["attempted"] = std::move(a);
    }
    parts.push_back(std::move(part));
  }
  o["partitions"] = std::move(parts);
  if (!redrive_.empty()) {
    json::array r;
    for (const auto& [p, s] : redrive_) {
      auto a = s->cursor.acks().to_json();
      a["partition"] = p;
      a["limit"] = s->limit;
      r.push_back(std::move(a));
    }
    o["redrive"] = std::move(r);
  }
  if (!redrive_mark_.empty()) {
    json::array m;
    for (auto v : redrive_mark_) m.push_back(v);
    o["redrive_mark"] = std::move(m);
  }
  return json_text(o);
}

void Subscription::flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::string snapshot;
  {
    std::lock_guard lock(mu_);
    flush_scheduled_ = false;
    if (stopped_ || detached_ || !dirty_) return;
    snapshot = state_json();
    dirty_ = false;
  }
  if (auto s = deps_.catalog.put_state(kKind, name_, kStateKey, snapshot); !s) {
    spdlog::error("subscription '{}': cannot save its ack state (will retry): {}", name_,
                  s.error().message);
    std::lock_guard lock(mu_);
    mark_dirty();
  }
}

Status Subscription::flush_now() {
  std::lock_guard flush_lock(flush_mu_);
  std::string snapshot;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || detached_) return {};
    snapshot = state_json();
    dirty_ = false;
  }
  return deps_.catalog.put_state(kKind, name_, kStateKey, snapshot);
}

void Subscription::on_data() {
  if (pushes_ || waiting_.load() > 0) post_pump();
}

void Subscription::post_pump() {
  if (pump_posted_.exchange(true)) return;
  asio::post(deps_.io, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->pump();
  });
}

void Subscription::pump() {
  pump_posted_ = false;
  std::vector<std::pair<PullCallback, std::vector<PulledMessage>>> answered;
  std::vector<Delivery> deliveries;
  {
    std::lock_guard lock(mu_);
    if (!attached()) return;
    if (config_.target == SubscriptionConfig::Target::pull) {
      while (!waiters_.empty()) {
        auto msgs = collect(waiters_.front().max);
        if (msgs.empty()) break;
        Waiter w = std::move(waiters_.front());
        waiters_.pop_front();
        --waiting_;
        w.timer->cancel();
        answered.emplace_back(std::move(w.done), std::move(msgs));
      }
    } else {
      const Now t = now();
      const TimePoint deadline =
          t.steady + std::chrono::milliseconds(config_.ack_deadline_ms) + kPushLeaseMargin;
      const size_t batch =
          config_.target == SubscriptionConfig::Target::function ? config_.max_events() : 1;
      std::optional<TimePoint> window;
      const size_t n = source_count();
      for (size_t i = 0; i < n && in_flight_ < config_.max_concurrency; ++i) {
        Source& s = source_at((rr_ + i) % n);
        // Stream mode has one delivery in flight per partition (lease() refuses more), so
        // events go out in order.
        const bool stream = s.cursor.mode() == SubscriptionMode::stream;
        while (in_flight_ < config_.max_concurrency) {
          fill(s, stream ? batch : batch * (config_.max_concurrency - in_flight_));
          // A function batch waits up to window_ms after its first event to fill up.
          if (batch > 1 && config_.batch_window_ms > 0 && s.cursor.ready() < batch) {
            if (const Message* first = s.cursor.first_ready()) {
              const int64_t wait = first->log_time_ms + config_.batch_window_ms - t.ms;
              if (wait > 0) {
                TimePoint at = t.steady + std::chrono::milliseconds(wait);
                if (!window || at < *window) window = at;
                break;
              }
            }
          }
          auto leased = s.cursor.lease(batch, deadline, t, lease_counter_);
          if (leased.empty()) break;
          Delivery d;
          for (const Message* m : leased) {
            d.items.push_back(
                {{s.redrive, s.partition, m->offset, m->lease}, m->attempts, m->payload});
            ++counters_.deliveries;
            if (m->attempts > 1) ++counters_.retries;
          }
          deliveries.push_back(std::move(d));
          ++in_flight_;
        }
      }
      ++rr_;
      if (!deliveries.empty()) rearm();
      if (window) arm_window(*window);
    }
  }
  for (auto& [done, msgs] : answered) done(std::move(msgs));
  for (auto& d : deliveries) deliver(std::move(d));
}

void Subscription::deliver(Delivery d) {
  std::weak_ptr<Subscription> weak = weak_from_this();
  SubscriptionConfig::Target target;
  std::string target_topic, function;
  std::shared_ptr<PushClient> client;
  std::chrono::milliseconds timeout;
  bool batched = false;
  rules::Transform transform;
  {
    std::lock_guard lock(mu_);
    transform = transform_;
    target = config_.target;
    batched = config_.max_events() > 1;
    target_topic = config_.target_topic;
    function = config_.target_function;
    client = push_;
    timeout = std::chrono::milliseconds(config_.ack_deadline_ms);
  }
  // With a transform, every target gets its output where it would get the event (URL and
  // topic targets: as the data of the CloudEvent, whose attributes stay).
  std::vector<Transformed> shaped;
  if (!transform.empty()) {
    for (const auto& item : d.items) {
      auto t = transform_event(transform, item.payload);
      if (!t) {
        fail_all(d, Failure{"cannot transform the event: " + t.error().message, 0, true, {}});
        return;
      }
      shaped.push_back(std::move(*t));
    }
  }
  if (target == SubscriptionConfig::Target::url && client) {
    auto msg = events::to_binary(d.items.front().payload);
    if (!msg) {
      fail_all(d, Failure{"cannot encode the event for push: " + msg.error().message, 0, true, {}});
      return;
    }
    PushRequest req;
    req.headers = std::move(msg->headers);
    req.headers.emplace_back("eddy-subscription", name_);
    req.headers.emplace_back("eddy-delivery-attempt", std::to_string(d.items.front().attempt));
    req.content_type = std::move(msg->content_type);
    req.body = std::move(msg->body);
    if (!shaped.empty()) {
      req.content_type = shaped.front().text ? kTextContentType : "application/json";
      req.body = std::move(shaped.front().raw);
    }
    req.timeout = timeout;
    auto ref = std::make_shared<Delivery>(std::move(d));
    client->post(std::move(req), [weak, ref](PushResponse r) {
      auto self = weak.lock();
      if (!self) return;
      if (r.status >= 200 && r.status <= 299) {
        self->complete(*ref, {std::nullopt});
        return;
      }
      Failure f;
      f.error = std::move(r.error);
      f.status = r.status;
      f.permanent = permanent_status(r.status);
      if (r.retry_after) {
        f.retry_after_ms = parse_retry_after(*r.retry_after, self->deps_.clock.now_ms());
      }
      self->fail_all(*ref, f);
    });
    return;
  }
  if (target == SubscriptionConfig::Target::topic) {
    auto topic = deps_.topics.ensure(target_topic);
    if (!topic) {
      fail_all(
          d, Failure{fmt::format("cannot open topic '{}': {}", target_topic, topic.error().message),
                     0,
                     false,
                     {}});
      return;
    }
    std::string data;
    std::optional<NewData> new_data;
    if (!shaped.empty()) {
      // Stored data is compact JSON.
      json::error_code ec;
      auto v = json::parse(shaped.front().json, ec);
      if (ec) {
        fail_all(d, Failure{"the transform's output is not JSON: " + ec.message(), 0, true, {}});
        return;
      }
      data = json_text(v);
      new_data = NewData{data, shaped.front().text ? kTextContentType : "application/json"};
    }
    auto ev = make_forwarded(d.items.front().payload, kMaxForwardedBytes,
                             new_data ? &*new_data : nullptr);
    if (!ev) {
      fail_all(d, Failure{ev.error().message, 0, true, {}});
      return;
    }
    std::vector<events::Event> evs;
    evs.push_back(std::move(*ev));
    auto ref = std::make_shared<Delivery>(std::move(d));
    auto& io = deps_.io;
    deps_.topics.publish(*topic, std::move(evs),
                         [weak, ref, &io, target_topic](Result<std::vector<PublishedEvent>> r) {
                           std::optional<Failure> f;
                           if (!r) {
                             f = Failure{fmt::format("publishing to topic '{}' failed: {}",
                                                     target_topic, r.error().message),
                                         0,
                                         false,
                                         {}};
                           }
                           asio::post(io, [weak, ref, f = std::move(f)] {
                             if (auto self = weak.lock()) self->complete(*ref, {f});
                           });
                         });
    return;
  }
  if (target == SubscriptionConfig::Target::function && deps_.functions.invoke) {
    // One event is the CloudEvent itself; a batch is {"Records":[...]}, as Lambda's event
    // sources send it.
    auto event = [&](size_t i) -> const std::string& {
      return shaped.empty() ? d.items[i].payload : shaped[i].json;
    };
    std::string payload;
    if (batched) {
      payload = R"({"Records":[)";
      for (size_t i = 0; i < d.items.size(); ++i) {
        if (i) payload += ',';
        payload += event(i);
      }
      payload += "]}";
    } else {
      payload = event(0);
    }
    auto ref = std::make_shared<Delivery>(std::move(d));
    auto& io = deps_.io;
    deps_.functions.invoke(function, std::move(payload),
                           [weak, ref, &io, batched](FunctionOutcome outcome) {
                             auto results = function_results(*ref, outcome, batched);
                             asio::post(io, [weak, ref, results = std::move(results)]() mutable {
                               if (auto self = weak.lock())
                                 self->complete(*ref, std::move(results));
                             });
                           });
    return;
  }
  // The target changed to pull while this was leased: let the lease lapse into the queue.
  std::lock_guard lock(mu_);
  --in_flight_;
}

std::vector<std::optional<Failure>> Subscription::function_results(const Delivery& d,
                                                                   const FunctionOutcome& outcome,
                                                                   bool batched) {
  const size_t n = d.items.size();
  if (!outcome.ok) {
    return std::vector<std::optional<Failure>>(n, Failure{outcome.error, 0, outcome.permanent, {}});
  }
  std::vector<std::optional<Failure>> out(n);
  if (!batched) return out;
  // Lambda's partial batch response: {"batchItemFailures":[{"itemIdentifier":ID}]} names the
  // events (by CloudEvent id) that failed; the others succeeded. A malformed list fails the
  // whole batch, as Lambda does.
  json::error_code ec;
  auto v = json::parse(outcome.payload, ec);
  if (ec || !v.is_object()) return out;
  const json::value* failures = v.as_object().if_contains("batchItemFailures");
  if (!failures || failures->is_null()) return out;
  auto whole = [n](std::string why) {
    return std::vector<std::optional<Failure>>(n, Failure{std::move(why), 0, false, {}});
  };
  if (!failures->is_array()) {
    return whole("the function's batchItemFailures is not a list; the whole batch failed");
  }
  std::vector<std::string> ids;
  for (const auto& item : d.items)
    ids.push_back(events::attribute(item.payload, "id").value_or(""));
  for (const auto& f : failures->as_array()) {
    const json::value* id = f.is_object() ? f.as_object().if_contains("itemIdentifier") : nullptr;
    if (!id || !id->is_string() || id->get_string().empty()) {
      return whole(
          "the function's batchItemFailures has an entry without an itemIdentifier; "
          "the whole batch failed");
    }
    bool found = false;
    for (size_t i = 0; i < n; ++i) {
      if (ids[i] == std::string_view(id->get_string())) {
        out[i] = Failure{"the function reported the event in batchItemFailures", 0, false, {}};
        found = true;
      }
    }
    if (!found) {
      return whole(
          fmt::format("the function's batchItemFailures names '{}', which is not an "
                      "event id of the batch; the whole batch failed",
                      std::string_view(id->get_string())));
    }
  }
  return out;
}

void Subscription::fail_all(const Delivery& d, const Failure& failure) {
  complete(d, std::vector<std::optional<Failure>>(d.items.size(), failure));
}

void Subscription::complete(const Delivery& d, std::vector<std::optional<Failure>> results) {
  std::vector<DeadLetter> dead;
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (stopped_ || detached_ || d.items.empty()) return;
    Source* s = source_for(d.items.front().ref.redrive, d.items.front().ref.partition);
    if (s) {
      const Now t = now();
      std::vector<uint64_t> offsets;
      bool failed = false;
      auto release = [&](const Delivery::Item& item, const Failure& f) {
        ++counters_.push_failures;
        failed = true;
        offsets.clear();
        double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        if (s->cursor.release(item.ref.offset, item.ref.lease, f, t, config_.retry, unit,
                              offsets)) {
          collect_dead(*s, offsets, dead);
        }
      };
      size_t acked = 0;
      if (s->cursor.mode() == SubscriptionMode::stream) {
        // Commit up to the first failure; the rest of the batch is delivered again from it.
        size_t k = 0;
        while (k < d.items.size() && !results[k]) ++k;
        if (k > 0) acked += s->cursor.ack(d.items[k - 1].ref.offset, d.items[k - 1].ref.lease);
        if (k < d.items.size()) release(d.items[k], *results[k]);
      } else {
        for (size_t i = 0; i < d.items.size(); ++i) {
          if (!results[i]) {
            acked += s->cursor.ack(d.items[i].ref.offset, d.items[i].ref.lease);
          } else {
            release(d.items[i], *results[i]);
          }
        }
      }
      counters_.acks += acked;
      if (acked || failed) mark_dirty();  // failures: their attempt counts are saved too
      retire_redrive();
      rearm();
    }
  }
  send_dead(std::move(dead));
  post_pump();
}

void Subscription::arm_window(TimePoint at) {
  if (window_at_ && *window_at_ <= at) return;
  window_at_ = at;
  asio_->window_timer.expires_at(at);
  asio_->window_timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mu_);
      self->window_at_.reset();
    }
    self->pump();
  });
}

void Subscription::send_dead(std::vector<DeadLetter> dead) {
  if (dead.empty()) return;
  std::string dlq;
  {
    std::lock_guard lock(mu_);
    dlq = config_.dead_letter_topic;
  }
  auto batch = std::make_shared<std::vector<DeadLetter>>();
  std::vector<events::Event> evs;
  for (auto& d : dead) {
    Result<events::Event> ev =
        dlq.empty() ? Result<events::Event>(Error{Errc::not_found, "no dead_letter_topic"})
                    : make_dead_letter(d.payload, d.history);
    if (!ev) {
      spdlog::warn("subscription '{}': dropping the event at {}{}/{} after {} attempt(s) ({}): {}",
                   name_, d.ref.redrive ? "dead-letter partition " : "partition ", d.ref.partition,
                   d.ref.offset, d.history.attempts, d.history.error, ev.error().message);
      std::lock_guard lock(mu_);
      if (Source* s = source_for(d.ref.redrive, d.ref.partition)) {
        s->cursor.finish(d.ref.offset, d.ref.lease);
        ++counters_.discarded;
        retire_redrive();
        mark_dirty();
      }
      continue;
    }
    evs.push_back(std::move(*ev));
    batch->push_back(std::move(d));
  }
  if (batch->empty()) {
    post_pump();
    return;
  }
  auto topic = deps_.topics.ensure(dlq);
  if (!topic) {
    spdlog::error("subscription '{}': cannot open dead-letter topic '{}': {}", name_, dlq,
                  topic.error().message);
    dead_published(batch, false);
    return;
  }
  auto& io = deps_.io;
  deps_.topics.publish(
      *topic, std::move(evs),
      [weak = weak_from_this(), batch, &io](Result<std::vector<PublishedEvent>> r) {
        bool ok = r.ok();
        asio::post(io, [weak, batch, ok] {
          if (auto self = weak.lock()) self->dead_published(batch, ok);
        });
      });
}

void Subscription::dead_published(std::shared_ptr<std::vector<DeadLetter>> dead, bool ok) {
  if (!ok) {
    // Keep the events parked and try again shortly; they are not lost meanwhile.
    auto timer = std::make_shared<asio::steady_timer>(deps_.io, kDeadLetterRetry);
    timer->async_wait([weak = weak_from_this(), dead, timer](boost::system::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self) return;
      {
        std::lock_guard lock(self->mu_);
        if (self->stopped_ || self->detached_) return;
      }
      self->send_dead(std::move(*dead));
    });
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (stopped_ || detached_) return;
    for (const auto& d : *dead) {
      if (Source* s = source_for(d.ref.redrive, d.ref.partition)) {
        s->cursor.finish(d.ref.offset, d.ref.lease);
        ++counters_.dead_lettered;
      }
    }
    retire_redrive();
    mark_dirty();
  }
  pump();
}

void Subscription::on_timer() {
  std::vector<DeadLetter> dead;
  {
    std::lock_guard lock(mu_);
    armed_at_.reset();
    if (stopped_ || detached_) return;
    const Now t = now();
    std::vector<uint64_t> offsets;
    bool expired = false;
    for (size_t i = 0; i < source_count(); ++i) {
      Source& s = source_at(i);
      offsets.clear();
      size_t n = s.cursor.expire(t, config_.retry, offsets);
      counters_.expired += n;
      expired = expired || n > 0;
      collect_dead(s, offsets, dead);
    }
    if (expired) mark_dirty();
    rearm();
  }
  send_dead(std::move(dead));
  pump();
}

void Subscription::pull(size_t max_events, int64_t wait_ms, PullCallback done) {
  Result<std::vector<PulledMessage>> msgs = std::vector<PulledMessage>();
  {
    std::lock_guard lock(mu_);
    if (!attached()) {
      msgs = stopped_error();
    } else if (config_.target != SubscriptionConfig::Target::pull) {
      msgs = make_error(Errc::conflict,
                        fmt::format("subscription '{}' pushes to its target; only subscriptions "
                                    "with target {{\"pull\":{{}}}} can be pulled",
                                    name_));
    } else {
      // Count this puller before reading, so an append racing with the read wakes it.
      ++waiting_;
      msgs = collect(max_events);
      if (msgs->empty() && wait_ms > 0) {
        Waiter w;
        w.id = ++next_waiter_;
        w.max = max_events;
        w.done = std::move(done);
        w.timer =
            std::make_unique<asio::steady_timer>(deps_.io, std::chrono::milliseconds(wait_ms));
        w.timer->async_wait([weak = weak_from_this(), id = w.id](boost::system::error_code ec) {
          if (ec) return;
          if (auto self = weak.lock()) self->waiter_expired(id);
        });
        waiters_.push_back(std::move(w));
        return;
      }
      --waiting_;
    }
  }
  done(std::move(msgs));
}

void Subscription::waiter_expired(uint64_t id) {
  PullCallback answer;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                           [id](const Waiter& x) { return x.id == id; });
    if (it == waiters_.end()) return;
    answer = std::move(it->done);
    waiters_.erase(it);
    --waiting_;
  }
  answer(std::vector<PulledMessage>());
}

Result<size_t> Subscription::ack(std::span<const std::string> ack_ids) {
  std::vector<AckRef> refs;
  refs.reserve(ack_ids.size());
  for (const auto& id : ack_ids) {
    auto r = parse_ack_id(id);
    if (!r) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("'{}' is not an ack id; pass the ack_id values a pull returned", id));
    }
    refs.push_back(*r);
  }
  size_t n = 0;
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (!attached()) return stopped_error();
    for (const auto& r : refs) {
      if (Source* s = source_for(r.redrive, r.partition)) {
        const bool was_full = s->cursor.outstanding() >= kMaxOutstanding;
        n += s->cursor.ack(r.offset, r.lease);
        wake = wake || was_full || s->cursor.mode() == SubscriptionMode::stream;
      }
    }
    counters_.acks += n;
    if (n) {
      retire_redrive();
      mark_dirty();
    }
  }
  if (wake && n) on_data();
  return n;
}

Result<size_t> Subscription::nack(std::span<const std::string> ack_ids, int64_t delay_ms) {
  std::vector<AckRef> refs;
  for (const auto& id : ack_ids) {
    auto r = parse_ack_id(id);
    if (!r) {
      return make_error(
          Errc::invalid_argument,
          fmt::format("'{}' is not an ack id; pass the ack_id values a pull returned", id));
    }
    refs.push_back(*r);
  }
  size_t n = 0;
  std::vector<DeadLetter> dead;
  {
    std::lock_guard lock(mu_);
    if (!attached()) return stopped_error();
    const Now t = now();
    Failure f{"nacked by the consumer", 0, false, delay_ms};
    std::vector<uint64_t> offsets;
    for (const auto& r : refs) {
      Source* s = source_for(r.redrive, r.partition);
      if (!s) continue;
      offsets.clear();
      if (s->cursor.release(r.offset, r.lease, f, t, config_.retry, 0.0, offsets)) ++n;
      collect_dead(*s, offsets, dead);
    }
    counters_.nacks += n;
    if (n) {
      mark_dirty();
      rearm();
    }
  }
  send_dead(std::move(dead));
  if (n) on_data();
  return n;
}

Result<json::object> Subscription::seek(const json::object& body) {
  if (auto s = reject_unknown_fields(body, {"offset", "partition", "time"}); !s) {
    return std::move(s).error();
  }
  auto time = get_string(body, "time");
  if (!time) return std::move(time).error();
  auto partition = get_int(body, "partition");
  if (!partition) return std::move(partition).error();
  auto offset_it = body.find("offset");
  const bool has_offset = offset_it != body.end() && !offset_it->value().is_null();
  if (*time && has_offset) {
    return make_error(Errc::invalid_argument, "give either 'offset' or 'time', not both");
  }
  if (!*time && !has_offset) {
    return make_error(Errc::invalid_argument,
                      "give 'offset' (a number, \"earliest\" or \"latest\"; with 'partition' "
                      "for one partition) or 'time' (RFC 3339)");
  }
  std::optional<int64_t> time_ms;
  if (*time) {
    auto ms = parse_rfc3339_ms(**time);
    if (!ms) return std::move(ms).error();
    time_ms = *ms;
  }
  enum class To { offset, earliest, latest } to = To::offset;
  uint64_t offset = 0;
  if (has_offset) {
    const auto& v = offset_it->value();
    if (v.is_string() && v.get_string() == "earliest") {
      to = To::earliest;
    } else if (v.is_string() && v.get_string() == "latest") {
      to = To::latest;
    } else {
      auto o = get_int(body, "offset");
      if (!o || **o < 0) {
        return make_error(Errc::invalid_argument,
                          "'offset' must be an offset (integer >= 0), \"earliest\" or \"latest\"");
      }
      offset = static_cast<uint64_t>(**o);
    }
  }
  json::array moved;
  {
    std::lock_guard lock(mu_);
    if (!attached()) return stopped_error();
    if (*partition && (**partition < 0 || **partition >= int64_t(main_.size()))) {
      return make_error(Errc::invalid_argument,
                        fmt::format("'partition' must be from 0 to {}", main_.size() - 1));
    }
    const uint64_t first_valid = lease_counter_ + 1;
    for (auto& s : main_) {
      if (*partition && s->partition != uint64_t(**partition)) continue;
      auto& part = *s->part;
      uint64_t at = 0;
      if (time_ms) {
        at = part.offset_for_time(*time_ms);
      } else if (to == To::earliest) {
        at = part.start_offset();
      } else if (to == To::latest) {
        at = part.visible_end();
      } else {
        at = std::clamp(offset, part.start_offset(), part.visible_end());
      }
      s->cursor.seek(at, first_valid);
      moved.push_back(json::object{{"partition", s->partition}, {"offset", at}});
    }
    rearm();
  }
  if (auto s = flush_now(); !s) return std::move(s).error();
  on_data();
  return json::object{{"partitions", std::move(moved)}};
}

Result<json::object> Subscription::redrive() {
  json::array ranges;
  uint64_t total = 0;
  {
    std::lock_guard lock(mu_);
    if (!attached()) return stopped_error();
    if (config_.dead_letter_topic.empty()) {
      return make_error(Errc::conflict,
                        fmt::format("subscription '{}' has no dead_letter_topic, so there is "
                                    "nothing to redrive",
                                    name_));
    }
    auto dl = deps_.topics.find(config_.dead_letter_topic);
    if (dl && dl_topic_ && dl != dl_topic_) {
      redrive_.clear();  // the dead-letter topic was recreated: old positions mean nothing
      redrive_mark_.clear();
    }
    if (dl) {
      dl_topic_ = dl;
      redrive_mark_.resize(dl->partition_count(), 0);
      for (uint32_t p = 0; p < dl->partition_count(); ++p) {
        auto& part = dl->partition(p);
        const uint64_t from = std::max(redrive_mark_[p], part.start_offset());
        const uint64_t to = part.visible_end();
        if (to <= from) continue;
        auto& src = redrive_[p];
        if (!src) {
          src = std::make_unique<Source>(config_.mode, AckSet(from));
          src->redrive = true;
          src->partition = p;
          src->part = &part;
        }
        src->limit = to;
        redrive_mark_[p] = to;
        total += to - from;
        ranges.push_back(json::object{{"partition", p}, {"from", from}, {"to", to}});
      }
    }
  }
  if (auto s = flush_now(); !s) return std::move(s).error();
  post_pump();
  return json::object{{"dead_letter_topic", config().dead_letter_topic},
                      {"scanned", total},
                      {"partitions", std::move(ranges)}};
}

json::object Subscription::stats() const {
  std::lock_guard lock(mu_);
  json::object o;
  uint64_t backlog = 0, outstanding = 0, in_flight = 0;
  std::optional<int64_t> oldest;
  json::array parts;
  const int64_t now_ms = deps_.clock.now_ms();
  auto oldest_time = [&](const Source& s, uint64_t end) -> std::optional<int64_t> {
    const uint64_t c = s.cursor.acks().committed();
    if (c >= end) return std::nullopt;
    if (const Message* m = s.cursor.find(c)) return m->log_time_ms;
    auto r = s.part->read(c, 1, 64 << 10);
    if (!r || r->records.empty()) return std::nullopt;
    return r->records.front().time_ms;
  };
  auto account = [&](const Source& s, uint64_t end) {
    const auto& a = s.cursor.acks();
    uint64_t pending = end > a.committed() ? end - a.committed() : 0;
    pending -= std::min(pending, a.count_above());
    backlog += pending;
    outstanding += s.cursor.outstanding();
    in_flight += s.cursor.leased();
    auto t = oldest_time(s, end);
    if (t && (!oldest || *t < *oldest)) oldest = t;
    return pending;
  };
  if (!detached_ && !stopped_) {
    for (const auto& s : main_) {
      const uint64_t end = s->part->visible_end();
      uint64_t pending = account(*s, end);
      parts.push_back(json::object{{"partition", s->partition},
                                   {"committed", s->cursor.acks().committed()},
                                   {"end_offset", end},
                                   {"backlog", pending},
                                   {"in_flight", s->cursor.leased()}});
    }
    json::array redrives;
    for (const auto& [p, s] : redrive_) {
      uint64_t pending = account(*s, std::min(s->limit, s->part->visible_end()));
      redrives.push_back(json::object{{"partition", p},
                                      {"committed", s->cursor.acks().committed()},
                                      {"to", s->limit},
                                      {"backlog", pending}});
    }
    if (!redrives.empty()) o["redrive"] = std::move(redrives);
  }
  o["backlog"] = backlog;
  o["oldest_unacked_age_ms"] = oldest ? std::max<int64_t>(0, now_ms - *oldest) : 0;
  o["outstanding"] = outstanding;
  o["in_flight"] = in_flight;
  o["deliveries"] = counters_.deliveries;
  o["retries"] = counters_.retries;
  o["acks"] = counters_.acks;
  o["nacks"] = counters_.nacks;
  o["expired"] = counters_.expired;
  o["dead_lettered"] = counters_.dead_lettered;
  o["discarded"] = counters_.discarded;
  o["filtered"] = counters_.filtered;
  o["push_failures"] = counters_.push_failures;
  o["waiting_pullers"] = waiters_.size();
  if (detached_) o["detached"] = true;
  o["partitions"] = std::move(parts);
  return o;
}

}  // namespace eddy::bus
