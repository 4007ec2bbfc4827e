#include "log/partition.h"

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "log/flusher_impl.h"
#include "log/format.h"
#include "log/io.h"
#include "log/segment.h"

namespace eddy::log {

namespace fs = std::filesystem;
using format::BatchCheck;
using format::BatchHeader;
using format::kBatchHeaderBytes;

// ---- Durability ----

Result<Durability> Durability::parse(std::string_view text) {
  Durability d;
  if (text == "always") {
    d.mode = Mode::always;
    return d;
  }
  if (text == "never") {
    d.mode = Mode::never;
    return d;
  }
  constexpr std::string_view kPrefix = "interval:";
  if (text.starts_with(kPrefix)) {
    std::string_view num = text.substr(kPrefix.size());
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), ms);
    if (ec == std::errc() && end == num.data() + num.size() && ms >= 1 &&
        ms <= 24ll * 3600 * 1000) {
      d.mode = Mode::interval;
      d.interval = std::chrono::milliseconds(ms);
      return d;
    }
  }
  return make_error(Errc::invalid_argument,
                    fmt::format("durability '{}' is not understood; use 'always', 'never' or "
                                "'interval:MS' with MS a whole number of milliseconds from 1 to "
                                "86400000",
                                text));
}

std::string Durability::to_string() const {
  switch (mode) {
    case Mode::always:
      return "always";
    case Mode::never:
      return "never";
    case Mode::interval:
      return fmt::format("interval:{}", interval.count());
  }
  return "always";
}

namespace {

// Positions in a segment are 32-bit; a segment may exceed segment_bytes by one batch.
constexpr uint64_t kMaxSegmentBytes = 1ull << 30;
// The per-thread batch encoding buffer is released past this size.
constexpr size_t kKeepEncodeBufferBytes = 1u << 20;

class PartitionImpl final : public Partition, private FlushTarget {
 public:
  PartitionImpl(PartitionOptions options, Flusher::Impl& flusher, const Clock& clock)
      : opts_(std::move(options)), mode_(opts_.durability.mode), flusher_(flusher), clock_(clock) {}
  ~PartitionImpl() override;

  Status open();

  Result<AppendResult> append(std::span<const std::string_view> payloads) override;
  void when_durable(uint64_t end_offset, std::function<void(Status)> done) override;
  Result<ReadResult> read(uint64_t offset, size_t max_records, size_t max_bytes) const override;
  uint64_t offset_for_time(int64_t time_ms) const override;
  uint64_t start_offset() const override { return start_.load(std::memory_order_acquire); }
  uint64_t end_offset() const override { return end_.load(std::memory_order_acquire); }
  uint64_t visible_end() const override { return visible_.load(std::memory_order_acquire); }
  uint64_t add_listener(std::function<void(uint64_t)> fn) override;
  void remove_listener(uint64_t id) override;
  Status sync() override;
  Status enforce_retention() override;
  Status reconfigure(Durability durability, int64_t segment_ms, int64_t retention_ms,
                     int64_t retention_bytes) override;
  PartitionStats stats() const override;

 private:
  using Mode = Durability::Mode;
  struct Waiter {
    uint64_t end;
    std::function<void(Status)> done;
  };
  using Listeners = std::vector<std::pair<uint64_t, std::function<void(uint64_t)>>>;

  void flush() override { (void)sync_now(); }
  Status sync_now();
  Status roll_locked();
  void fail_locked(const Error& e);
  Error failure() const;
  // Calls the listeners. A listener may destroy the partition: callers touch nothing of it
  // afterwards.
  void notify(uint64_t visible_end);
  bool sync_enabled() const { return mode_.load(std::memory_order_acquire) != Mode::never; }

  // dir, segment_bytes and index_interval_bytes never change; durability, segment_ms and
  // the retention limits change under mu_ (reconfigure), with mode_ mirroring the mode.
  PartitionOptions opts_;
  std::atomic<Mode> mode_;
  Flusher::Impl& flusher_;
  const Clock& clock_;
  bool registered_ = false;

