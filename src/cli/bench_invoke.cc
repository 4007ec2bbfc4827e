#include "cli/bench_invoke.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "cli/bench.h"
#include "cli/bench_load.h"
#include "cli/http_client.h"
#include "common/json_util.h"

namespace eddy::cli {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct Options {
  int cold = 30;        // cold starts measured per runtime
  int requests = 20000;  // warm requests per target
  int connections = 4;  // keep-alive client connections (all on one thread)
  int rounds = 3;       // warm measurements of every target, in turn
  std::string sls_dir;  // a directory with serverless@3 + serverless-offline installed
  bool as_json = false;
};

// A child process started for the benchmark, stopped (SIGTERM, then SIGKILL) at the end.
struct ChildProcess {
  pid_t pid = -1;
  fs::path log;
  ~ChildProcess() {
    if (pid <= 0) return;
    ::kill(-pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  std::string output() const {
    std::ifstream f(log);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                            const fs::path& log, const std::string& cwd = "",
                                            const std::vector<std::string>& extra_env = {}) {
  auto child = std::make_unique<ChildProcess>();
  child->log = log;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (pid < 0) return make_error(Errc::io_error, "fork failed");
  child->pid = pid;
  return child;
}

// Polls the child's output for `pattern` (first group) until the deadline.
Result<std::string> wait_output(const ChildProcess& c, const std::string& pattern, int timeout_ms) {
  std::regex re(pattern);
  auto deadline = BenchClock::now() + std::chrono::milliseconds(timeout_ms);
  while (BenchClock::now() < deadline) {
    std::smatch m;
    std::string out = c.output();
    if (std::regex_search(out, m, re)) return m[1].str();
    if (::waitpid(c.pid, nullptr, WNOHANG) == c.pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return make_error(Errc::unavailable,
                    fmt::format("a benchmark process did not start:\n{}", c.output()));
}

double pct(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * double(v.size())) - 1));
  return std::round(double(v[i]) / 100.0) / 10.0;  // ns -> us, one decimal
}

struct LoadResult {
  double per_sec = 0, p50_us = 0, p99_us = 0;
  int64_t errors = 0;
};

// `requests` POSTs of `body` to endpoint+path over `connections` keep-alive connections,
// all driven by this one thread.
Result<LoadResult> load(const std::string& endpoint, const std::string& path, int requests,
                        int connections, const std::string& body = "{}") {
  auto url = boost::urls::parse_uri(endpoint);
  boost::system::error_code ec;
  auto addr = url ? boost::asio::ip::make_address(url->host(), ec) : boost::asio::ip::address();
  if (!url || ec || !url->has_port()) {
    return make_error(Errc::invalid_argument, "cannot load " + endpoint);
  }
  std::string request = fmt::format(
      "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n\r\n{}",
      path, url->host(), url->port(), body.size(), body);
  auto run = run_load(boost::asio::ip::tcp::endpoint(addr, url->port_number()), request, requests,
                      connections);
  if (run.latencies_ns.empty()) {
    return make_error(Errc::unavailable,
                      fmt::format("no request to {} succeeded: {}", endpoint, run.first_error));
  }
  LoadResult r;
  r.per_sec = std::round(double(run.latencies_ns.size()) / run.seconds);
  r.p50_us = pct(run.latencies_ns, 0.50);
  r.p99_us = pct(run.latencies_ns, 0.99);
  r.errors = static_cast<int64_t>(run.errors);
  return r;
}

Result<HttpResponse> call(const std::string& endpoint, std::string_view method,
                          std::string_view path, std::string_view body = {}) {
  auto c = HttpClient::connect_to(endpoint);
  if (!c) return std::move(c).error();
  return (*c)->request(method, path, body);
}

Status put_function(const std::string& endpoint, const std::string& name,
                    const std::string& runtime, const std::string& handler, const fs::path& code,
                    int idle_ms) {
  json::object body{{"runtime", runtime},
                    {"handler", handler},
                    {"code", json::object{{"path", code.string()}}},
                    {"idle_timeout_ms", idle_ms},
                    {"max_concurrency", 16}};
  auto r = call(endpoint, "PUT", "/v1/functions/" + name, json_text(body));
  if (!r) return std::move(r).error();
  if (r->status >= 300) return make_error(Errc::internal, "deploy failed: " + r->body);
  return {};
}

int run_bench(const Options& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "eddy: " << m << "\n";
    return 1;
  };
  // A world-traversable work dir: functions run as `nobody` when this runs as root.
  fs::path dir = fs::path("/tmp") / fmt::format("eddy-bench-invoke-{}", ::getpid());
  fs::create_directories(dir / "node");
  fs::create_directories(dir / "python");
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  struct Cleanup {
    fs::path d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  std::ofstream(dir / "node/index.js") << "exports.handler = async () => ({ hello: 'world' });\n";
  std::ofstream(dir / "python/app.py")
      << "def handler(event, context):\n    return {'hello': 'world'}\n";

  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return fail("cannot find the eddy binary");
  self[n] = 0;
  auto server = spawn({self, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                       (dir / "data").string(), "--fsync", "interval:100"},
                      dir / "server.log");
  if (!server) return fail(server.error().message);
  auto endpoint = wait_output(**server, "eddy listening on (http://[0-9.:]+)", 15000);
  if (!endpoint) return fail(endpoint.error().message);

  json::object figures;
  struct Rt {
    const char* key;
    const char* runtime;
    const char* handler;
    const char* sub;
  };
  const Rt runtimes[] = {{"node", "nodejs", "index.handler", "node"},
                         {"python", "python", "app.handler", "python"}};
  // Cold starts: a new function each time (no instance of it exists), measured from the
  // request to the reply, after the pre-started processes were refilled.
  for (const auto& rt : runtimes) {
    std::vector<int64_t> cold, init;
    for (int i = 0; i < o.cold; ++i) {
      std::string name = fmt::format("cold-{}-{}", rt.key, i);
      if (auto s = put_function(*endpoint, name, rt.runtime, rt.handler, dir / rt.sub, 200); !s) {
        return fail(s.error().message);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(150));  // refill (bench pacing)
      auto a = BenchClock::now();
      auto r = call(*endpoint, "POST", "/v1/functions/" + name + "/invoke", "{}");
      auto b = BenchClock::now();
      if (!r || r->status != 200 || r->headers.count("x-amz-function-error")) {
        return fail(fmt::format("cold invoke failed: {}", r ? r->body : r.error().message));
      }
      cold.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count());
      auto rec = call(*endpoint, "GET", "/v1/functions/" + name + "/invocations?limit=1");
      if (rec && rec->status == 200) {
        auto v = json::parse(rec->body).as_object()["invocations"].as_array();
        if (!v.empty() && v[0].as_object()["init_ms"].is_number()) {
          init.push_back(
              static_cast<int64_t>(v[0].as_object()["init_ms"].to_number<double>() * 1e6));
        }
      }
      (void)call(*endpoint, "DELETE", "/v1/functions/" + name);
    }
    figures[fmt::format("{}_cold_p50_us", rt.key)] = pct(cold, 0.5);
    figures[fmt::format("{}_cold_p99_us", rt.key)] = pct(cold, 0.99);
    figures[fmt::format("{}_cold_init_p50_us", rt.key)] = pct(init, 0.5);
  }
  // Warm sync invokes: every target is set up first, then each round measures them in turn
  // (eddy node, eddy python, the bare node server, serverless-offline), so that a drift of
  // the machine or of a peer over the run touches all of them; figures are medians over
  // the rounds, and the ratio is the median of the rounds' own ratios.
  struct Target {
    std::string key, endpoint, path;  // key: the prefix of its figures
    int requests = 0;
    bool one_connection = true;  // also measure latency over 1 connection
    std::vector<LoadResult> runs, one_runs;
  };
  std::vector<Target> targets;
  for (const auto& rt : runtimes) {
    std::string name = fmt::format("warm-{}", rt.key);
    if (auto s = put_function(*endpoint, name, rt.runtime, rt.handler, dir / rt.sub, 60000); !s) {
      return fail(s.error().message);
    }
    targets.push_back(Target{std::string(rt.key) + "_warm", *endpoint,
                             "/v1/functions/" + name + "/invoke", o.requests});
  }
  // Peer: a bare node http server answering the same JSON.
  auto node = spawn({"node", "-e",
                     "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{"
                     "s.setHeader('content-type','application/json');"
                     "s.end(JSON.stringify({hello:'world'}))})}).listen(0,'127.0.0.1',function(){"
                     "console.log('port '+this.address().port)})"},
                    dir / "node.log");
  if (!node) return fail(node.error().message);
  auto port = wait_output(**node, "port ([0-9]+)", 10000);
  if (!port) return fail(port.error().message);
  targets.push_back(Target{"bare_node_http", "http://127.0.0.1:" + *port, "/", o.requests});
  // Peer: serverless-offline's Lambda invoke endpoint, when installed in --sls-dir; a tenth
  // of the requests, as it is that much slower.
  std::unique_ptr<ChildProcess> off;
  if (!o.sls_dir.empty()) {
    fs::path sls = fs::absolute(o.sls_dir);
    std::ofstream(dir / "node/serverless.yml")
        << "service: eddybench\nframeworkVersion: '3'\nprovider:\n  name: aws\n  runtime: "
           "nodejs20.x\n"
           "functions:\n  hello:\n    handler: index.handler\nplugins:\n  - serverless-offline\n"
           "custom:\n  serverless-offline:\n    lambdaPort: 43102\n    httpPort: 43100\n"
           "    websocketPort: 43101\n";
    std::error_code ec;
    fs::create_symlink(sls / "node_modules", dir / "node/node_modules", ec);
    auto started = spawn({(sls / "node_modules/.bin/serverless").string(), "offline", "start"},
                         dir / "sls.log", (dir / "node").string(), {"SLS_TELEMETRY_DISABLED=1"});
    if (!started) return fail(started.error().message);
    off = std::move(*started);
    auto ready = wait_output(*off, "(Server ready|listening on)", 60000);
    if (!ready) return fail(ready.error().message);
    targets.push_back(Target{"sls_offline", "http://127.0.0.1:43102",
                             "/2015-03-31/functions/eddybench-dev-hello/invocations",
                             std::max(200, o.requests / 10), false});
  }
  for (auto& t : targets) {  // warm-up: instances started, code compiled
    auto w = load(t.endpoint, t.path, std::max(200, t.requests / 10), o.connections);
    if (!w) return fail(w.error().message);
  }
  for (int round = 0; round < o.rounds; ++round) {
    for (auto& t : targets) {
      auto r = load(t.endpoint, t.path, t.requests, o.connections);
      if (!r) return fail(r.error().message);
      t.runs.push_back(*r);
      if (!t.one_connection) continue;
      auto one = load(t.endpoint, t.path, std::max(500, t.requests / 5), 1);
      if (!one) return fail(one.error().message);
      t.one_runs.push_back(*one);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  auto of = [](const std::vector<LoadResult>& runs, double LoadResult::*field) {
    std::vector<double> v;
    for (const auto& r : runs) v.push_back(r.*field);
    return v;
  };
  figures["warm_rounds"] = o.rounds;
  for (const auto& t : targets) {
    const std::string& k = t.key;
    figures[k + "_requests_per_sec"] = median(of(t.runs, &LoadResult::per_sec));
    figures[k + "_p50_us"] = median(of(t.runs, &LoadResult::p50_us));
    figures[k + "_p99_us"] = median(of(t.runs, &LoadResult::p99_us));
    int64_t errors = 0;
    for (const auto& r : t.runs) errors += r.errors;
    figures[k + "_errors"] = errors;
    if (t.one_connection) {
      figures[k + "_1conn_p50_us"] = median(of(t.one_runs, &LoadResult::p50_us));
      figures[k + "_1conn_p99_us"] = median(of(t.one_runs, &LoadResult::p99_us));
    }
  }
  // Paired within each round: eddy node against the bare server and serverless-offline.
  auto target = [&](std::string_view key) {
    return std::find_if(targets.begin(), targets.end(),
                        [&](const Target& t) { return t.key == key; });
  };
  const auto& eddy_node = *target("node_warm");
  const auto& bare = *target("bare_node_http");
  std::vector<double> added;
  for (int i = 0; i < o.rounds; ++i) {
    added.push_back(eddy_node.one_runs[i].p50_us - bare.one_runs[i].p50_us);
  }
  figures["node_added_1conn_p50_us"] = std::round(median(added) * 10) / 10;
  if (auto sls = target("sls_offline"); sls != targets.end()) {
    json::array ratios;
    std::vector<double> v;
    for (int i = 0; i < o.rounds; ++i) {
      double x = eddy_node.runs[i].per_sec / std::max(1.0, sls->runs[i].per_sec);
      v.push_back(x);
      ratios.push_back(std::round(x * 10) / 10);
    }
    figures["node_warm_vs_sls_offline_x"] = std::round(median(v) * 10) / 10;
    figures["node_warm_vs_sls_offline_x_rounds"] = std::move(ratios);
  }
  print_figures(figures, o.as_json);
  return 0;
}

}  // namespace

BenchInvoke add_bench_invoke(CLI::App* bench) {
  auto o = std::make_shared<Options>();
  auto* sub = bench->add_subcommand(
      "invoke",
      "Function cold starts and warm sync invokes (node, python) beside a bare node "
      "http server and, with --sls-dir, serverless-offline");
  sub->add_option("--cold", o->cold, "cold starts per runtime (default 30)");
  sub->add_option("--requests", o->requests, "warm requests per target (default 20000)");
  sub->add_option("--connections", o->connections, "keep-alive connections (default 4)");
  sub->add_option("--rounds", o->rounds, "warm rounds over all targets, in turn (default 3)")
      ->check(CLI::Range(1, 100));
  sub->add_option("--sls-dir", o->sls_dir,
                  "directory whose node_modules has serverless@3 and serverless-offline");
  sub->add_flag("--json", o->as_json, "print one JSON object");
  BenchInvoke b;
  b.parsed = [sub] { return sub->parsed(); };
  b.run = [o] { return run_bench(*o); };
  return b;
}

}  // namespace eddy::cli
