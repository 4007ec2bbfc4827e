// The JetStream peer of `eddy bench pull`: a durable pull consumer with explicit acks, the
// JetStream counterpart of a queue subscription. Connects to a nats-server started with
// JetStream, creates a stream with file storage, publishes --messages copies of the payload
// (not measured), then fetches them in batches of --batch and acks every message
// (natsMsg_Ack), and prints one JSON object with the consume rate.
//
//   nats_pull --url nats://127.0.0.1:4222 --payload-file event.json [--messages 200000]
//             [--batch 100] [--max-seconds 60]
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string url = "nats://127.0.0.1:4222";
  std::string payload_file;
  std::string stream = "benchpull";
  long messages = 200000;
  int batch = 100;
  double max_seconds = 60;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "nats_pull: %s\nusage: nats_pull --url URL --payload-file FILE [--messages N] "
               "[--batch B] [--max-seconds S]\n",
               why);
  return 2;
}

int fail(const char* what, natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::fprintf(stderr, "nats_pull: %s: %s (js error %d) %s\n", what, natsStatus_GetText(s),
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
    else if (a == "--messages")
      o.messages = std::atol(v);
    else if (a == "--batch")
      o.batch = std::atoi(v);
    else if (a == "--max-seconds")
      o.max_seconds = std::atof(v);
    else
      return usage("unknown option");
  }
  if (o.payload_file.empty() || o.messages < 1 || o.batch < 1) {
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
  if (natsStatus s = natsConnection_JetStream(&js, nc, nullptr); s != NATS_OK) {
    return fail("jetstream", s);
  }
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

  for (long i = 0; i < o.messages; ++i) {
    natsStatus s = js_PublishAsync(js, o.stream.c_str(), payload.data(),
                                   static_cast<int>(payload.size()), nullptr);
    if (s != NATS_OK) return fail("publish", s);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120000;
  if (natsStatus s = js_PublishAsyncComplete(js, &po); s != NATS_OK) return fail("await acks", s);

  natsSubscription* sub = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.MaxAckPending = 100000;
  if (natsStatus s = js_PullSubscribe(&sub, js, o.stream.c_str(), "bench", nullptr, &so, &jerr);
      s != NATS_OK) {
    return fail("pull subscribe", s, jerr);
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto stop = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(o.max_seconds));
  long consumed = 0;
  while (consumed < o.messages && Clock::now() < stop) {
    natsMsgList list{};
    natsStatus s = natsSubscription_Fetch(&list, sub, o.batch, 5000, &jerr);
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
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"peer\":\"jetstream\",\"events\":%ld,\"msg_bytes\":%zu,\"batch\":%d,\"seconds\":%.3f,"
      "\"events_per_sec\":%.0f}\n",
      consumed, payload.size(), o.batch, seconds, static_cast<double>(consumed) / seconds);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  return consumed < o.messages ? 1 : 0;
}