  // Guards the segment list, the active segment and the failure state.
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Segment>> segments_;  // by base offset; back() is active
  int64_t last_time_ms_ = INT64_MIN;                // batch times never go backwards
  uint64_t total_bytes_ = 0;
  std::vector<std::shared_ptr<Segment>> unsynced_;  // rolled since the last sync
  bool dir_dirty_ = false;                          // a segment file was created since
  std::string failure_;                             // set once, with failed_
  std::atomic<bool> failed_{false};

  std::atomic<uint64_t> start_{0};
  std::atomic<uint64_t> end_{0};
  std::atomic<uint64_t> visible_{0};
  std::atomic<uint64_t> appended_{0};
  std::atomic<uint64_t> fsyncs_{0};

  // Held for a whole sync_now(): syncs run one at a time.
  std::mutex flush_mu_;
  // Guards the durable end and the when_durable waiters.
  std::mutex sync_mu_;
  uint64_t synced_end_ = 0;
  std::vector<Waiter> waiters_;

  // Listeners live in a hub that a notifier keeps alive while it calls them, so a listener
  // may release the last owner of the partition.
  struct ListenerHub {
    std::mutex mu;  // guards list and next_id
    std::shared_ptr<const Listeners> list = std::make_shared<Listeners>();  // copy-on-write
    uint64_t next_id = 1;
    std::atomic<size_t> count{0};
    // Held shared by notifiers while they call; remove_listener takes it exclusively to
    // wait for calls that may hold the old list.
    std::shared_mutex calling;
  };
  const std::shared_ptr<ListenerHub> hub_ = std::make_shared<ListenerHub>();
};

Status PartitionImpl::open() {
  if (opts_.dir.empty()) {
    return make_error(Errc::invalid_argument, "partition directory is empty; pass a directory");
  }
  if (opts_.segment_bytes == 0 || opts_.segment_bytes > kMaxSegmentBytes) {
    return make_error(Errc::invalid_argument,
                      fmt::format("segment_bytes {} is out of range; use 1 to {}",
                                  opts_.segment_bytes, kMaxSegmentBytes));
  }
  if (opts_.segment_ms <= 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("segment_ms {} must be positive", opts_.segment_ms));
  }
  if (opts_.durability.mode == Mode::interval && opts_.durability.interval.count() < 1) {
    return make_error(Errc::invalid_argument, "durability interval must be at least 1 ms");
  }
  std::error_code ec;
  fs::create_directories(opts_.dir, ec);
  if (ec) return io::os_error("cannot create directory", opts_.dir, ec.value());

  // Segment files name the partition's contents; index files without their segment and
  // temporary files are leftovers of an interrupted roll or deletion.
  std::vector<uint64_t> bases;
  std::vector<fs::path> leftovers;
  for (const auto& entry : fs::directory_iterator(opts_.dir, ec)) {
    std::string name = entry.path().filename().string();
    uint64_t base = 0;
    if (format::parse_file_name(name, "log", base)) {
      bases.push_back(base);
    } else if (format::parse_file_name(name, "index", base) ||
               format::parse_file_name(name, "timeindex", base) || name.ends_with(".index.tmp") ||
               name.ends_with(".timeindex.tmp")) {
      leftovers.push_back(entry.path());
    }
  }
  if (ec) return io::os_error("cannot list directory", opts_.dir, ec.value());
  std::sort(bases.begin(), bases.end());
  for (const fs::path& p : leftovers) {
    uint64_t base = 0;
    std::string name = p.filename().string();
    bool has_segment = (format::parse_file_name(name, "index", base) ||
                        format::parse_file_name(name, "timeindex", base)) &&
                       std::binary_search(bases.begin(), bases.end(), base);
    if (!has_segment) fs::remove(p, ec);
  }

