// `eddy bench publish | latency | idle`: end-to-end figures of a real eddy server over
// loopback HTTP. Unless an endpoint is given, each benchmark starts its own `eddy serve`
// child (this binary) on 127.0.0.1:0 with a temporary data directory, and stops it with
// SIGTERM at the end. Every run is bounded in time and in count.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

#include "common/error.h"

namespace eddy::cli {

// Where the server comes from, shared by the three benchmarks.
struct BenchServerOptions {
  std::string endpoint;  // http://HOST:PORT; empty: start our own server
  // always | interval:MS | never: the own server's --fsync, or the topic's fsync on a
  // running server; empty: the server's default.
  std::string fsync;
  std::string topic = "bench";  // created (or updated) before the run
};

struct PublishBenchOptions {
  BenchServerOptions server;
  int connections = 16;      // keep-alive connections, one request in flight on each
  int batch = 1;             // 1: structured mode; >1: batch mode with this many events
  int data_bytes = 100;      // the CloudEvent's `data`: a JSON string of this many bytes
  int duration_ms = 3000;    // measured time, after the warm-up
  int warmup_ms = 300;       // sent but not counted
  int64_t max_requests = 0;  // stop after this many measured requests (0: no limit)
  int client_threads = 1;    // io threads of the load generator
};

struct LatencyBenchOptions {
  BenchServerOptions server;
  int samples = 2000;
  int data_bytes = 100;
  int park_us = 200;  // pause between sending the read and the publish (not measured)
};

// The structured CloudEvent the benchmarks publish (and the peers in bench/ send as their
// message body): `id` plus fixed attributes and a `data` string of `data_bytes` bytes.
std::string bench_event_json(int data_bytes, std::string_view id);

// The body of one publish request: the event alone (batch 1, structured mode) or a JSON
// array of `batch` events (batch mode). The peers in bench/ send the same bytes.
std::string bench_publish_body(int batch, int data_bytes);

// Publish throughput: events_per_sec, requests_per_sec, p50_us, p99_us (per request),
// rss_mb (the server's peak resident set, own server only), and the CPU each side used
// per event over the measured window.
Result<boost::json::object> bench_publish(const PublishBenchOptions& options);

// Publish → read latency of one long-polling reader, from just before the publish is sent
// to the reader holding the event: p50_us, p99_us, p999_us, max_us; and the publisher's
// own 2xx (ack_p50_us, ack_p99_us), with how many reads completed before their ack.
Result<boost::json::object> bench_latency(const LatencyBenchOptions& options);

// The resident set of a freshly started server with no work: rss_mb. Always starts its own.
Result<boost::json::object> bench_idle(const BenchServerOptions& options);

}  // namespace eddy::cli
