#include "log/log_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace eddy::log {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

json::object failure(const Error& e) {
  return json::object{{"error", e.message}};
}

double percentile_us(std::vector<int64_t>& ns, double q) {
  if (ns.empty()) return 0;
  size_t k = std::min(ns.size() - 1, static_cast<size_t>(q * static_cast<double>(ns.size())));
  std::nth_element(ns.begin(), ns.begin() + static_cast<ptrdiff_t>(k), ns.end());
  return static_cast<double>(ns[k]) / 1000.0;
}

// Payloads of `bytes` printable bytes, differing from record to record.
std::vector<std::string> make_payloads(size_t count, size_t bytes) {
  std::vector<std::string> out(count, std::string(bytes, ' '));
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& p : out) {
    for (char& c : p) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>('!' + x % 90);
    }
  }
  return out;
}

}  // namespace

json::object bench_append(const std::filesystem::path& dir, const BenchAppendOptions& o) {
  if (o.batch == 0 || o.threads == 0) {
    return failure(make_error(Errc::invalid_argument, "batch and threads must be at least 1"));
  }
  Flusher flusher;
  PartitionOptions po;
  po.dir = dir / "bench-append";
  po.durability = o.durability;
  po.segment_bytes = o.segment_bytes;
  auto opened = Partition::open(po, flusher, SystemClock::instance());
  if (!opened) return failure(opened.error());
  Partition& part = **opened;

  const auto payloads = make_payloads(o.batch, o.event_bytes);
  const std::vector<std::string_view> batch(payloads.begin(), payloads.end());
  const uint64_t appends_total = o.events ? (o.events + o.batch - 1) / o.batch : UINT64_MAX;
  std::atomic<uint64_t> appends_claimed{0};
  std::atomic<uint64_t> events_done{0};
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::vector<int64_t>> latencies(o.threads);

  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::milliseconds(o.duration_ms);
  auto publisher = [&](unsigned t) {
    auto& lat = latencies[t];
    lat.reserve(1 << 16);
    std::atomic<int> acked{0};
    while (!failed.load(std::memory_order_relaxed)) {
      if (appends_claimed.fetch_add(1, std::memory_order_relaxed) >= appends_total) break;
      auto t0 = SteadyClock::now();
      if (o.events == 0 && t0 >= deadline) break;
      auto r = part.append(batch);
      Status durable;
      if (r) {
        acked.store(0, std::memory_order_relaxed);
        part.when_durable(r->end_offset, [&](Status s) {
          durable = std::move(s);
          acked.store(1, std::memory_order_release);
          acked.notify_one();
        });
        acked.wait(0, std::memory_order_acquire);
      }
      if (!r || !durable) {
        std::lock_guard lk(error_mu);
        if (!failed.exchange(true)) first_error = !r ? r.error().message : durable.error().message;
        break;
      }
      lat.push_back((SteadyClock::now() - t0).count());
      events_done.fetch_add(o.batch, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < o.threads; ++t) threads.emplace_back(publisher, t);
  publisher(0);
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (failed) return json::object{{"error", first_error}};

  std::vector<int64_t> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  const uint64_t events = events_done.load();
  const PartitionStats st = part.stats();
  json::object out;
  out["events_per_sec"] = static_cast<double>(events) / seconds;
  out["mb_per_sec"] =
      static_cast<double>(events) * static_cast<double>(o.event_bytes) / seconds / 1e6;
  out["append_p50_us"] = percentile_us(all, 0.50);
  out["append_p99_us"] = percentile_us(all, 0.99);
  out["events"] = events;
  out["seconds"] = seconds;
  out["appends"] = all.size();
  out["fsyncs"] = st.fsyncs;
  out["segments"] = st.segments;
  out["event_bytes"] = o.event_bytes;
  out["batch"] = o.batch;
  out["threads"] = o.threads;
  out["fsync"] = o.durability.to_string();
  return out;
}

json::object bench_recovery(const std::filesystem::path& dir, const BenchRecoveryOptions& o) {
  if (o.batch == 0) return failure(make_error(Errc::invalid_argument, "batch must be at least 1"));
  PartitionOptions po;
  po.dir = dir / "bench-recovery";
  po.durability = *Durability::parse("never");
  po.segment_bytes = o.segment_bytes;
  Flusher flusher;
  {
    auto p = Partition::open(po, flusher, SystemClock::instance());
    if (!p) return failure(p.error());
    const auto payloads = make_payloads(o.batch, o.event_bytes);
    const std::vector<std::string_view> batch(payloads.begin(), payloads.end());
    while ((*p)->stats().size_bytes < o.bytes) {
      if (auto r = (*p)->append(batch); !r) return failure(r.error());
    }
    if (auto s = (*p)->sync(); !s) return failure(s.error());
  }
  po.durability = Durability{};  // reopen as the server does: `always` syncs at open
  const auto t0 = SteadyClock::now();
  auto p = Partition::open(po, flusher, SystemClock::instance());
  const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
  if (!p) return failure(p.error());
  const PartitionStats st = (*p)->stats();
  return json::object{{"open_ms", ms},
                      {"bytes", st.size_bytes},
                      {"segments", st.segments},
                      {"records", st.end_offset}};
}

}  // namespace eddy::log