  const bool sync = sync_enabled();
  if (bases.empty()) {
    auto seg = Segment::create(opts_.dir, 0, opts_.index_interval_bytes);
    if (!seg) return std::move(seg).error();
    if (auto s = io::fsync_dir(opts_.dir); !s) return s;
    segments_.push_back(std::move(*seg));
  } else {
    for (size_t i = 0; i + 1 < bases.size(); ++i) {
      auto seg =
          Segment::open_closed(opts_.dir, bases[i], bases[i + 1], opts_.index_interval_bytes, sync);
      if (!seg) return std::move(seg).error();
      segments_.push_back(std::move(*seg));
    }
    auto active = Segment::open_active(opts_.dir, bases.back(), opts_.index_interval_bytes, sync);
    if (!active) return std::move(active).error();
    segments_.push_back(std::move(*active));
  }

  const Segment& active = *segments_.back();
  if (sync) {
    // What survived in the page cache becomes durable now, so it can all be visible.
    if (auto s = io::fdatasync_file(active.fd(), active.path()); !s) return s;
  }
  for (const auto& seg : segments_) {
    total_bytes_ += seg->size();
    if (!seg->empty()) last_time_ms_ = std::max(last_time_ms_, seg->max_time_ms());
  }
  start_ = segments_.front()->base();
  end_ = active.end_offset();
  visible_ = active.end_offset();
  synced_end_ = active.end_offset();

  std::optional<std::chrono::milliseconds> interval;
  if (opts_.durability.mode == Mode::interval) interval = opts_.durability.interval;
  flusher_.add(this, interval);
  registered_ = true;
  return {};
}

PartitionImpl::~PartitionImpl() {
  if (!registered_) return;  // open() failed: nothing was written
  flusher_.remove(this);
  Status last = sync_enabled() ? sync_now() : Status();
  std::vector<Waiter> left;
  uint64_t durable;
  {
    std::lock_guard lk(sync_mu_);
    left.swap(waiters_);
    durable = synced_end_;
  }
  for (Waiter& w : left) {
    if (w.end <= durable) {
      w.done({});
    } else {
      w.done(last ? make_error(Errc::unavailable,
                               fmt::format("partition {} closed before offset {} was durable; "
                                           "publish again",
                                           opts_.dir.string(), w.end))
                  : last.error());
    }
  }
}

void PartitionImpl::fail_locked(const Error& e) {
  if (failed_.load()) return;
  failure_ = fmt::format(
      "partition {} stopped accepting writes after a failed write or "
      "fsync ({}); fix the disk and restart the server",
      opts_.dir.string(), e.message);
  failed_.store(true, std::memory_order_release);
  spdlog::error("log: {}", failure_);
}

Error PartitionImpl::failure() const {
  std::lock_guard lk(mu_);
  return make_error(Errc::io_error, failure_);
}

Result<AppendResult> PartitionImpl::append(std::span<const std::string_view> payloads) {
  if (payloads.empty()) {
    uint64_t e = end_offset();
    return AppendResult{e, e};
  }
  size_t bytes = format::batch_bytes(payloads);
  if (bytes > format::kMaxBatchBytes || payloads.size() > UINT32_MAX) {
    return make_error(Errc::too_large,
                      fmt::format("a batch of {} records and {} bytes is over the log's limit "
                                  "of {} bytes per append; send fewer or smaller events",
                                  payloads.size(), bytes, format::kMaxBatchBytes));
  }
  // Encode outside the lock; only the offset, time and CRC wait for it.
  thread_local std::string batch;
  format::encode_records(payloads, batch);
  struct ReleaseLarge {
    ~ReleaseLarge() {
      if (batch.capacity() > kKeepEncodeBufferBytes) std::string().swap(batch);
    }
  } release_large;

  AppendResult result;
  Mode mode;
  {
    std::lock_guard lk(mu_);
    mode = mode_.load(std::memory_order_relaxed);
    if (failed_.load(std::memory_order_relaxed)) return make_error(Errc::io_error, failure_);
    int64_t now = clock_.now_ms();
    Segment* active = segments_.back().get();
    if (!active->empty() && (active->size() >= opts_.segment_bytes ||
                             now - active->first_time_ms() >= opts_.segment_ms)) {
      if (auto s = roll_locked(); !s) return s.error();
      active = segments_.back().get();
    }
    int64_t time_ms = std::max(now, last_time_ms_);
    uint64_t base = active->end_offset();
    format::seal_batch(batch, base, time_ms);
    uint64_t pos = active->size();
    if (auto s = io::pwrite_full(active->fd(), batch.data(), batch.size(), pos, active->path());
        !s) {
      if (auto t = active->truncate_to(pos); !t) fail_locked(t.error());
      return s.error();
    }
    active->add_batch(format::decode_header(batch.data()));
    last_time_ms_ = time_ms;
    total_bytes_ += batch.size();
    result = {base, active->end_offset()};
    end_.store(result.end_offset, std::memory_order_release);
    if (mode != Mode::always) visible_.store(result.end_offset, std::memory_order_release);
  }
  appended_.fetch_add(payloads.size(), std::memory_order_relaxed);
  if (mode != Mode::always) notify(result.end_offset);
  return result;
}

