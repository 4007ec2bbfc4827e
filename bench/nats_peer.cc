// The JetStream peer of eddy's benchmarks. Connects to a nats-server started with
// JetStream, creates a stream with file storage and otherwise default settings, and runs one
// of two measurements with the same bytes eddy receives, printing one JSON object:
//
//   publish  the peer of `eddy bench publish`: --messages copies of the payload (one event
//            per message, or a whole batch body per message) with js_PublishAsync, at most
//            --max-pending in flight, then waits for every ack (js_PublishAsyncComplete).
//   pull     the peer of a queue subscription's pull: publishes --messages copies (not
//            measured), then a durable pull consumer with explicit acks fetches batches of
//            --batch and acks every message (natsMsg_Ack).
//
//   nats_peer publish|pull --url nats://127.0.0.1:4222 --payload-file event.json
//             [--messages 200000] [--max-seconds S] [--stream NAME]
//             publish: [--events-per-msg 1] [--max-pending 4000]   pull: [--batch 100]
// Bounded by --messages and --max-seconds (default 20 for publish, 60 for pull).
#include <nats/nats.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string url = "nats://127.0.0.1:4222";
  std::string payload_file;
  std::string stream;
  long messages = 200000;
  double max_seconds = 0;
  long events_per_msg = 1;  // publish
  long max_pending = 4000;  // publish
  int batch = 100;          // pull
};

std::atomic<long> g_ack_errors{0};

void on_ack_error(jsCtx*, jsPubAckErr* pae, void*) {
  if (g_ack_errors++ == 0) {
    std::fprintf(stderr, "nats_peer: ack error %d: %s\n", static_cast<int>(pae->ErrCode),
                 pae->ErrText ? pae->ErrText : "");
  }
}

int usage(const char* why) {
  std::fprintf(stderr,
               "nats_peer: %s\nusage: nats_peer publish|pull --url URL --payload-file FILE "
               "[--messages N] [--max-seconds S] [--stream NAME] [--events-per-msg K] "
               "[--max-pending P] [--batch B]\n",
               why);
  return 2;
}

int fail(const char* what, natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::fprintf(stderr, "nats_peer: %s: %s (js error %d) %s\n", what, natsStatus_GetText(s),
               static_cast<int>(jerr), nats_GetLastError(nullptr));
  return 1;
}

