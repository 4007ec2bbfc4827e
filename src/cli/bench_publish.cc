#include "cli/bench_publish.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/bench_load.h"
#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using BenchClock = std::chrono::steady_clock;

namespace {

constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr int kLatencyWarmup = 50;
constexpr int kReadWaitMs = 5000;

// Value of the percentile `p` (0..1) of sorted nanosecond samples, in microseconds.
double percentile_us(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i =
      std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[i]) / 1000.0;
}

double round1(double v) {
  return std::round(v * 10) / 10;
}

// Resident set sizes of a process, in kB: VmRSS now and VmHWM (the peak).
struct Rss {
  int64_t now_kb = 0;
  int64_t peak_kb = 0;
};

std::optional<Rss> read_rss(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  if (!in) return std::nullopt;
  Rss rss;
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](std::string_view name, int64_t& out) {
      if (!line.starts_with(name)) return;
      std::istringstream(line.substr(name.size())) >> out;
    };
    field("VmRSS:", rss.now_kb);
    field("VmHWM:", rss.peak_kb);
  }
  return rss;
}

// CPU time (user + system) used so far by process `pid` (0: this process), in seconds.
double cpu_seconds(pid_t pid) {
  if (pid == 0) {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
  }
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// An `eddy serve` child on 127.0.0.1:0 with a temporary data directory. Its output goes to
// a log file in that directory; the port is read from the "eddy listening on" line.
class ServerProcess {
 public:
  static Result<std::unique_ptr<ServerProcess>> start(const std::string& fsync) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eddy-bench-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      return make_error(Errc::io_error,
                        fmt::format("cannot create a temp dir: {}", std::strerror(errno)));
    }
    auto server = std::unique_ptr<ServerProcess>(new ServerProcess(tmpl));
    if (auto s = server->spawn(fsync); !s) return std::move(s).error();
    if (auto s = server->wait_listening(); !s) return std::move(s).error();
    return server;
  }

  ~ServerProcess() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& endpoint() const { return endpoint_; }

  // SIGTERM, then SIGKILL if it has not exited within kStopTimeout.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = BenchClock::now() + kStopTimeout;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (BenchClock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
  }

 private:
  explicit ServerProcess(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path log_path() const { return dir_ / "server.log"; }

  Status spawn(const std::string& fsync) {
    std::string data_dir = (dir_ / "data").string();
    std::string log = log_path().string();
    std::vector<std::string> args = {"eddy",        "serve",      "--listen",
                                     "127.0.0.1:0", "--data-dir", data_dir};
    if (!fsync.empty()) {
      args.push_back("--fsync");
      args.push_back(fsync);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return make_error(Errc::internal, fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    return {};
  }

  std::string log_text() const {
    std::ifstream in(log_path());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  Status wait_listening() {
    constexpr std::string_view kMarker = "eddy listening on http://";
    auto deadline = BenchClock::now() + kStartTimeout;
    while (BenchClock::now() < deadline) {
      std::string text = log_text();
      if (auto at = text.find(kMarker); at != std::string::npos) {
        auto start = at + kMarker.size();
        auto end = text.find_first_of(" \r\n/", start);
        endpoint_ = "http://" + text.substr(start, end - start);
        return {};
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return make_error(Errc::unavailable,
                          fmt::format("eddy serve exited before listening:\n{}", text));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return make_error(Errc::unavailable,
                      fmt::format("eddy serve did not report its port within {} s:\n{}",
                                  kStartTimeout.count(), log_text()));
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::string endpoint_;
};

// The server a benchmark talks to: its own child, or the one at --endpoint.
struct BenchTarget {
  std::unique_ptr<ServerProcess> process;  // null with --endpoint
  std::string endpoint;
  std::string host;
  std::string port;
  tcp::endpoint address;
};

// Polls /healthz until it answers 200.
Status wait_healthy(const std::string& endpoint) {
  auto deadline = BenchClock::now() + kStartTimeout;
  std::string last = "no answer";
  while (BenchClock::now() < deadline) {
    auto client = HttpClient::connect_to(endpoint);
    if (!client) return std::move(client).error();
    auto r = (*client)->request("GET", "/healthz");
    if (r && r->status == 200) return {};
    last = r ? fmt::format("status {}", r->status) : r.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return make_error(Errc::unavailable, fmt::format("{} is not healthy: {}", endpoint, last));
}

// Starts or reaches the server, waits until it is healthy and (when `topic` is set) creates
// the topic with one partition.
Result<BenchTarget> open_target(const BenchServerOptions& options, bool create_topic) {
  BenchTarget t;
  if (options.endpoint.empty()) {
    auto p = ServerProcess::start(options.fsync);
    if (!p) return std::move(p).error();
    t.process = std::move(*p);
    t.endpoint = t.process->endpoint();
  } else {
    t.endpoint = options.endpoint;
  }
  auto url = boost::urls::parse_uri(t.endpoint);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("endpoint '{}' must look like http://127.0.0.1:8400", t.endpoint));
  }
  t.host = url->host();
  t.port = url->has_port() ? std::string(url->port()) : "80";
  asio::io_context io;
  boost::system::error_code ec;
  auto resolved = tcp::resolver(io).resolve(t.host, t.port, ec);
  if (ec || resolved.empty()) {
    return make_error(Errc::unavailable,
                      fmt::format("cannot resolve {}: {}", t.endpoint, ec.message()));
  }
  t.address = resolved.begin()->endpoint();
  if (auto s = wait_healthy(t.endpoint); !s) return std::move(s).error();
  if (create_topic) {
    json::object body{{"partitions", 1}};
    // Against a running server the topic carries the durability asked for.
    if (!options.endpoint.empty() && !options.fsync.empty()) body["fsync"] = options.fsync;
    auto client = HttpClient::connect_to(t.endpoint);
    if (!client) return std::move(client).error();
    auto r = (*client)->request("PUT", "/v1/topics/" + options.topic, json_text(body));
    if (!r) return std::move(r).error();
    if (r->status >= 300) {
      return make_error(Errc::unavailable, fmt::format("cannot create topic '{}': {}",
                                                       options.topic, error_message(*r)));
    }
  }
  return t;
}

void add_rss(json::object& figures, const BenchTarget& t) {
  if (!t.process) return;
  if (auto rss = read_rss(t.process->pid())) {
    figures["rss_mb"] = round1(static_cast<double>(rss->peak_kb) / 1024.0);
  }
}

std::string http_request(const BenchTarget& t, std::string_view method, std::string_view path,
                         std::string_view content_type, std::string_view body) {
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\n", method, path, t.host, t.port);
  if (!content_type.empty()) req += fmt::format("Content-Type: {}\r\n", content_type);
  if (method != "GET") req += fmt::format("Content-Length: {}\r\n", body.size());
  req += "\r\n";
  req += body;
  return req;
}

// The request body for a publish of `batch` events from connection `conn`.
std::pair<std::string, std::string> publish_body(int batch, int data_bytes, int conn) {
  if (batch <= 1) {
    return {"application/cloudevents+json",
            bench_event_json(data_bytes, fmt::format("c{}-0", conn))};
  }
  std::string body = "[";
  for (int i = 0; i < batch; ++i) {
    if (i) body += ',';
    body += bench_event_json(data_bytes, fmt::format("c{}-{}", conn, i));
  }
  body += ']';
  return {"application/cloudevents-batch+json", std::move(body)};
}

// One connection of the latency benchmark: blocking sends, and responses read as they
// arrive so that two connections can be watched at once (poll).
class SyncConnection {
 public:
  explicit SyncConnection(asio::io_context& io) : socket_(io), buf_(64 * 1024) {}

  Status connect(const tcp::endpoint& address) {
    boost::system::error_code ec;
    socket_.connect(address, ec);
    if (!ec) socket_.set_option(tcp::no_delay(true), ec);
    if (ec) return make_error(Errc::unavailable, fmt::format("connect: {}", ec.message()));
    return {};
  }

  Status send(std::string_view request) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(request), ec);
    if (ec) return make_error(Errc::unavailable, fmt::format("write: {}", ec.message()));
    have_ = 0;
    head_.reset();
    done_ = false;
    return {};
  }

  int fd() { return socket_.native_handle(); }
  bool done() const { return done_; }
  BenchClock::time_point done_at() const { return done_at_; }
  int status() const { return head_ ? head_->status : 0; }
  std::string body() const {
    return std::string(buf_.data() + head_->head_bytes, head_->content_length);
  }

  // Reads what one read returns (blocking if nothing is there yet); notes the time the
  // response became complete.
  Status read_more() {
    if (have_ == buf_.size()) buf_.resize(buf_.size() * 2);
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_), ec);
    if (ec) return make_error(Errc::unavailable, fmt::format("read: {}", ec.message()));
    have_ += n;
    if (!head_) {
      auto h = parse_head(std::string_view(buf_.data(), have_));
      if (!h) return std::move(h).error();
      head_ = *h;
    }
    if (head_ && have_ >= head_->head_bytes + head_->content_length) {
      done_ = true;
      done_at_ = BenchClock::now();
    }
    return {};
  }

  // Reads until the whole response is in.
  Status receive() {
    while (!done_) {
      if (auto s = read_more(); !s) return s;
    }
    return {};
  }

 private:
  tcp::socket socket_;
  std::vector<char> buf_;
  size_t have_ = 0;
  std::optional<ResponseHead> head_;
  bool done_ = false;
  BenchClock::time_point done_at_{};
};

// Waits until both connections hold a whole response.
Status receive_both(SyncConnection& a, SyncConnection& b) {
  while (!a.done() || !b.done()) {
    pollfd fds[2];
    SyncConnection* conns[2];
    nfds_t n = 0;
    for (auto* c : {&a, &b}) {
      if (c->done()) continue;
      fds[n] = pollfd{c->fd(), POLLIN, 0};
      conns[n++] = c;
    }
    int ready = ::poll(fds, n, kReadWaitMs * 2);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return make_error(Errc::unavailable, "no reply from the server");
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (auto s = conns[i]->read_more(); !s) return s;
    }
  }
  return {};
}

}  // namespace

