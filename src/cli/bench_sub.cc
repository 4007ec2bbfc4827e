#include "cli/bench_sub.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/bench.h"
#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace json = boost::json;
using BenchClock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string endpoint;  // empty: start our own server
  std::string fsync = "interval:100";
  int events = 200000;  // pull / push: events published first, then consumed
  int batch = 100;      // pull: max_events per pull
  int consumers = 1;    // pull: concurrent pullers
  int partitions = 1;
  int data_bytes = 100;
  int concurrency = 16;  // push: the subscription's max_concurrency
  int samples = 2000;    // pull-latency
  int timeout_s = 120;   // bound on any one phase
};

double since_us(BenchClock::time_point a, BenchClock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return std::round(v[std::min(i, v.size() - 1)] * 10) / 10;
}

// An `eddy serve` child with a temporary data directory.
class ChildServer {
 public:
  static Result<std::unique_ptr<ChildServer>> start(const std::string& fsync) {
    auto s = std::unique_ptr<ChildServer>(new ChildServer);
    s->dir_ = std::filesystem::temp_directory_path() /
              fmt::format("eddy-bench-sub-{}-{}", ::getpid(), std::rand());
    std::filesystem::create_directories(s->dir_);
    const std::string log = (s->dir_ / "log").string();
    const std::string data = (s->dir_ / "data").string();
    pid_t pid = ::fork();
    if (pid < 0) return make_error(Errc::internal, "fork failed");
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl("/proc/self/exe", "eddy", "serve", "--listen", "127.0.0.1:0", "--data-dir",
              data.c_str(), "--fsync", fsync.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    s->pid_ = pid;
    static const std::regex kListening(R"(eddy listening on (http://[0-9.:]+))");
    auto deadline = BenchClock::now() + std::chrono::seconds(15);
    while (BenchClock::now() < deadline) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch m;
      std::string t = text.str();
      if (std::regex_search(t, m, kListening)) {
        s->endpoint = m[1];
        return s;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        s->pid_ = -1;
        return make_error(Errc::unavailable, "eddy serve exited at start:\n" + t);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return make_error(Errc::unavailable, "eddy serve did not start listening within 15 s");
  }

  ~ChildServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string endpoint;

 private:
  ChildServer() = default;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

// The server, own or given, plus fresh names for this run.
struct Target {
  std::unique_ptr<ChildServer> child;
  std::string endpoint;
  std::string topic, sub;
};

Result<HttpResponse> call(HttpClient& c, std::string_view method, std::string_view path,
                          std::string_view body) {
  auto r = c.request(method, path, body);
  if (!r) return r;
  if (r->status >= 300) {
    return make_error(Errc::internal, fmt::format("{} {} answered {}: {}", method, path, r->status,
                                                  error_message(*r)));
  }
  return r;
}

Result<Target> open_target(const Options& o) {
  Target t;
  if (o.endpoint.empty()) {
    auto child = ChildServer::start(o.fsync);
    if (!child) return std::move(child).error();
    t.endpoint = (*child)->endpoint;
    t.child = std::move(*child);
  } else {
    t.endpoint = o.endpoint;
  }
  const auto tag = fmt::format("{}-{}", ::getpid(), BenchClock::now().time_since_epoch().count());
  t.topic = "bench-sub-" + tag;
  t.sub = "bench-sub-" + tag;
  return t;
}

std::string event_json(int data_bytes, size_t i) {
  return fmt::format(
      R"({{"specversion":"1.0","id":"bench-{}","source":"/bench","type":"bench.event","data":"{}"}})",
      i, std::string(static_cast<size_t>(data_bytes), 'x'));
}

// Creates the topic and publishes `count` events in batches of 1000 (not measured).
Status prepare_topic(HttpClient& c, const Target& t, const Options& o, int count) {
  json::object topic{{"partitions", o.partitions}};
  if (!o.endpoint.empty() && !o.fsync.empty()) topic["fsync"] = o.fsync;
  if (auto r = call(c, "PUT", "/v1/topics/" + t.topic, json_text(topic)); !r) {
    return std::move(r).error();
  }
  for (int i = 0; i < count;) {
    std::string body = "[";
    for (int j = 0; j < 1000 && i < count; ++j, ++i) {
      if (j) body += ',';
      body += event_json(o.data_bytes, static_cast<size_t>(i));
    }
    body += "]";
    auto r = c.request("POST", "/v1/topics/" + t.topic + "/events", body,
                       "application/cloudevents-batch+json");
    if (!r) return std::move(r).error();
    if (r->status != 200) return make_error(Errc::internal, "publish failed: " + error_message(*r));
  }
  return {};
}

// The ack ids of a pull reply, found without parsing the events.
size_t ack_body(std::string_view reply, std::string& out) {
  static constexpr std::string_view kKey = R"("ack_id":")";
  out = R"({"ack_ids":[)";
  size_t n = 0;
  for (size_t pos = reply.find(kKey); pos != std::string_view::npos; pos = reply.find(kKey, pos)) {
    pos += kKey.size();
    size_t end = reply.find('"', pos);
    if (end == std::string_view::npos) break;
    if (n++) out += ',';
    out += '"';
    out += reply.substr(pos, end - pos);
    out += '"';
    pos = end;
  }
  out += "]}";
  return n;
}

Result<json::object> bench_pull(const Options& o) {
  auto t = open_target(o);
  if (!t) return std::move(t).error();
  auto c = HttpClient::connect_to(t->endpoint);
  if (!c) return std::move(c).error();
  if (auto s = prepare_topic(**c, *t, o, o.events); !s) return std::move(s).error();
  json::object sub{{"topic", t->topic}, {"start", "earliest"}, {"ack_deadline_ms", 600000}};
  if (auto r = call(**c, "PUT", "/v1/subscriptions/" + t->sub, json_text(sub)); !r) {
    return std::move(r).error();
  }
  std::atomic<int64_t> consumed{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::vector<double> round_trips;
  std::string error;
  const auto start = BenchClock::now();
  const auto deadline = start + std::chrono::seconds(o.timeout_s);
  std::vector<std::thread> threads;
  for (int w = 0; w < o.consumers; ++w) {
    threads.emplace_back([&] {
      auto client = HttpClient::connect_to(t->endpoint);
      if (!client) {
        failed = true;
        return;
      }
      const std::string pull_body = fmt::format(R"({{"max_events":{},"wait_ms":100}})", o.batch);
      const std::string pull_path = "/v1/subscriptions/" + t->sub + "/pull";
      const std::string ack_path = "/v1/subscriptions/" + t->sub + "/ack";
      std::string acks;
      std::vector<double> local;
      while (consumed.load() < o.events && !failed && BenchClock::now() < deadline) {
        auto t0 = BenchClock::now();
        auto r = (*client)->request("POST", pull_path, pull_body);
        if (!r || r->status != 200) {
          std::lock_guard lock(mu);
          error = r ? error_message(*r) : r.error().message;
          failed = true;
          return;
        }
        size_t n = ack_body(r->body, acks);
        if (n == 0) continue;
        auto a = (*client)->request("POST", ack_path, acks);
        if (!a || a->status != 200) {
          std::lock_guard lock(mu);
          error = a ? error_message(*a) : a.error().message;
          failed = true;
          return;
        }
        local.push_back(since_us(t0, BenchClock::now()));
        consumed += static_cast<int64_t>(n);
      }
      std::lock_guard lock(mu);
      round_trips.insert(round_trips.end(), local.begin(), local.end());
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(BenchClock::now() - start).count();
  if (failed) return make_error(Errc::internal, "pull benchmark failed: " + error);
  if (consumed.load() < o.events) return make_error(Errc::internal, "pull benchmark timed out");
  (void)(*c)->request("DELETE", "/v1/subscriptions/" + t->sub);
  (void)(*c)->request("DELETE", "/v1/topics/" + t->topic);
  return json::object{
      {"events", consumed.load()},
      {"batch", o.batch},
      {"consumers", o.consumers},
      {"partitions", o.partitions},
      {"fsync", o.fsync},
      {"seconds", std::round(seconds * 1000) / 1000},
      {"events_per_sec", std::round(static_cast<double>(consumed.load()) / seconds)},
      {"p50_us", percentile(round_trips, 0.50)},  // one pull + its ack
      {"p99_us", percentile(round_trips, 0.99)},
  };
}

// A minimal HTTP/1.1 endpoint that answers every request 200, counting them. One thread per
// connection; eddy keeps at most max_concurrency connections open.
class CountingEndpoint {
 public:
  static Result<std::unique_ptr<CountingEndpoint>> start() {
    auto e = std::unique_ptr<CountingEndpoint>(new CountingEndpoint);
    e->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (e->fd_ < 0 || ::bind(e->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(e->fd_, 128) != 0 ||
        ::getsockname(e->fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return make_error(Errc::io_error, "cannot open the benchmark's push endpoint");
    }
    e->url = fmt::format("http://127.0.0.1:{}/push", ntohs(addr.sin_port));
    e->acceptor_ = std::thread([p = e.get()] { p->accept_loop(); });
    return e;
  }

  ~CountingEndpoint() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }

  std::string url;
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> last_ns{0};

 private:
  CountingEndpoint() = default;

  void accept_loop() {
    while (!stopping_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stopping_) return;
        continue;
      }
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lock(mu_);
      conns_.push_back(c);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }

  void serve(int c) {
    static constexpr std::string_view kReply = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
    std::string buf;
    char chunk[65536];
    for (;;) {
      size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::read(c, chunk, sizeof chunk);
        if (n <= 0) return close_conn(c);
        buf.append(chunk, static_cast<size_t>(n));
      }
      size_t body = 0;
      std::string head = buf.substr(0, head_end);
      std::transform(head.begin(), head.end(), head.begin(), ::tolower);
      if (auto p = head.find("content-length:"); p != std::string::npos) {
        body = std::strtoul(head.c_str() + p + 15, nullptr, 10);
      }
      while (buf.size() < head_end + 4 + body) {
        ssize_t n = ::read(c, chunk, sizeof chunk);
        if (n <= 0) return close_conn(c);
        buf.append(chunk, static_cast<size_t>(n));
      }
      buf.erase(0, head_end + 4 + body);
      if (::write(c, kReply.data(), kReply.size()) != static_cast<ssize_t>(kReply.size())) {
        return close_conn(c);
      }
      ++requests;
      last_ns = BenchClock::now().time_since_epoch().count();
    }
  }

  void close_conn(int c) {
    std::lock_guard lock(mu_);
    conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
    ::close(c);
  }

  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
};

Result<json::object> bench_push(const Options& o) {
  auto t = open_target(o);
  if (!t) return std::move(t).error();
  auto c = HttpClient::connect_to(t->endpoint);
  if (!c) return std::move(c).error();
  auto ep = CountingEndpoint::start();
  if (!ep) return std::move(ep).error();
  if (auto s = prepare_topic(**c, *t, o, o.events); !s) return std::move(s).error();
  json::object sub{{"topic", t->topic},
                   {"start", "earliest"},
                   {"target", json::object{{"url", (*ep)->url}}},
                   {"max_concurrency", o.concurrency}};
  const auto start = BenchClock::now();
  if (auto r = call(**c, "PUT", "/v1/subscriptions/" + t->sub, json_text(sub)); !r) {
    return std::move(r).error();
  }
  const auto deadline = start + std::chrono::seconds(o.timeout_s);
  while ((*ep)->requests.load() < o.events && BenchClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t got = (*ep)->requests.load();
  const auto last = BenchClock::time_point(BenchClock::duration((*ep)->last_ns.load()));
  (void)(*c)->request("DELETE", "/v1/subscriptions/" + t->sub);
  (void)(*c)->request("DELETE", "/v1/topics/" + t->topic);
  if (got < o.events) {
    return make_error(Errc::internal, fmt::format("push benchmark timed out: {} of {} events "
                                                  "arrived in {} s",
                                                  got, o.events, o.timeout_s));
  }
  const double seconds = std::chrono::duration<double>(last - start).count();
  return json::object{
      {"events", got},
      {"concurrency", o.concurrency},
      {"partitions", o.partitions},
      {"fsync", o.fsync},
      {"seconds", std::round(seconds * 1000) / 1000},
      {"events_per_sec", std::round(static_cast<double>(got) / seconds)},
  };
}

Result<json::object> bench_pull_latency(const Options& o) {
  auto t = open_target(o);
  if (!t) return std::move(t).error();
  auto c = HttpClient::connect_to(t->endpoint);
  if (!c) return std::move(c).error();
  if (auto s = prepare_topic(**c, *t, o, 0); !s) return std::move(s).error();
  json::object sub{{"topic", t->topic}};
  if (auto r = call(**c, "PUT", "/v1/subscriptions/" + t->sub, json_text(sub)); !r) {
    return std::move(r).error();
  }
  auto puller = HttpClient::connect_to(t->endpoint);
  if (!puller) return std::move(puller).error();
  auto watcher = HttpClient::connect_to(t->endpoint);
  if (!watcher) return std::move(watcher).error();
  const std::string pull_path = "/v1/subscriptions/" + t->sub + "/pull";
  const std::string ack_path = "/v1/subscriptions/" + t->sub + "/ack";
  const std::string stat_path = "/v1/subscriptions/" + t->sub;
  const std::string publish_path = "/v1/topics/" + t->topic + "/events";

  std::mutex mu;
  std::condition_variable cv;
  int round = -1;       // the round the puller should run
  int done_round = -1;  // the last round it finished
  BenchClock::time_point received;
  std::string error, reply;
  std::thread th([&] {
    for (int i = 0; i < o.samples; ++i) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return round >= i || !error.empty(); });
        if (!error.empty()) return;
      }
      auto r = (*puller)->request("POST", pull_path, R"({"max_events":1,"wait_ms":10000})");
      auto at = BenchClock::now();
      std::lock_guard lock(mu);
      if (!r || r->status != 200) {
        error = r ? error_message(*r) : r.error().message;
      } else {
        reply = std::move(r->body);
        received = at;
      }
      done_round = i;
      cv.notify_all();
    }
  });
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(o.samples));
  const std::string event = event_json(o.data_bytes, 0);
  std::string acks;
  Status status;
  for (int i = 0; i < o.samples && status.ok(); ++i) {
    {
      std::lock_guard lock(mu);
      round = i;
    }
    cv.notify_all();
    // Publish only once the puller is waiting, so every sample takes the long-poll path.
    auto wait_deadline = BenchClock::now() + std::chrono::seconds(5);
    for (;;) {
      auto s = (*watcher)->request("GET", stat_path);
      if (s && s->status == 200 && s->body.find(R"("waiting_pullers":1)") != std::string::npos)
        break;
      if (BenchClock::now() > wait_deadline) {
        status = make_error(Errc::internal, "the puller never waited");
        break;
      }
    }
    if (!status.ok()) break;
    auto t0 = BenchClock::now();
    auto p = (*c)->request("POST", publish_path, event, "application/cloudevents+json");
    if (!p || p->status != 200) {
      status = make_error(Errc::internal, "publish failed");
      break;
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done_round >= i; });
    if (!error.empty()) {
      status = make_error(Errc::internal, "pull failed: " + error);
      break;
    }
    lat.push_back(since_us(t0, received));
    if (ack_body(reply, acks) == 0) {
      status = make_error(Errc::internal, "a pull came back empty");
      break;
    }
    lock.unlock();
    (void)(*c)->request("POST", ack_path, acks);
  }
  {
    std::lock_guard lock(mu);
    if (!status.ok() && error.empty()) error = status.error().message;
    round = o.samples;
  }
  cv.notify_all();
  th.join();
  if (!status.ok()) return std::move(status).error();
  (void)(*c)->request("DELETE", "/v1/subscriptions/" + t->sub);
  (void)(*c)->request("DELETE", "/v1/topics/" + t->topic);
  return json::object{{"samples", lat.size()},
                      {"fsync", o.fsync},
                      {"p50_us", percentile(lat, 0.50)},
                      {"p99_us", percentile(lat, 0.99)},
                      {"p999_us", percentile(lat, 0.999)},
                      {"max_us", percentile(lat, 1.0)}};
}

}  // namespace