Status PartitionImpl::roll_locked() {
  Segment& old = *segments_.back();
  // The index files go to the page cache now; the next sync makes them durable together
  // with the segment's tail and the new directory entry, off the append path.
  if (auto s = old.write_indexes(/*sync=*/false); !s) {
    spdlog::warn("log {}: {}; the index will be rebuilt at the next open", old.path().string(),
                 s.error().message);
  }
  auto next = Segment::create(opts_.dir, old.end_offset(), opts_.index_interval_bytes);
  if (!next) return std::move(next).error();
  if (sync_enabled()) {
    dir_dirty_ = true;
  } else if (auto s = io::fsync_dir(opts_.dir); !s) {
    spdlog::warn("log: {}", s.error().message);
  }
  unsynced_.push_back(segments_.back());
  if (auto s = old.map_indexes(); !s) {
    spdlog::warn("log {}: {}; serving its index from memory", old.path().string(),
                 s.error().message);
  }
  segments_.push_back(std::move(*next));
  return {};
}

void PartitionImpl::when_durable(uint64_t end_offset, std::function<void(Status)> done) {
  if (mode_.load(std::memory_order_acquire) != Mode::always) {
    if (failed_.load(std::memory_order_acquire)) {
      done(failure());
    } else {
      done({});
    }
    return;
  }
  bool ready = false, failed = false;
  {
    std::lock_guard lk(sync_mu_);
    if (end_offset <= synced_end_) {
      ready = true;
    } else if (failed_.load(std::memory_order_acquire)) {
      failed = true;
    } else {
      waiters_.push_back({end_offset, std::move(done)});
    }
  }
  if (ready) {
    done({});
  } else if (failed) {
    done(failure());
  } else {
    flusher_.request(this);
  }
}

Status PartitionImpl::sync() {
  return sync_now();
}

Status PartitionImpl::sync_now() {
  std::vector<Waiter> ready;
  Status s;
  uint64_t end;
  {
    // One sync at a time: a sync must not claim records whose closed segment another sync
    // is still flushing.
    std::lock_guard flushing(flush_mu_);
    std::shared_ptr<Segment> active;
    std::vector<std::shared_ptr<Segment>> rolled;
    bool dir_dirty;
    {
      std::lock_guard lk(mu_);
      if (failed_.load(std::memory_order_relaxed)) return make_error(Errc::io_error, failure_);
      active = segments_.back();
      end = active->end_offset();
      rolled.swap(unsynced_);
      dir_dirty = std::exchange(dir_dirty_, false);
    }
    {
      std::lock_guard lk(sync_mu_);
      if (end <= synced_end_ && rolled.empty() && !dir_dirty) return {};  // nothing new
    }
    // Segments closed since the last sync, then the directory naming the new ones, then the
    // active segment: together they cover every record below `end`.
    for (const auto& seg : rolled) {
      if (s) s = seg->sync_files();
    }
    if (s && dir_dirty) s = io::fsync_dir(opts_.dir);
    if (s) s = io::fdatasync_file(active->fd(), active->path());
    fsyncs_.fetch_add(1, std::memory_order_relaxed);
    if (!s) {
      {
        std::lock_guard lk(mu_);
        fail_locked(s.error());
      }
      std::lock_guard lk(sync_mu_);
      ready.swap(waiters_);
    } else {
      std::lock_guard lk(sync_mu_);
      synced_end_ = std::max(synced_end_, end);
      auto covered = std::partition(waiters_.begin(), waiters_.end(),
                                    [&](const Waiter& w) { return w.end > synced_end_; });
      std::move(covered, waiters_.end(), std::back_inserter(ready));
      waiters_.erase(covered, waiters_.end());
    }
  }
  bool advanced = false;
  if (s && mode_.load(std::memory_order_acquire) == Mode::always) {
    uint64_t prev = visible_.load(std::memory_order_relaxed);
    while (prev < end && !visible_.compare_exchange_weak(prev, end, std::memory_order_acq_rel)) {
    }
    advanced = prev < end;
  }
  if (advanced) notify(end);
  // Last: a callback may let go of the last owner of this partition.
  std::optional<Error> error;
  if (!s) error = failure();
  for (Waiter& w : ready) {
    if (error) {
      w.done(*error);
    } else {
      w.done({});
    }
  }
  return s;
}