std::string bench_event_json(int data_bytes, std::string_view id) {
  static constexpr std::string_view kFill = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out = R"({"specversion":"1.0","id":")";
  out += id;
  out += R"(","source":"/bench","type":"eddy.bench","data":")";
  for (int i = 0; i < data_bytes; ++i) out += kFill[static_cast<size_t>(i) % kFill.size()];
  out += R"("})";
  return out;
}

std::string bench_publish_body(int batch, int data_bytes) {
  return publish_body(batch, data_bytes, 0).second;
}

Result<json::object> bench_publish(const PublishBenchOptions& o) {
  if (o.connections < 1 || o.batch < 1 || o.data_bytes < 0 || o.duration_ms < 1 ||
      o.client_threads < 1) {
    return make_error(Errc::invalid_argument,
                      "--connections, --batch, --duration-ms and --client-threads must be >= 1");
  }
  auto target = open_target(o.server, true);
  if (!target) return std::move(target).error();

  LoadPlan plan;
  plan.address = target->address;
  plan.max_requests = o.max_requests;
  int threads = std::min(o.client_threads, o.connections);
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<LoadStats> stats(static_cast<size_t>(threads));
  std::vector<std::unique_ptr<LoadConnection>> conns;
  for (int i = 0; i < threads; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
  std::string path = "/v1/topics/" + o.server.topic + "/events";
  size_t request_bytes = 0;
  for (int c = 0; c < o.connections; ++c) {
    auto [type, body] = publish_body(o.batch, o.data_bytes, c);
    request_bytes = body.size();
    size_t t = static_cast<size_t>(c % threads);
    conns.push_back(std::make_unique<LoadConnection>(
        *ios[t], plan, stats[t], http_request(*target, "POST", path, type, body)));
  }
  auto t0 = BenchClock::now();
  plan.measure_start = t0 + std::chrono::milliseconds(o.warmup_ms);
  plan.deadline = plan.measure_start + std::chrono::milliseconds(o.duration_ms);
  for (auto& c : conns) c->start();
  // CPU use of both sides over the measured window: they share this machine's cores.
  pid_t server_pid = target->process ? target->process->pid() : -1;
  double server_cpu0 = 0, client_cpu0 = 0;
  asio::steady_timer at_start(*ios[0], plan.measure_start);
  at_start.async_wait([&](boost::system::error_code) {
    if (server_pid > 0) server_cpu0 = cpu_seconds(server_pid);
    client_cpu0 = cpu_seconds(0);
  });
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i)
    workers.emplace_back([&io = *ios[static_cast<size_t>(i)]] { io.run(); });
  ios[0]->run();
  for (auto& w : workers) w.join();
  double server_cpu = server_pid > 0 ? cpu_seconds(server_pid) - server_cpu0 : 0;
  double client_cpu = cpu_seconds(0) - client_cpu0;
  double cpu_window = static_cast<double>(ns_between(plan.measure_start, BenchClock::now())) / 1e9;

  std::vector<int64_t> lat;
  uint64_t errors = 0;
  std::string first_error;
  auto last_done = plan.measure_start;
  for (auto& s : stats) {
    lat.insert(lat.end(), s.latencies_ns.begin(), s.latencies_ns.end());
    if (s.errors && first_error.empty()) first_error = s.first_error;
    errors += s.errors;
    last_done = std::max(last_done, s.last_done);
  }
  auto window_end = plan.limit_reached ? last_done : plan.deadline;
  double seconds = static_cast<double>(ns_between(plan.measure_start, window_end)) / 1e9;
  if (lat.empty()) {
    return make_error(Errc::unavailable,
                      fmt::format("no publish succeeded ({} errors; first: {})", errors,
                                  first_error.empty() ? "none" : first_error));
  }
  std::sort(lat.begin(), lat.end());
  double requests = static_cast<double>(lat.size());
  json::object f;
  f["bench"] = "publish";
  f["fsync"] = o.server.fsync.empty() ? "server default" : o.server.fsync;
  f["batch"] = o.batch;
  f["connections"] = o.connections;
  f["event_bytes"] = bench_event_json(o.data_bytes, "c0-0").size();
  f["data_bytes"] = o.data_bytes;
  f["request_bytes"] = request_bytes;
  f["seconds"] = std::round(seconds * 1000) / 1000;
  f["requests"] = lat.size();
  f["errors"] = errors;
  if (errors) f["first_error"] = first_error;
  f["events_per_sec"] = std::llround(requests * o.batch / seconds);
  f["requests_per_sec"] = std::llround(requests / seconds);
  f["mb_per_sec"] = round1(requests * static_cast<double>(request_bytes) / seconds / 1e6);
  f["p50_us"] = round1(percentile_us(lat, 0.50));
  f["p99_us"] = round1(percentile_us(lat, 0.99));
  f["max_us"] = round1(percentile_us(lat, 1.0));
  // CPU per event, whatever the machine's load: the cost each side pays.
  double events_in_cpu_window = requests * o.batch / seconds * cpu_window;
  if (server_pid > 0) {
    f["server_cpu_cores"] = std::round(server_cpu / cpu_window * 100) / 100;
    f["server_cpu_us_per_event"] = std::round(server_cpu * 1e6 / events_in_cpu_window * 100) / 100;
  }
  f["client_cpu_cores"] = std::round(client_cpu / cpu_window * 100) / 100;
  f["client_cpu_us_per_event"] = std::round(client_cpu * 1e6 / events_in_cpu_window * 100) / 100;
  add_rss(f, *target);
  return f;
}

