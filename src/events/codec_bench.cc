#include "events/codec_bench.h"

#include <fmt/format.h>

#include <time.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "events/cloud_event.h"

namespace eddy::events {
namespace {

// One ~200-byte event, varied by `i` so no two bodies are byte-identical.
void append_sample_event(std::string& out, size_t i) {
  out += fmt::format(
      R"({{"specversion":"1.0","id":"{:08x}-5c1e-4b7a-9f21-{:012x}","source":"/sensors/{}",)"
      R"("type":"com.example.reading","time":"2026-11-27T13:33:{:02}.{:03}Z",)"
      R"("partitionkey":"device-{}","data":{{"temp":{}.{},"ok":{},"tags":["a","b"]}}}})",
      i * 2654435761u, i, i % 97, i % 60, i % 1000, i % 1013, 15 + i % 20, i % 10,
      i % 2 ? "true" : "false");
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

boost::json::object bench_codec(size_t events, size_t batch) {
  if (batch == 0) batch = 1;
  const size_t bodies_count = (events + batch - 1) / batch;
  std::vector<std::string> bodies;
  bodies.reserve(bodies_count);
  size_t bytes = 0;
  size_t made = 0;
  for (size_t b = 0; b < bodies_count; ++b) {
    std::string body = "[";
    for (size_t k = 0; k < batch && made < events; ++k, ++made) {
      if (k > 0) body.push_back(',');
      append_sample_event(body, made);
    }
    body.push_back(']');
    bytes += body.size();
    bodies.push_back(std::move(body));
  }

  const Limits limits;
  size_t parsed = 0;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  for (const std::string& body : bodies) {
    auto result = parse_batch(body, limits);
    if (!result) throw std::runtime_error("bench_codec: " + result.error().message);
    parsed += result->size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu_seconds = thread_cpu_seconds() - cpu_start;

  boost::json::object out;
  out["events"] = parsed;
  out["batch"] = batch;
  out["avg_event_bytes"] = made ? static_cast<double>(bytes) / static_cast<double>(made) : 0.0;
  out["seconds"] = seconds;
  out["events_per_sec"] = seconds > 0 ? static_cast<double>(parsed) / seconds : 0.0;
  out["bytes_per_sec"] = seconds > 0 ? static_cast<double>(bytes) / seconds : 0.0;
  out["cpu_seconds"] = cpu_seconds;
  out["events_per_cpu_sec"] = cpu_seconds > 0 ? static_cast<double>(parsed) / cpu_seconds : 0.0;
  return out;
}

}  // namespace eddy::events
