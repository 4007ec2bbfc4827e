// The JetStream peer of `eddy bench publish`: connects to a nats-server started with
// JetStream, creates a stream with file storage and otherwise default settings, publishes
// the same bytes eddy receives (one event per message, or a whole batch body per message)
// with js_PublishAsync, waits for every ack (js_PublishAsyncComplete) and prints one JSON
// object. Bounded by --messages and --max-seconds.
//
//   nats_publish --url nats://127.0.0.1:4222 --payload-file event.json [--messages 200000]
//                [--events-per-msg 1] [--max-pending 4000] [--max-seconds 20]
#include <nats/nats.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string url = "nats://127.0.0.1:4222";
  std::string payload_file;
  std::string stream = "bench";
  long messages = 200000;
  long events_per_msg = 1;
  long max_pending = 4000;
  double max_seconds = 20;
};

std::atomic<long> g_errors{0};

void on_ack_error(jsCtx*, jsPubAckErr* pae, void*) {
  if (g_errors++ == 0) {
    std::fprintf(stderr, "nats_publish: ack error %d: %s\n", static_cast<int>(pae->ErrCode),
                 pae->ErrText ? pae->ErrText : "");
  }
}

int usage(const char* why) {
  std::fprintf(stderr,
               "nats_publish: %s\nusage: nats_publish --url URL --payload-file FILE "
               "[--messages N] [--events-per-msg K] [--max-pending P] [--max-seconds S] "
               "[--stream NAME]\n",
               why);
  return 2;
}

int fail(const char* what, natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::fprintf(stderr, "nats_publish: %s: %s (js error %d) %s\n", what, natsStatus_GetText(s),
               static_cast<int>(jerr), nats_GetLastError(nullptr));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
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
    else if (a == "--events-per-msg")
      o.events_per_msg = std::atol(v);
    else if (a == "--max-pending")
      o.max_pending = std::atol(v);
    else if (a == "--max-seconds")
      o.max_seconds = std::atof(v);
    else
      return usage("unknown option");
  }
  if (o.payload_file.empty() || o.messages < 1 || o.events_per_msg < 1) {
    return usage("--payload-file is required; counts must be >= 1");
  }
  std::ifstream in(o.payload_file, std::ios::binary);
  std::string payload((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) payload.pop_back();
  if (payload.empty()) return usage("the payload file is empty or unreadable");

  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  if (natsStatus s = natsConnection_ConnectTo(&nc, o.url.c_str()); s != NATS_OK) {
    return fail("connect", s);
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = o.max_pending;
  jo.PublishAsync.ErrHandler = on_ack_error;
  if (natsStatus s = natsConnection_JetStream(&js, nc, &jo); s != NATS_OK)
    return fail("jetstream", s);

  // File storage is the default; everything else stays at the server's defaults.
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o.stream.c_str();
  const char* subjects[] = {o.stream.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  if (natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr); s != NATS_OK) {
    return fail("add stream", s, jerr);
  }
  jsStreamInfo_Destroy(si);

  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto stop = start + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(o.max_seconds));
  long sent = 0;
  for (; sent < o.messages; ++sent) {
    natsStatus s = js_PublishAsync(js, o.stream.c_str(), payload.data(),
                                   static_cast<int>(payload.size()), nullptr);
    if (s != NATS_OK) return fail("publish", s);
    if ((sent & 1023) == 0 && Clock::now() > stop) break;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  if (natsStatus s = js_PublishAsyncComplete(js, &po); s != NATS_OK) return fail("await acks", s);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

  std::printf(
      "{\"peer\":\"jetstream\",\"messages\":%ld,\"msg_bytes\":%zu,\"events_per_msg\":%ld,"
      "\"max_pending\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"msgs_per_sec\":%.0f,"
      "\"events_per_sec\":%.0f,\"client_cpu_us_per_event\":%.2f}\n",
      sent, payload.size(), o.events_per_msg, o.max_pending, g_errors.load(), seconds,
      static_cast<double>(sent) / seconds, static_cast<double>(sent * o.events_per_msg) / seconds,
      cpu * 1e6 / static_cast<double>(sent * o.events_per_msg));
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  return g_errors.load() ? 1 : 0;
}
