// In-process benchmark of the publish-path codec, run by `eddy bench codec`: parse and
// validate batches of small structured events (what the gateway does per publish).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>

namespace eddy::events {

// Parses `events` events (~200 bytes each, varied ids, extensions and data) in
// `application/cloudevents-batch+json` bodies of `batch` events with parse_batch, on the
// calling thread. Returns {"events_per_sec", "bytes_per_sec", "events", "batch",
// "avg_event_bytes", "seconds", "cpu_seconds", "events_per_cpu_sec"}; the last uses the
// thread's CPU time, which a busy shared machine disturbs less than the wall clock. The
// bodies are built before the clocks start.
boost::json::object bench_codec(size_t events, size_t batch);

}  // namespace eddy::events