Clock::time_point deadline(Clock::time_point start, double seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Publishes asynchronously until `stop` (if any) and waits for every ack; the count sent.
long publish_all(jsCtx* js, const Options& o, const std::string& payload,
                 std::optional<Clock::time_point> stop, int64_t ack_wait_ms, natsStatus& status) {
  long sent = 0;
  for (; sent < o.messages; ++sent) {
    status = js_PublishAsync(js, o.stream.c_str(), payload.data(), static_cast<int>(payload.size()),
                             nullptr);
    if (status != NATS_OK) return sent;
    if (stop && (sent & 1023) == 0 && Clock::now() > *stop) break;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = ack_wait_ms;
  status = js_PublishAsyncComplete(js, &po);
  return sent;
}

int run_publish(natsConnection*, jsCtx* js, const Options& o, const std::string& payload) {
  auto start = Clock::now();
  natsStatus s = NATS_OK;
  long sent = publish_all(js, o, payload, deadline(start, o.max_seconds), 60000, s);
  if (s != NATS_OK) return fail("publish", s);
  double seconds = seconds_since(start);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "{\"peer\":\"jetstream\",\"messages\":%ld,\"msg_bytes\":%zu,\"events_per_msg\":%ld,"
      "\"max_pending\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"msgs_per_sec\":%.0f,"
      "\"events_per_sec\":%.0f,\"client_cpu_us_per_event\":%.2f}\n",
      sent, payload.size(), o.events_per_msg, o.max_pending, g_ack_errors.load(), seconds,
      static_cast<double>(sent) / seconds, static_cast<double>(sent * o.events_per_msg) / seconds,
      cpu * 1e6 / static_cast<double>(sent * o.events_per_msg));
  return g_ack_errors.load() ? 1 : 0;
}

int run_pull(natsConnection* nc, jsCtx* js, const Options& o, const std::string& payload) {
  natsStatus s = NATS_OK;
  publish_all(js, o, payload, std::nullopt, 120000, s);
  if (s != NATS_OK) return fail("publish", s);
  natsSubscription* sub = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.MaxAckPending = 100000;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (s = js_PullSubscribe(&sub, js, o.stream.c_str(), "bench", nullptr, &so, &jerr);
      s != NATS_OK) {
    return fail("pull subscribe", s, jerr);
  }
  const auto start = Clock::now();
  const auto stop = deadline(start, o.max_seconds);
  long consumed = 0;
  while (consumed < o.messages && Clock::now() < stop) {
    natsMsgList list{};
    s = natsSubscription_Fetch(&list, sub, o.batch, 5000, &jerr);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) return fail("fetch", s, jerr);
    for (int i = 0; i < list.Count; ++i) {
      if (natsStatus a = natsMsg_Ack(list.Msgs[i], nullptr); a != NATS_OK) return fail("ack", a);
    }
    consumed += list.Count;
    natsMsgList_Destroy(&list);
  }
  // Acks are sent asynchronously: flush them so the run includes their cost.
  natsConnection_FlushTimeout(nc, 10000);
  const double seconds = seconds_since(start);
  std::printf(
      "{\"peer\":\"jetstream\",\"events\":%ld,\"msg_bytes\":%zu,\"batch\":%d,\"seconds\":%.3f,"
      "\"events_per_sec\":%.0f}\n",
      consumed, payload.size(), o.batch, seconds, static_cast<double>(consumed) / seconds);
  natsSubscription_Destroy(sub);
  return consumed < o.messages ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (argc < 2) return usage("say publish or pull");
  o.mode = argv[1];
  if (o.mode != "publish" && o.mode != "pull") return usage("say publish or pull");
  o.stream = o.mode == "publish" ? "bench" : "benchpull";
  o.max_seconds = o.mode == "publish" ? 20 : 60;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) return usage("every option takes a value");
    const char* v = argv[++i];
    if (a == "--url")
      o.url = v;
    else if (a == "--payload-file")
      o.payload_file = v;
    else if (a == "--stream")
      o.stream = v;
    else if (a == "--messages")
      o.messages = std::atol(v);
    else if (a == "--max-seconds")
      o.max_seconds = std::atof(v);
    else if (a == "--events-per-msg")
      o.events_per_msg = std::atol(v);
    else if (a == "--max-pending")
      o.max_pending = std::atol(v);
    else if (a == "--batch")
      o.batch = std::atoi(v);
    else
      return usage("unknown option");
  }
  if (o.payload_file.empty() || o.messages < 1 || o.events_per_msg < 1 || o.batch < 1) {
    return usage("--payload-file is required; counts must be >= 1");
  }
  std::ifstream in(o.payload_file, std::ios::binary);
  std::string payload((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) payload.pop_back();
  if (payload.empty()) return usage("the payload file is empty or unreadable");

  natsConnection* nc = nullptr;
  if (natsStatus s = natsConnection_ConnectTo(&nc, o.url.c_str()); s != NATS_OK) {
    return fail("connect", s);
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = o.max_pending;
  jo.PublishAsync.ErrHandler = on_ack_error;
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, nc, &jo); s != NATS_OK) {
    return fail("jetstream", s);
  }
  // File storage is the default; everything else stays at the server's defaults.
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o.stream.c_str();
  const char* subjects[] = {o.stream.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr); s != NATS_OK) {
    return fail("add stream", s, jerr);
  }
  jsStreamInfo_Destroy(si);

  int rc = o.mode == "publish" ? run_publish(nc, js, o, payload) : run_pull(nc, js, o, payload);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  return rc;
}