Result<json::object> bench_latency(const LatencyBenchOptions& o) {
  if (o.samples < 1 || o.data_bytes < 0 || o.park_us < 0) {
    return make_error(Errc::invalid_argument, "--samples must be >= 1");
  }
  auto target = open_target(o.server, true);
  if (!target) return std::move(target).error();
  asio::io_context io;
  SyncConnection reader(io), publisher(io);
  if (auto s = reader.connect(target->address); !s) return std::move(s).error();
  if (auto s = publisher.connect(target->address); !s) return std::move(s).error();

  std::string events_path = "/v1/topics/" + o.server.topic + "/events";
  std::string publish = http_request(*target, "POST", events_path, "application/cloudevents+json",
                                     bench_event_json(o.data_bytes, "c0-0"));
  // The first publish tells where the partition's log ends.
  if (auto s = publisher.send(publish); !s) return std::move(s).error();
  if (auto s = publisher.receive(); !s) return std::move(s).error();
  if (publisher.status() != 200) {
    return make_error(Errc::unavailable,
                      fmt::format("publish: HTTP {}: {}", publisher.status(), publisher.body()));
  }
  uint64_t next =
      json::parse(publisher.body()).at("results").at(0).at("offset").to_number<uint64_t>() + 1;

  std::vector<int64_t> lat, ack;
  lat.reserve(static_cast<size_t>(o.samples));
  ack.reserve(static_cast<size_t>(o.samples));
  int read_before_ack = 0;
  for (int i = 0; i < o.samples + kLatencyWarmup; ++i) {
    std::string get = http_request(
        *target, "GET",
        fmt::format("{}?partition=0&offset={}&limit=1&wait_ms={}", events_path, next, kReadWaitMs),
        "", "");
    if (auto s = reader.send(get); !s) return std::move(s).error();
    // Give the server time to park the read, so the event is pushed to a waiting reader.
    if (o.park_us) std::this_thread::sleep_for(std::chrono::microseconds(o.park_us));
    auto t0 = BenchClock::now();
    if (auto s = publisher.send(publish); !s) return std::move(s).error();
    if (auto s = receive_both(reader, publisher); !s) return std::move(s).error();
    if (reader.status() != 200) {
      return make_error(Errc::unavailable,
                        fmt::format("read: HTTP {}: {}", reader.status(), reader.body()));
    }
    if (publisher.status() != 200) {
      return make_error(Errc::unavailable,
                        fmt::format("publish: HTTP {}: {}", publisher.status(), publisher.body()));
    }
    auto reply = json::parse(reader.body()).as_object();
    if (reply.at("events").as_array().empty()) {
      return make_error(
          Errc::unavailable,
          fmt::format("the reader got no event within {} ms of its publish", kReadWaitMs));
    }
    next = reply.at("next_offset").to_number<uint64_t>();
    if (i < kLatencyWarmup) continue;
    lat.push_back(ns_between(t0, reader.done_at()));
    ack.push_back(ns_between(t0, publisher.done_at()));
    if (reader.done_at() < publisher.done_at()) ++read_before_ack;
  }
  std::sort(lat.begin(), lat.end());
  json::object f;
  f["bench"] = "latency";
  f["fsync"] = o.server.fsync.empty() ? "server default" : o.server.fsync;
  f["samples"] = lat.size();
  f["event_bytes"] = bench_event_json(o.data_bytes, "c0-0").size();
  f["p50_us"] = round1(percentile_us(lat, 0.50));
  f["p99_us"] = round1(percentile_us(lat, 0.99));
  f["p999_us"] = round1(percentile_us(lat, 0.999));
  f["max_us"] = round1(percentile_us(lat, 1.0));
  // The publisher's 2xx, for comparison: under fsync=always it waits for the fsync.
  std::sort(ack.begin(), ack.end());
  f["ack_p50_us"] = round1(percentile_us(ack, 0.50));
  f["ack_p99_us"] = round1(percentile_us(ack, 0.99));
  f["read_before_ack"] = read_before_ack;
  add_rss(f, *target);
  return f;
}

Result<json::object> bench_idle(const BenchServerOptions& options) {
  BenchServerOptions own = options;
  own.endpoint.clear();
  auto target = open_target(own, false);
  if (!target) return std::move(target).error();
  // Let start-up work (catalog, threads) settle before looking.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto rss = read_rss(target->process->pid());
  if (!rss) return make_error(Errc::unavailable, "cannot read the server's /proc status");
  json::object f;
  f["bench"] = "idle";
  f["fsync"] = own.fsync.empty() ? "server default" : own.fsync;
  f["rss_mb"] = round1(static_cast<double>(rss->now_kb) / 1024.0);
  f["peak_rss_mb"] = round1(static_cast<double>(rss->peak_kb) / 1024.0);
  return f;
}

}  // namespace eddy::cli