// The hub whose listeners this thread is calling, if any.
thread_local const void* t_notifying_hub = nullptr;

uint64_t PartitionImpl::add_listener(std::function<void(uint64_t)> fn) {
  std::lock_guard lk(hub_->mu);
  auto next = std::make_shared<Listeners>(*hub_->list);
  uint64_t id = hub_->next_id++;
  next->emplace_back(id, std::move(fn));
  hub_->list = std::move(next);
  hub_->count.store(hub_->list->size(), std::memory_order_release);
  return id;
}

void PartitionImpl::remove_listener(uint64_t id) {
  {
    std::lock_guard lk(hub_->mu);
    auto next = std::make_shared<Listeners>(*hub_->list);
    std::erase_if(*next, [&](const auto& l) { return l.first == id; });
    hub_->list = std::move(next);
    hub_->count.store(hub_->list->size(), std::memory_order_release);
  }
  // From inside one of our listeners, waiting would wait for ourselves.
  if (t_notifying_hub == hub_.get()) return;
  std::unique_lock wait(hub_->calling);  // calls that may hold the old list are done
}

void PartitionImpl::notify(uint64_t visible_end) {
  if (hub_->count.load(std::memory_order_acquire) == 0) return;
  std::shared_ptr<ListenerHub> hub = hub_;  // outlives `this` if a listener destroys it
  std::shared_lock calling(hub->calling);
  std::shared_ptr<const Listeners> list;
  {
    std::lock_guard lk(hub->mu);
    list = hub->list;
  }
  const void* outer = std::exchange(t_notifying_hub, hub.get());
  for (const auto& [id, fn] : *list) fn(visible_end);
  t_notifying_hub = outer;
  // `this` may be gone now: touch nothing of it.
}