BenchSub add_bench_sub(CLI::App* bench, bool* as_json) {
  auto o = std::make_shared<Options>();
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--endpoint", o->endpoint,
                    "use the eddy server at this URL (default: start `eddy serve` on port 0)");
    cmd->add_option("--fsync", o->fsync, "always | interval:MS | never (default interval:100)");
    cmd->add_option("--partitions", o->partitions, "partitions of the topic (default 1)");
    cmd->add_option("--data-bytes", o->data_bytes, "bytes of each event's data (default 100)");
    cmd->add_flag("--json", *as_json, "print one JSON object");
  };
  auto* pull = bench->add_subcommand("pull", "Subscription pull + ack throughput");
  common(pull);
  pull->add_option("--events", o->events, "events to publish and then consume (default 200000)");
  pull->add_option("--batch", o->batch, "max_events per pull (default 100)");
  pull->add_option("--consumers", o->consumers, "concurrent pullers (default 1)");
  auto* push = bench->add_subcommand("push", "Subscription push throughput to a local endpoint");
  common(push);
  push->add_option("--events", o->events, "events to publish and then push (default 200000)");
  push->add_option("--concurrency", o->concurrency, "the subscription's max_concurrency (16)");
  auto* latency = bench->add_subcommand("pull-latency", "Publish -> long-poll pull latency");
  common(latency);
  latency->add_option("--samples", o->samples, "measured events (default 2000)");

  BenchSub cmd;
  cmd.parsed = [pull, push, latency] {
    return pull->parsed() || push->parsed() || latency->parsed();
  };
  cmd.run = [o, pull, push, latency, as_json]() -> int {
    Result<json::object> figures = pull->parsed()   ? bench_pull(*o)
                                   : push->parsed() ? bench_push(*o)
                                                    : bench_pull_latency(*o);
    if (!figures) {
      std::cerr << "eddy: " << figures.error().message << "\n";
      return 1;
    }
    print_figures(*figures, *as_json);
    return 0;
  };
  return cmd;
}

}  // namespace eddy::cli