Result<ReadResult> PartitionImpl::read(uint64_t offset, size_t max_records,
                                       size_t max_bytes) const {
  struct Pick {
    uint64_t offset;
    int64_t time_ms;
    size_t at;  // index into out.buffer
    size_t size;
  };
  ReadResult out;
  std::vector<Pick> picks;
  size_t taken_bytes = 0;
  bool full = max_records == 0;
  const uint64_t visible = visible_end();
  while (!full) {
    std::shared_ptr<Segment> seg;
    uint64_t pos, limit, seg_end, next_base;
    {
      std::lock_guard lk(mu_);
      offset = std::max(offset, start_.load(std::memory_order_relaxed));
      if (offset >= visible) break;
      auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                                 [](uint64_t o, const auto& s) { return o < s->base(); });
      if (it == segments_.begin()) break;  // not reached: offset >= start
      seg = *std::prev(it);
      pos = seg->position_for(offset);
      limit = seg->size();
      seg_end = seg->end_offset();
      // next_base > offset: seg is the last segment starting at or below offset.
      next_base = it == segments_.end() ? seg_end : (*it)->base();
    }
    if (offset >= seg_end) {  // a gap left by a damaged closed segment
      if (next_base <= offset) break;
      offset = next_base;
      continue;
    }

    // Read whole batches from `pos` into a window at the end of out.buffer, growing it as
    // needed; picks remember buffer indexes, so growing is safe.
    const size_t window_start = out.buffer.size();
    const uint64_t window_pos = pos;
    uint64_t read_end = pos;
    size_t chunk = std::clamp<size_t>(max_bytes, 64u << 10, 1u << 20);
    auto ensure = [&](uint64_t upto) -> Result<bool> {
      if (upto <= read_end) return true;
      if (upto > limit) return false;
      uint64_t want = std::min(limit, std::max(upto, read_end + chunk));
      chunk = std::min<size_t>(chunk * 2, 8u << 20);
      out.buffer.resize(window_start + (want - window_pos));
      char* dst = out.buffer.data() + window_start + (read_end - window_pos);
      auto n = io::pread_full(seg->fd(), dst, want - read_end, read_end, seg->path());
      if (!n) return std::move(n).error();
      if (*n != want - read_end) {
        return make_error(Errc::corrupt,
                          fmt::format("log {} is shorter than its {} valid bytes; restart the "
                                      "server to recover it",
                                      seg->path().string(), limit));
      }
      read_end = want;
      return true;
    };
    std::string damage;
    while (!full && pos < limit) {
      auto have = ensure(pos + kBatchHeaderBytes);
      if (!have) return std::move(have).error();
      BatchCheck c = BatchCheck::truncated;
      const char* p = nullptr;
      BatchHeader h;
      if (*have) {
        h = format::decode_header(out.buffer.data() + window_start + (pos - window_pos));
        c = format::check_header(h);
      }
      if (c == BatchCheck::ok) {
        have = ensure(pos + h.length);
        if (!have) return std::move(have).error();
        p = out.buffer.data() + window_start + (pos - window_pos);
        c = *have ? format::check_batch(p, h.length) : BatchCheck::truncated;
      }
      if (c != BatchCheck::ok) {
        damage = fmt::format("{} at position {}", format::batch_check_name(c), pos);
        break;
      }
      if (h.end_offset() > offset) {
        const size_t batch_at = window_start + (pos - window_pos);
        format::for_each_record(p, [&](uint32_t i, std::string_view payload) {
          uint64_t o = h.base_offset + i;
          if (full || o < offset) return;
          if (o >= visible || picks.size() >= max_records ||
              (!picks.empty() && taken_bytes + payload.size() > max_bytes)) {
            full = true;
            return;
          }
          picks.push_back(
              {o, h.time_ms, batch_at + static_cast<size_t>(payload.data() - p), payload.size()});
          taken_bytes += payload.size();
          offset = o + 1;
        });
      }
      pos += h.length;
    }
    if (full) break;
    if (!damage.empty()) {
      if (!picks.empty()) break;  // return what was read; the next read meets the damage
      if (next_base <= offset) {
        return make_error(Errc::corrupt,
                          fmt::format("log {}: {}; restart the server to recover the partition",
                                      seg->path().string(), damage));
      }
      spdlog::warn("log {}: {}; skipping to offset {}", seg->path().string(), damage, next_base);
    }
    offset = std::max(offset, next_base);  // continue in the next segment
  }
  out.next_offset = offset;
  out.records.reserve(picks.size());
  for (const Pick& k : picks) {
    out.records.push_back(
        {k.offset, k.time_ms, std::string_view(out.buffer.data() + k.at, k.size)});
  }
  return out;
}

uint64_t PartitionImpl::offset_for_time(int64_t time_ms) const {
  std::shared_ptr<Segment> seg;
  uint64_t pos, limit, scan_from;
  const uint64_t visible = visible_end();
  {
    std::lock_guard lk(mu_);
    // Batch times never decrease, so segments are ordered by time too.
    auto it = std::partition_point(segments_.begin(), segments_.end(), [&](const auto& s) {
      return s->empty() || s->max_time_ms() < time_ms;
    });
    if (it == segments_.end()) return visible;
    seg = *it;
    scan_from = seg->time_scan_start(time_ms);
    pos = seg->position_for(scan_from);
    limit = seg->size();
  }
  // Walk batch headers from the indexed position to the first batch at or after time_ms.
  char header[kBatchHeaderBytes];
  while (pos < limit) {
    auto n = io::pread_full(seg->fd(), header, sizeof header, pos, seg->path());
    if (!n || *n != sizeof header) break;
    BatchHeader h = format::decode_header(header);
    if (format::check_header(h) != BatchCheck::ok) break;
    if (h.time_ms >= time_ms) return std::min(h.base_offset, visible);
    pos += h.length;
  }
  spdlog::warn(
      "log {}: time lookup for {} ms did not find its batch; answering the index "
      "entry {}",
      seg->path().string(), time_ms, scan_from);
  return std::min(scan_from, visible);
}

Status PartitionImpl::enforce_retention() {
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    std::lock_guard lk(mu_);
    if (failed_.load(std::memory_order_relaxed)) return make_error(Errc::io_error, failure_);
    const int64_t now = clock_.now_ms();
    const Segment& active = *segments_.back();
    if (!active.empty() && now - active.first_time_ms() >= opts_.segment_ms) {
      if (auto s = roll_locked(); !s) return s;
    }
    while (segments_.size() > 1) {
      const Segment& oldest = *segments_.front();
      bool expired = opts_.retention_ms >= 0 &&
                     (oldest.empty() || oldest.max_time_ms() < now - opts_.retention_ms);
      bool over =
          opts_.retention_bytes >= 0 && total_bytes_ > static_cast<uint64_t>(opts_.retention_bytes);
      if (!expired && !over) break;
      total_bytes_ -= oldest.size();
      std::erase(unsynced_, segments_.front());  // no point syncing what goes
      doomed.push_back(segments_.front());
      segments_.erase(segments_.begin());
    }
    if (doomed.empty()) return {};
    start_.store(segments_.front()->base(), std::memory_order_release);
  }
  // Readers holding a segment keep reading through its open descriptor.
  for (const auto& seg : doomed) {
    spdlog::info("log {}: deleted by retention (offsets {} to {})", seg->path().string(),
                 seg->base(), seg->end_offset());
    seg->remove_files();
  }
  return io::fsync_dir(opts_.dir);
}

Status PartitionImpl::reconfigure(Durability durability, int64_t segment_ms, int64_t retention_ms,
                                  int64_t retention_bytes) {
  if (segment_ms <= 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("segment_ms {} must be positive", segment_ms));
  }
  uint64_t end;
  {
    std::lock_guard lk(mu_);
    opts_.durability = durability;
    opts_.segment_ms = segment_ms;
    opts_.retention_ms = retention_ms;
    opts_.retention_bytes = retention_bytes;
    mode_.store(durability.mode, std::memory_order_release);
    end = end_.load(std::memory_order_relaxed);
    if (durability.mode != Mode::always) visible_.store(end, std::memory_order_release);
  }
  std::optional<std::chrono::milliseconds> interval;
  if (durability.mode == Mode::interval) interval = durability.interval;
  flusher_.add(this, interval);
  if (durability.mode == Mode::always) return {};
  // Under the new policy durability is immediate: release everyone waiting for an fsync.
  std::vector<Waiter> waiting;
  {
    std::lock_guard lk(sync_mu_);
    waiting.swap(waiters_);
  }
  notify(end);
  for (Waiter& w : waiting) w.done({});  // last: may release the last owner
  return {};
}

PartitionStats PartitionImpl::stats() const {
  PartitionStats st;
  {
    std::lock_guard lk(mu_);
    st.size_bytes = total_bytes_;
    st.segments = segments_.size();
  }
  st.start_offset = start_offset();
  st.end_offset = end_offset();
  st.visible_end = visible_end();
  st.appended_records = appended_.load(std::memory_order_relaxed);
  st.fsyncs = fsyncs_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace

Result<std::unique_ptr<Partition>> Partition::open(PartitionOptions options, Flusher& flusher,
                                                   const Clock& clock) {
  auto p = std::make_unique<PartitionImpl>(std::move(options), flusher.impl(), clock);
  if (auto s = p->open(); !s) return std::move(s).error();
  return std::unique_ptr<Partition>(std::move(p));
}

}  // namespace eddy::log
