#include "functions/manager.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <future>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/io_threads.h"
#include "common/json_util.h"
#include "common/rfc3339.h"
#include "events/cloud_event.h"
#include "events/event_builder.h"
#include "functions/archive.h"
#include "functions/cgroup.h"
#include "functions/instance.h"
#include "functions/pool.h"
#include "functions/process.h"
#include "functions/runtime_sources.h"

namespace eddy::functions {
namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kKind = "function";
constexpr std::string_view kAsyncTopic = "_eddy.functions.async";
constexpr size_t kMaxSyncPayload = 6u << 20;
constexpr size_t kMaxAsyncPayload = 256u << 10;
constexpr size_t kAsyncMaxInFlight = 1000;
constexpr auto kUsageFlushInterval = std::chrono::seconds(10);
constexpr int kPrestartMaxFailures = 3;

std::string now_rfc3339(int64_t ms) {
  std::string s;
  append_rfc3339_ms(s, ms);
  return s;
}

// Checks that `s` is one JSON value: simdjson's parser validates all of it without
// building a value per member. Parsers keep their buffers, so big documents get their own.
simdjson::error_code check_json(const std::string& s) {
  constexpr size_t kReusedParserMax = 64u << 10;
  if (s.size() <= kReusedParserMax) {
    thread_local simdjson::dom::parser reused;
    return reused.parse(s).error();
  }
  simdjson::dom::parser once;
  return once.parse(s).error();
}

// A payload must be one JSON value (as Lambda requires); empty means {}. `is_json`: the
// caller built it as JSON, so only its size is checked.
Result<std::string> normalize_payload(std::string payload, size_t limit, bool is_json) {
  if (payload.size() > limit) {
    return make_error(Errc::too_large, fmt::format("the payload is {} bytes; the limit is {}",
                                                   payload.size(), limit));
  }
  if (is_json) return payload;
  if (payload.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
  if (auto e = check_json(payload); e != simdjson::SUCCESS) {
    return make_error(Errc::invalid_argument,
                      fmt::format("the payload must be JSON: {}", simdjson::error_message(e)));
  }
  return payload;
}

std::string status_word(JobOutcome::Kind k) {
  switch (k) {
    case JobOutcome::Kind::success: return "success";
    case JobOutcome::Kind::function_error: return "error";
    case JobOutcome::Kind::timeout: return "timeout";
    case JobOutcome::Kind::crash: return "crash";
    case JobOutcome::Kind::oom: return "oom";
  }
  return "error";
}

// The JSON text of `s` if it is JSON, else `s` as a JSON string.
std::string as_json_value(const std::string& s) {
  if (!s.empty() && check_json(s) == simdjson::SUCCESS) return s;
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string random_hex(size_t bytes) {
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", rd() & 0xff);
  return out;
}

}  // namespace

// A deployed version: the config and where its code is.
struct Deployed {
  FunctionConfig config;
  std::string code_dir;
};

// An invocation accepted and not yet answered.
struct Pending {
  std::string request_id;
  std::string payload;
  InvokeOptions options;
  InvokeCallback done;
  int64_t accepted_ms = 0;
};

struct FunctionManager::Impl : std::enable_shared_from_this<FunctionManager::Impl> {
  class Function;
  class Prestarter;
  class AsyncQueue;

  Impl(IoThreads& io_, catalog::Catalog& c, bus::TopicManager& t, const Clock& clk,
       FunctionsOptions o, std::unique_ptr<Launcher> l)
      : io(io_), catalog(c), topics(t), clock(clk), options(std::move(o)), launcher(std::move(l)),
        usage_timer(io_.main()) {
    if (!launcher) launcher = std::make_unique<PosixLauncher>();
  }

  IoThreads& io;
  catalog::Catalog& catalog;
  bus::TopicManager& topics;
  const Clock& clock;
  FunctionsOptions options;
  std::unique_ptr<Launcher> launcher;
  std::shared_ptr<MemoryCgroups> cgroups;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string endpoint;
  std::string secret = random_hex(20);
  std::atomic<uint64_t> serial{0};
  std::atomic<bool> stopping{false};
  asio::steady_timer usage_timer;

  mutable std::mutex mu;  // guards `functions` and upload counters
  std::map<std::string, std::shared_ptr<Function>, std::less<>> functions;
  std::shared_ptr<Prestarter> prestarter;
  std::shared_ptr<AsyncQueue> async_queue;

  std::shared_ptr<Function> find(std::string_view name) const {
    std::lock_guard lock(mu);
    auto it = functions.find(name);
    return it == functions.end() ? nullptr : it->second;
  }

  fs::path function_dir(std::string_view name) const {
    return options.data_dir / "functions" / std::string(name);
  }
  fs::path upload_dir(std::string_view name, int64_t n) const {
    return function_dir(name) / fmt::format("code-{}", n);
  }
  std::string code_dir(const FunctionConfig& c) const {
    return c.code_upload > 0 ? upload_dir(c.name, c.code_upload).string() : c.code_path;
  }

  // The environment of a function's process: clean, the Lambda variables, eddy's endpoint
  // and credentials, then the function's own variables.
  std::map<std::string, std::string> function_env(const Deployed& d, uint16_t port,
                                                  const std::string& label) const {
    const auto& c = d.config;
    std::map<std::string, std::string> env = base_env();
    env["LAMBDA_TASK_ROOT"] = d.code_dir;
    env["_HANDLER"] = c.handler;
    env["AWS_LAMBDA_FUNCTION_NAME"] = c.name;
    env["AWS_LAMBDA_FUNCTION_VERSION"] = std::to_string(c.version);
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(c.memory_mb);
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + c.name;
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = label;
    env["AWS_REGION"] = options.region;
    env["AWS_DEFAULT_REGION"] = options.region;
    env["AWS_ACCESS_KEY_ID"] = "EDDYFN" + c.name;
    env["AWS_SECRET_ACCESS_KEY"] = secret;
    env["EDDY_FUNCTION_TOKEN"] = secret;
    env["AWS_ENDPOINT_URL"] = endpoint;
    env["EDDY_ENDPOINT"] = endpoint;
    if (c.runtime == Runtime::nodejs) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_nodejs";
    if (c.runtime == Runtime::python) env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python";
    if (port) env["AWS_LAMBDA_RUNTIME_API"] = fmt::format("127.0.0.1:{}", port);
    for (const auto& [k, v] : c.env) env[k] = v;
    return env;
  }

  static std::map<std::string, std::string> base_env() {
    return {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
            {"LANG", "C.UTF-8"},
            {"TZ", ":UTC"},
            {"HOME", "/tmp"},
            {"TMPDIR", "/tmp"}};
  }

  static std::vector<std::string> env_list(const std::map<std::string, std::string>& env) {
    std::vector<std::string> out;
    for (const auto& [k, v] : env) {
      if (k != "AWS_LAMBDA_RUNTIME_API") out.push_back(k + "=" + v);
    }
    return out;
  }

  std::vector<std::string> runtime_argv(Runtime rt, const std::string& code_dir) const {
    switch (rt) {
      case Runtime::nodejs:
        return {options.node, "-e", std::string(kNodeRuntimeSource)};
      case Runtime::python:
        return {options.python, "-u", "-c", std::string(kPythonRuntimeSource)};
      case Runtime::provided:
        return {code_dir + "/bootstrap"};
    }
    return {};
  }

  std::string arn(std::string_view name) const {
    return fmt::format("arn:aws:lambda:{}:000000000000:function:{}", options.region, name);
  }

  // Publishes a CloudEvent built from parts to a topic (created when missing).
  void publish_event(const std::string& topic, std::string_view type, std::string_view source,
                     const std::string& data_json, std::function<void(Status)> done) {
    auto t = topics.ensure(topic);
    if (!t) {
      done(std::move(t).error());
      return;
    }
    events::EventBuilder b;
    b.reset(events::EventBuilder::Origin::json);
    std::string id = events::new_event_id();
    std::string time = now_rfc3339(clock.now_ms());
    Status s = b.add_string("specversion", "1.0");
    if (s) s = b.add_string("id", id);
    if (s) s = b.add_string("source", source);
    if (s) s = b.add_string("type", type);
    if (s) s = b.add_string("time", time);
    if (s) s = b.add_string("datacontenttype", "application/json");
    if (s) s = b.set_data_json(data_json);
    if (!s) {
      done(std::move(s).error());
      return;
    }
    auto ev = b.finish(events::Limits{kMaxSyncPayload + (1u << 20)});
    if (!ev) {
      done(std::move(ev).error());
      return;
    }
    std::vector<events::Event> evs;
    evs.push_back(std::move(*ev));
    topics.publish(*t, std::move(evs), [done = std::move(done)](auto r) {
      if (!r) {
        done(std::move(r).error());
      } else {
        done(Status{});
      }
    });
  }

  void schedule_usage_flush();
  void flush_usage();
  void invoke(std::string_view name, std::string payload, InvokeOptions options,
              InvokeCallback done);
};

// ---------------------------------------------------------------------------------------
// One function: its versions, pool, instances and records.
class FunctionManager::Impl::Function : public InstanceOwner,
                                        public std::enable_shared_from_this<Function> {
 public:
  Function(Impl& m, std::shared_ptr<const Deployed> d)
      : m_(m),
        name_(d->config.name),
        current_(d),
        pool_(d->config.version, limits(d->config)) {
    versions_[d->config.version] = d;
  }

  static PoolLimits limits(const FunctionConfig& c) {
    return PoolLimits{c.max_concurrency, c.min_instances, c.idle_timeout_ms};
  }

  const std::string& name() const { return name_; }
  FunctionRecords& records() { return records_; }

  std::shared_ptr<const Deployed> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }

  void deploy(std::shared_ptr<const Deployed> d) {
    PoolActions actions;
    {
      std::lock_guard lock(mu_);
      current_ = d;
      versions_[d->config.version] = d;
      actions = pool_.set_version(d->config.version, limits(d->config));
    }
    run(actions, nullptr);
  }

  // Starts min_instances.
  void warm() {
    PoolActions actions;
    {
      std::lock_guard lock(mu_);
      actions = pool_.set_version(pool_.version(), pool_.limits());
    }
    run(actions, nullptr);
  }

  void submit(Pending p) {
    bool sync = !p.options.queue_when_throttled;
    std::optional<PoolActions> actions;
    InvokeCallback rejected;
    {
      std::lock_guard lock(mu_);
      if (removed_) {
        rejected = std::move(p.done);
      } else {
        JobId id = next_job_++;
        auto it = waiting_.emplace(id, std::move(p)).first;
        actions = pool_.submit(id, sync, m_.io.local());
        if (!actions) {
          rejected = std::move(it->second.done);
          waiting_.erase(it);
        }
      }
    }
    if (rejected) {
      if (actions || removed_) {
        rejected(make_error(Errc::not_found, fmt::format("function '{}' was deleted", name_)));
      } else {
        rejected(make_error(Errc::throttled,
                            fmt::format("function '{}' is at its max_concurrency; retry later",
                                        name_)));
      }
      return;
    }
    run(*actions, nullptr);
  }

  // Stops everything; waiting invocations fail with `reason`.
  void shutdown(Errc code, const std::string& reason) {
    PoolActions actions;
    std::vector<Pending> failed;
    std::vector<std::shared_ptr<Instance>> all;
    {
      std::lock_guard lock(mu_);
      removed_ = true;
      actions = pool_.drain();
      for (auto& [id, p] : waiting_) {
        pool_.withdraw(id);
        failed.push_back(std::move(p));
      }
      waiting_.clear();
      for (auto& [id, inst] : instances_) all.push_back(inst);
    }
    for (auto& inst : all) inst->stop();
    for (auto& p : failed) p.done(make_error(code, reason));
  }

  json::array instances_json() const {
    std::lock_guard lock(mu_);
    json::array out;
    for (const auto& [id, inst] : instances_) {
      out.push_back(json::object{{"id", id}, {"pid", inst->pid()}, {"version", inst->version}});
    }
    return out;
  }

  json::object stats_json() const {
    std::lock_guard lock(mu_);
    auto c = pool_.counts();
    return json::object{{"instances", c.live()}, {"starting", c.starting}, {"idle", c.idle},
                        {"busy", c.busy},        {"waiting_sync", c.waiting_sync},
                        {"waiting_async", c.waiting_async}};
  }

  // InstanceOwner
  void instance_ready(const std::shared_ptr<Instance>& inst) override {
    PoolActions actions;
    {
      std::lock_guard lock(mu_);
      actions = pool_.instance_ready(inst->pool_id, inst->home);
    }
    run(actions, nullptr);
  }

  void job_done(const std::shared_ptr<Instance>& inst, Job job, JobOutcome o) override {
    std::optional<Pending> p;
    PoolActions actions;
    std::shared_ptr<const Deployed> d;
    bool lost = o.kind == JobOutcome::Kind::timeout || o.kind == JobOutcome::Kind::crash ||
                o.kind == JobOutcome::Kind::oom || o.instance_ends;
    {
      std::lock_guard lock(mu_);
      if (auto it = running_.find(job.id); it != running_.end()) {
        p = std::move(it->second);
        running_.erase(it);
      }
      if (!lost) actions = pool_.job_finished(inst->pool_id);
      if (auto it = versions_.find(inst->version); it != versions_.end()) d = it->second;
    }
    run(actions, nullptr);
    if (!p) return;
    InvocationRecord r;
    r.request_id = p->request_id;
    r.start_ms = p->accepted_ms;
    r.duration_ms = std::round(o.duration_ms * 100) / 100;
    r.billed_ms = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(o.duration_ms)));
    if (o.init_ms) r.init_ms = std::round(*o.init_ms * 100) / 100;
    r.max_rss_kb = o.max_rss_kb;
    r.memory_mb = d ? d->config.memory_mb : 0;
    r.version = inst->version;
    r.status = status_word(o.kind);
    if (o.kind != JobOutcome::Kind::success) r.error = o.error_type + ": " + o.error_message;
    r.async = p->options.async;
    r.attempt = p->options.attempt;
    InvokeResult res;
    res.request_id = p->request_id;
    res.version = inst->version;
    res.function_error = o.kind != JobOutcome::Kind::success;
    res.error_type = o.error_type;
    res.payload = std::move(o.payload);
    // Record before answering, so a caller that reads the invocations after its reply
    // finds its own.
    records_.add_invocation(std::move(r));
    usage_dirty_ = true;
    p->done(std::move(res));
  }

  void instance_exited(const std::shared_ptr<Instance>& inst, const ExitReport& report) override {
    PoolActions actions;
    {
      std::lock_guard lock(mu_);
      instances_.erase(inst->pool_id);
      idle_timers_.erase(inst->pool_id);  // a pending wait ends as cancelled
      actions = pool_.instance_exited(inst->pool_id);
      // Forget versions no instance runs any more.
      for (auto it = versions_.begin(); it != versions_.end();) {
        bool used = it->first == pool_.version();
        for (const auto& [id, i] : instances_) used = used || i->version == it->first;
        it = used ? std::next(it) : versions_.erase(it);
      }
    }
    if (!report.stopped && (report.exit.signal || report.exit.exit_code != 0 || !report.was_ready)) {
      spdlog::info("function {}: instance {} (pid {}) ended: {}", name_, inst->label(), inst->pid(),
                   report.init_error_message.empty()
                       ? fmt::format("exit {} signal {}", report.exit.exit_code, report.exit.signal)
                       : report.init_error_type + ": " + report.init_error_message);
    }
    run(actions, &report);
  }

  void log_line(const std::shared_ptr<Instance>&, const std::string& request_id,
                std::string_view stream, std::string_view line) override {
    records_.add_log(m_.clock.now_ms(), request_id, std::string(stream), std::string(line));
  }

  bool take_usage_dirty() { return usage_dirty_.exchange(false); }

 private:
  void run(const PoolActions& actions, const ExitReport* report) {
    for (const auto& a : actions) {
      switch (a.kind) {
        case PoolAction::Kind::start: start_instance(a.instance, a.version, a.home); break;
        case PoolAction::Kind::dispatch: dispatch(a.instance, a.job); break;
        case PoolAction::Kind::stop: {
          std::shared_ptr<Instance> inst;
          {
            std::lock_guard lock(mu_);
            if (auto it = instances_.find(a.instance); it != instances_.end()) inst = it->second;
          }
          if (inst) inst->stop();
          break;
        }
        case PoolAction::Kind::arm_idle: arm_idle(a.instance, a.generation, a.delay_ms); break;
        case PoolAction::Kind::fail_job: fail_job(a.job, report); break;
      }
    }
  }

  void fail_job(JobId job, const ExitReport* report) {
    std::optional<Pending> p;
    std::shared_ptr<const Deployed> d;
    {
      std::lock_guard lock(mu_);
      if (auto it = waiting_.find(job); it != waiting_.end()) {
        p = std::move(it->second);
        waiting_.erase(it);
      }
      d = current_;
    }
    if (!p) return;
    std::string type = report && !report->init_error_type.empty() ? report->init_error_type
                                                                    : "Runtime.InitError";
    std::string message = report && !report->init_error_message.empty()
                              ? report->init_error_message
                              : "the runtime could not start";
    if (report && report->oom) type = "Runtime.OutOfMemory";
    InvocationRecord r;
    r.request_id = p->request_id;
    r.start_ms = p->accepted_ms;
    r.billed_ms = 1;
    r.memory_mb = d->config.memory_mb;
    r.version = d->config.version;
    r.status = report && report->oom ? "oom" : "error";
    r.error = type + ": " + message;
    r.async = p->options.async;
    r.attempt = p->options.attempt;
    records_.add_invocation(std::move(r));
    InvokeResult res;
    res.request_id = p->request_id;
    res.version = d->config.version;
    res.function_error = true;
    res.error_type = type;
    res.payload = json_text(json::object{
        {"errorType", type}, {"errorMessage", message}, {"stackTrace", json::array()}});
    p->done(std::move(res));
  }

  struct IdleTimer {
    std::unique_ptr<asio::steady_timer> timer;  // on the instance's io thread
    uint64_t generation = 0;
    std::chrono::steady_clock::time_point deadline;
    bool armed = false;
  };

  // An instance becomes idle after every job: its one timer is armed once and, when it
  // fires early, waits again for the latest deadline, rather than a timer per job.
  void arm_idle(InstanceId id, uint64_t generation, int64_t delay_ms) {
    std::lock_guard lock(mu_);
    auto inst = instances_.find(id);
    if (inst == instances_.end()) return;
    auto& t = idle_timers_[id];
    t.generation = generation;
    t.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    if (t.armed) return;
    if (!t.timer) t.timer = std::make_unique<asio::steady_timer>(m_.io.at(inst->second->home));
    t.armed = true;
    wait_idle(id, t);
  }

  // Under mu_.
  void wait_idle(InstanceId id, IdleTimer& t) {
    t.timer->expires_at(t.deadline);
    t.timer->async_wait([weak = weak_from_this(), id](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!self) return;
      PoolActions actions;
      {
        std::lock_guard lock(self->mu_);
        auto it = self->idle_timers_.find(id);
        if (it == self->idle_timers_.end()) return;
        auto& t = it->second;
        if (!ec && std::chrono::steady_clock::now() < t.deadline) return self->wait_idle(id, t);
        t.armed = false;
        if (ec) return;
        actions = self->pool_.idle_expired(id, t.generation);
      }
      self->run(actions, nullptr);
    });
  }

  void dispatch(InstanceId id, JobId job_id) {
    std::shared_ptr<Instance> inst;
    Job job;
    {
      std::lock_guard lock(mu_);
      auto it = waiting_.find(job_id);
      auto in = instances_.find(id);
      if (it == waiting_.end() || in == instances_.end()) return;
      inst = in->second;
      auto vit = versions_.find(inst->version);
      job.id = job_id;
      job.request_id = it->second.request_id;
      job.payload = std::move(it->second.payload);
      job.function_arn = m_.arn(name_);
      job.client_context = it->second.options.client_context;
      job.timeout_ms = vit != versions_.end() ? vit->second->config.timeout_ms : 3000;
      running_.emplace(job_id, std::move(it->second));
      waiting_.erase(it);
    }
    inst->dispatch(std::move(job));
  }

  void start_instance(InstanceId id, int64_t version, unsigned home);

  Impl& m_;
  std::string name_;
  mutable std::mutex mu_;
  std::shared_ptr<const Deployed> current_;
  std::map<int64_t, std::shared_ptr<const Deployed>> versions_;
  Pool pool_;
  std::map<InstanceId, std::shared_ptr<Instance>> instances_;
  std::map<InstanceId, IdleTimer> idle_timers_;
  std::map<JobId, Pending> waiting_, running_;
  JobId next_job_ = 1;
  bool removed_ = false;
  FunctionRecords records_;
  std::atomic<bool> usage_dirty_{false};
};

// ---------------------------------------------------------------------------------------
// Pre-started generic runtime processes: eddy's node and python runtime clients, started
// without a function and parked in their first /next. A cold start adopts one and sends
// the function's env, task root and handler with the first invocation.
class FunctionManager::Impl::Prestarter : public InstanceOwner,
                                          public std::enable_shared_from_this<Prestarter> {
 public:
  explicit Prestarter(Impl& m) : m_(m) {}

  // Keeps `options.prestart` processes of `rt` ready from now on.
  void want(Runtime rt) {
    {
      std::lock_guard lock(mu_);
      if (rt == Runtime::provided || m_.options.prestart <= 0) return;
      slot(rt).wanted = true;
    }
    fill(rt);
  }

  // A ready process of `rt`, one on io thread `home` if there is one, or nullptr. Refills
  // in the background.
  std::shared_ptr<Instance> claim(Runtime rt, unsigned home) {
    std::shared_ptr<Instance> inst;
    {
      std::lock_guard lock(mu_);
      auto& s = slot(rt);
      if (s.ready.empty()) return nullptr;
      auto it = std::find_if(s.ready.rbegin(), s.ready.rend(),
                             [home](const auto& i) { return i->home == home; });
      auto pick = it == s.ready.rend() ? std::prev(s.ready.end()) : std::prev(it.base());
      inst = *pick;
      s.ready.erase(pick);
      s.all.erase(inst.get());
    }
    auto self = shared_from_this();
    asio::post(m_.io.main(), [self, rt] { self->fill(rt); });
    return inst;
  }

  void stop() {
    std::vector<std::shared_ptr<Instance>> all;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      for (auto& [rt, s] : slots_) {
        for (auto& [p, inst] : s.all) all.push_back(inst);
        s.all.clear();
        s.ready.clear();
      }
    }
    for (auto& inst : all) inst->stop();
  }

  std::vector<pid_t> pids() const {
    std::lock_guard lock(mu_);
    std::vector<pid_t> out;
    for (const auto& [rt, s] : slots_) {
      for (const auto& [p, inst] : s.all) out.push_back(inst->pid());
    }
    return out;
  }

  void instance_ready(const std::shared_ptr<Instance>& inst) override {
    std::lock_guard lock(mu_);
    for (auto& [rt, s] : slots_) {
      if (s.all.count(inst.get())) {
        s.ready.push_back(inst);
        s.failures = 0;
      }
    }
  }
  void job_done(const std::shared_ptr<Instance>&, Job, JobOutcome) override {}
  void instance_exited(const std::shared_ptr<Instance>& inst, const ExitReport& report) override {
    std::optional<Runtime> refill;
    {
      std::lock_guard lock(mu_);
      for (auto& [rt, s] : slots_) {
        if (!s.all.erase(inst.get())) continue;
        std::erase(s.ready, inst);
        if (!report.was_ready && ++s.failures >= kPrestartMaxFailures) {
          spdlog::error("pre-started {} runtime processes keep failing ({}); cold starts will "
                        "spawn processes directly",
                        runtime_name(static_cast<Runtime>(rt)), report.init_error_message);
        } else if (!stopped_) {
          refill = static_cast<Runtime>(rt);
        }
      }
    }
    if (refill) fill(*refill);
  }
  void log_line(const std::shared_ptr<Instance>& inst, const std::string&, std::string_view stream,
                std::string_view line) override {
    spdlog::debug("pre-started {} {}: {}", inst->label(), stream, line);
  }

 private:
  struct Slot {
    bool wanted = false;
    int failures = 0;
    std::map<Instance*, std::shared_ptr<Instance>> all;  // started, not claimed
    std::vector<std::shared_ptr<Instance>> ready;
  };
  Slot& slot(Runtime rt) { return slots_[static_cast<int>(rt)]; }

  // The io thread with the fewest processes of `rt` waiting: spares are spread over them,
  // so a cold start usually finds one on its own thread.
  unsigned emptiest_home(Runtime rt) {
    std::lock_guard lock(mu_);
    std::vector<size_t> n(m_.io.size());
    for (const auto& [p, inst] : slot(rt).all) ++n[inst->home];
    return static_cast<unsigned>(std::min_element(n.begin(), n.end()) - n.begin());
  }

  void fill(Runtime rt) {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        auto& s = slot(rt);
        if (stopped_ || !s.wanted || s.failures >= kPrestartMaxFailures ||
            s.all.size() >= static_cast<size_t>(m_.options.prestart)) {
          return;
        }
      }
      InstanceSetup setup;
      setup.label = fmt::format("prestart-{}-{}", runtime_name(rt), ++m_.serial);
      setup.spawn.argv = m_.runtime_argv(rt, "");
      setup.channel = true;
      auto env = base_env();
      env["EDDY_PRESTARTED"] = "1";
      setup.spawn.env = env_list(env);
      setup.spawn.cwd = "/";
      setup.spawn.uid = m_.uid;
      setup.spawn.gid = m_.gid;
      setup.cgroups = m_.cgroups;
      unsigned home = emptiest_home(rt);
      auto inst = Instance::create(m_.io.at(home), weak_from_this(), std::move(setup));
      if (!inst) {
        spdlog::error("cannot pre-start a {} process: {}", runtime_name(rt), inst.error().message);
        return;
      }
      (*inst)->home = home;
      {
        std::lock_guard lock(mu_);
        slot(rt).all.emplace(inst->get(), *inst);
      }
      if (auto s = (*inst)->start(*m_.launcher); !s) {
        std::lock_guard lock(mu_);
        slot(rt).all.erase(inst->get());
        slot(rt).failures = kPrestartMaxFailures;
        spdlog::error("cannot pre-start a {} process: {}", runtime_name(rt), s.error().message);
        return;
      }
    }
  }

  Impl& m_;
  mutable std::mutex mu_;
  bool stopped_ = false;
  std::map<int, Slot> slots_;
};

void FunctionManager::Impl::Function::start_instance(InstanceId id, int64_t version,
                                                     unsigned home) {
  std::shared_ptr<const Deployed> d;
  {
    std::lock_guard lock(mu_);
    auto it = versions_.find(version);
    if (it != versions_.end()) d = it->second;
  }
  auto fail = [&](const Error& e) {
    spdlog::warn("function {}: cannot start an instance: {}", name_, e.message);
    ExitReport report;
    report.init_error_type = "Runtime.StartError";
    report.init_error_message = e.message;
    PoolActions actions;
    {
      std::lock_guard lock(mu_);
      instances_.erase(id);
      actions = pool_.instance_exited(id);
    }
    run(actions, &report);
  };
  if (!d) return fail(Error{Errc::internal, "the version to start is gone"});
  const auto& c = d->config;
  std::string label = fmt::format("{}-{}-{}", name_, c.version, ++m_.serial);
  if (home >= m_.io.size()) home = m_.io.next();

  if (c.runtime != Runtime::provided && m_.prestarter) {
    if (auto inst = m_.prestarter->claim(c.runtime, home)) {
      inst->pool_id = id;
      inst->version = version;
      json::object env;
      for (const auto& [k, v] : m_.function_env(*d, inst->port(), label)) env[k] = v;
      std::string init = json_text(json::object{
          {"env", std::move(env)}, {"task_root", d->code_dir}, {"handler", c.handler}});
      {
        std::lock_guard lock(mu_);
        instances_[id] = inst;
      }
      if (auto s = inst->adopt(weak_from_this(), label, m_.cgroups ? c.memory_mb : 0,
                               std::move(init));
          !s) {
        inst->stop();  // its exit is reported to us (the new owner) only if adopt succeeded
        return fail(s.error());
      }
      return;
    }
  }

  InstanceSetup setup;
  setup.label = label;
  setup.spawn.argv = m_.runtime_argv(c.runtime, d->code_dir);
  setup.channel = c.runtime != Runtime::provided;
  setup.spawn.env = env_list(m_.function_env(*d, 0, label));
  setup.spawn.cwd = d->code_dir;
  setup.spawn.uid = m_.uid;
  setup.spawn.gid = m_.gid;
  setup.cgroups = m_.cgroups;
  setup.memory_mb = c.memory_mb;
  // Without cgroups, cap the data segment (heap); address-space limits break V8.
  if (!m_.cgroups && m_.options.use_cgroups) {
    setup.spawn.rlimit_data_bytes = static_cast<uint64_t>(c.memory_mb) << 20;
    if (c.runtime == Runtime::nodejs) setup.spawn.rlimit_data_bytes += 512ull << 20;
  }
  auto inst = Instance::create(m_.io.at(home), weak_from_this(), std::move(setup));
  if (!inst) return fail(inst.error());
  (*inst)->home = home;
  (*inst)->pool_id = id;
  (*inst)->version = version;
  {
    std::lock_guard lock(mu_);
    instances_[id] = *inst;
  }
  if (auto s = (*inst)->start(*m_.launcher); !s) fail(s.error());
}

// ---------------------------------------------------------------------------------------
// The async invocation queue: records in the topic `_eddy.functions.async` (one partition),
// consumed here in order of arrival and run concurrently (up to kAsyncMaxInFlight). A
// failed attempt with attempts and age left is appended again with attempt+1 and a
// not-before time (backoff); the final outcome goes to on_success / on_failure. The consumed
// offset (everything below it is finished, or re-queued durably) is kept in the catalog, so a
// crash re-runs at most the records after it: at-least-once.
//
// Record data: {"function","request_id","attempt","first_ms","not_before_ms","payload"}.
class FunctionManager::Impl::AsyncQueue : public std::enable_shared_from_this<AsyncQueue> {
 public:
  explicit AsyncQueue(Impl& m) : m_(m), strand_(asio::make_strand(m.io.main())), commit_timer_(strand_) {}

  // Attaches to the queue's topic if it exists; it is created with the first async
  // invocation (a server that never queues one shows no such topic).
  Status open() {
    if (auto t = m_.topics.find(kAsyncTopic)) return attach(t);
    return {};
  }

  Status attach(std::shared_ptr<log::Topic> t) {
    std::lock_guard lock(attach_mu_);
    if (topic_) return {};
    topic_ = std::move(t);
    auto& part = topic_->partition(0);
    auto state = m_.catalog.get_state(kKind, kAsyncTopic, "offset");
    uint64_t committed = part.start_offset();
    if (state && *state) committed = std::max<uint64_t>(committed, std::stoull(**state));
    read_offset_ = committed_ = committed;
    std::weak_ptr<AsyncQueue> weak = weak_from_this();
    listener_ = part.add_listener([weak](uint64_t) {
      if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->pump(); });
    });
    auto self = shared_from_this();
    asio::post(strand_, [self] { self->pump(); });
    return {};
  }

  void close() {
    {
      std::lock_guard lock(attach_mu_);
      if (topic_) topic_->partition(0).remove_listener(listener_);
    }
    auto self = shared_from_this();
    std::promise<void> flushed;
    asio::post(strand_, [self, &flushed] {
      self->closed_ = true;
      self->commit_now();
      for (auto& t : self->timers_) t->cancel();
      flushed.set_value();
    });
    flushed.get_future().wait_for(std::chrono::seconds(2));
  }

  // Appends an invocation record; `done` runs once it is durable.
  void enqueue(const std::string& function, const std::string& request_id, int64_t attempt,
               int64_t first_ms, int64_t not_before_ms, const std::string& payload,
               std::function<void(Status)> done) {
    std::string data = R"({"function":)";
    append_json_string(data, function);
    data += R"(,"request_id":)";
    append_json_string(data, request_id);
    data += fmt::format(R"(,"attempt":{},"first_ms":{},"not_before_ms":{},"payload":)", attempt,
                        first_ms, not_before_ms);
    data += payload;
    data += "}";
    if (!attached()) {
      auto t = m_.topics.ensure(kAsyncTopic);
      if (!t) return done(std::move(t).error());
      if (auto s = attach(*t); !s) return done(std::move(s).error());
    }
    m_.publish_event(std::string(kAsyncTopic), "eddy.function.invocation",
                     "/functions/" + function, data, std::move(done));
  }

 private:
  struct Record {
    uint64_t offset;
    std::string function, request_id, payload;
    int64_t attempt = 1, first_ms = 0, not_before_ms = 0;
  };

  static std::optional<Record> parse(uint64_t offset, std::string_view stored) {
    boost::system::error_code ec;
    auto v = json::parse(stored, ec);
    if (ec || !v.is_object()) return std::nullopt;
    auto* data = v.as_object().if_contains("data");
    if (!data || !data->is_object()) return std::nullopt;
    const auto& d = data->as_object();
    Record r;
    r.offset = offset;
    auto str = [&](const char* k) -> std::string {
      auto* x = d.if_contains(k);
      return x && x->is_string() ? std::string(x->get_string()) : std::string();
    };
    auto num = [&](const char* k) -> int64_t {
      auto* x = d.if_contains(k);
      return x && x->is_number() ? x->to_number<int64_t>() : 0;
    };
    r.function = str("function");
    r.request_id = str("request_id");
    r.attempt = std::max<int64_t>(1, num("attempt"));
    r.first_ms = num("first_ms");
    r.not_before_ms = num("not_before_ms");
    auto* p = d.if_contains("payload");
    r.payload = p ? json_text(*p) : "{}";
    if (r.function.empty()) return std::nullopt;
    return r;
  }

  void pump() {
    if (closed_) return;
    auto& part = topic_->partition(0);
    while (in_flight_.size() < kAsyncMaxInFlight) {
      auto res = part.read(read_offset_, std::min<size_t>(256, kAsyncMaxInFlight - in_flight_.size()),
                           4u << 20);
      if (!res || res->records.empty()) break;
      for (const auto& rec : res->records) {
        auto r = parse(rec.offset, rec.payload);
        in_flight_.insert(rec.offset);
        if (!r) {
          spdlog::warn("async queue: skipping unreadable record at offset {}", rec.offset);
          finished(rec.offset);
          continue;
        }
        schedule(std::move(*r));
      }
      read_offset_ = res->next_offset;
    }
  }

  void schedule(Record r) {
    int64_t delay = r.not_before_ms - m_.clock.now_ms();
    if (delay <= 0) return run(std::move(r));
    auto timer = std::make_shared<asio::steady_timer>(strand_, std::chrono::milliseconds(delay));
    timers_.insert(timer);
    auto self = shared_from_this();
    timer->async_wait([self, timer, r = std::move(r)](boost::system::error_code ec) mutable {
      self->timers_.erase(timer);
      if (ec || self->closed_) return;
      self->run(std::move(r));
    });
  }

  void run(Record r) {
    auto self = shared_from_this();
    InvokeOptions o;
    o.queue_when_throttled = true;
    o.request_id = r.request_id;
    o.async = true;
    o.attempt = r.attempt;
    std::string fn = r.function, payload = r.payload;
    m_.invoke(fn, payload, std::move(o), [self, r = std::move(r)](Result<InvokeResult> res) mutable {
      asio::post(self->strand_, [self, r = std::move(r), res = std::move(res)]() mutable {
        self->outcome(std::move(r), std::move(res));
      });
    });
  }

  void outcome(Record r, Result<InvokeResult> res) {
    if (closed_) return;
    auto fn = m_.find(r.function);
    if (!fn) {
      spdlog::warn("async queue: function '{}' no longer exists; dropping invocation {}",
                   r.function, r.request_id);
      return finished(r.offset);
    }
    auto d = fn->current();
    const auto& c = d->config;
    bool ok = res && !res->function_error;
    if (!res && res.error().code == Errc::unavailable) return;  // shutting down: re-run later
    if (!ok) {
      int64_t now = m_.clock.now_ms();
      int64_t backoff = c.retry.backoff_ms(r.attempt + 1);
      bool age_left = now + backoff - r.first_ms <= c.retry.max_age_ms;
      if (r.attempt < c.retry.max_attempts && age_left) {
        auto self = shared_from_this();
        uint64_t offset = r.offset;
        enqueue(r.function, r.request_id, r.attempt + 1, r.first_ms, now + backoff, r.payload,
                [self, offset](Status s) {
                  if (!s) spdlog::error("async queue: cannot re-queue a retry: {}", s.error().message);
                  asio::post(self->strand_, [self, offset] { self->finished(offset); });
                });
        return;
      }
      std::string condition = r.attempt < c.retry.max_attempts ? "EventAgeExceeded" : "RetriesExhausted";
      return destination(std::move(r), c.on_failure, condition, res, c.version);
    }
    destination(std::move(r), c.on_success, "Success", res, c.version);
  }

  // Sends the destination record (Lambda's shape, as a CloudEvent) and finishes the record.
  void destination(Record r, const std::optional<Destination>& dest, const std::string& condition,
                   const Result<InvokeResult>& res, int64_t version) {
    if (!dest) return finished(r.offset);
    bool success = condition == "Success";
    std::string data = R"({"version":"1.0","timestamp":)";
    append_json_string(data, now_rfc3339(m_.clock.now_ms()));
    data += R"(,"requestContext":{"requestId":)";
    append_json_string(data, r.request_id);
    data += R"(,"functionArn":)";
    append_json_string(data, m_.arn(r.function) + ":$LATEST");
    data += R"(,"functionName":)";
    append_json_string(data, r.function);
    data += R"(,"condition":)";
    append_json_string(data, condition);
    data += fmt::format(R"(,"approximateInvokeCount":{}}},"requestPayload":)", r.attempt);
    data += r.payload;
    data += R"(,"responseContext":{"statusCode":200,"executedVersion":)";
    append_json_string(data, std::to_string(res ? res->version : version));
    if (!success) {
      data += R"(,"functionError":)";
      append_json_string(data, res ? "Unhandled" : std::string(errc_name(res.error().code)));
    }
    data += R"(},"responsePayload":)";
    if (res) {
      data += res->payload.empty() ? "null" : as_json_value(res->payload);
    } else {
      data += json_text(json::object{{"errorType", errc_name(res.error().code)},
                                           {"errorMessage", res.error().message}});
    }
    data += "}";
    auto self = shared_from_this();
    uint64_t offset = r.offset;
    auto done = [self, offset, name = dest->name](Status s) {
      if (!s) spdlog::error("destination {}: {}", name, s.error().message);
      asio::post(self->strand_, [self, offset] { self->finished(offset); });
    };
    std::string type = success ? "eddy.function.succeeded" : "eddy.function.failed";
    if (dest->kind == Destination::Kind::topic) {
      m_.publish_event(dest->name, type, "/functions/" + r.function, data, std::move(done));
      return;
    }
    // A function destination receives the same CloudEvent, as an async invocation.
    events::EventBuilder b;
    b.reset(events::EventBuilder::Origin::json);
    std::string id = events::new_event_id(), time = now_rfc3339(m_.clock.now_ms());
    std::string source = "/functions/" + r.function;
    Status s = b.add_string("specversion", "1.0");
    if (s) s = b.add_string("id", id);
    if (s) s = b.add_string("source", source);
    if (s) s = b.add_string("type", type);
    if (s) s = b.add_string("time", time);
    if (s) s = b.add_string("datacontenttype", "application/json");
    if (s) s = b.set_data_json(data);
    auto ev = s ? b.finish(events::Limits{kMaxSyncPayload + (1u << 20)}) : Result<events::Event>(s.error());
    if (!ev) return done(ev.error());
    if (!m_.find(dest->name)) {
      return done(make_error(Errc::not_found, fmt::format("function '{}' does not exist", dest->name)));
    }
    enqueue(dest->name, events::new_event_id(), 1, m_.clock.now_ms(), 0, ev->json, std::move(done));
  }

  void finished(uint64_t offset) {
    in_flight_.erase(offset);
    uint64_t c = in_flight_.empty() ? read_offset_ : *in_flight_.begin();
    if (c > committed_) {
      committed_ = c;
      if (!commit_armed_) {
        commit_armed_ = true;
        commit_timer_.expires_after(std::chrono::milliseconds(100));
        auto self = shared_from_this();
        commit_timer_.async_wait([self](boost::system::error_code) {
          self->commit_armed_ = false;
          self->commit_now();
        });
      }
    }
    pump();
  }

  void commit_now() {
    if (committed_ == written_) return;
    if (auto s = m_.catalog.put_state(kKind, kAsyncTopic, "offset", std::to_string(committed_)); !s) {
      spdlog::error("async queue: cannot save the consumed offset: {}", s.error().message);
      return;
    }
    written_ = committed_;
  }

  bool attached() {
    std::lock_guard lock(attach_mu_);
    return topic_ != nullptr;
  }

  Impl& m_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer commit_timer_;
  std::mutex attach_mu_;
  std::shared_ptr<log::Topic> topic_;  // set once (attach), then read on the strand
  uint64_t listener_ = 0;
  uint64_t read_offset_ = 0, committed_ = 0, written_ = 0;
  bool commit_armed_ = false, closed_ = false;
  std::set<uint64_t> in_flight_;
  std::set<std::shared_ptr<asio::steady_timer>> timers_;
};

void FunctionManager::Impl::schedule_usage_flush() {
  usage_timer.expires_after(kUsageFlushInterval);
  std::weak_ptr<Impl> weak = weak_from_this();
  usage_timer.async_wait([weak](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopping) return;
    self->flush_usage();
    self->schedule_usage_flush();
  });
}

void FunctionManager::Impl::flush_usage() {
  std::vector<std::shared_ptr<Function>> fns;
  {
    std::lock_guard lock(mu);
    for (auto& [n, f] : functions) fns.push_back(f);
  }
  for (auto& f : fns) {
    if (!f->take_usage_dirty()) continue;
    auto s = catalog.put_state(kKind, f->name(), "usage",
                               json_text(to_json(f->records().usage())));
    if (!s) spdlog::warn("cannot save usage of {}: {}", f->name(), s.error().message);
  }
}

// ---------------------------------------------------------------------------------------

FunctionManager::FunctionManager(IoThreads& io, catalog::Catalog& catalog,
                                 bus::TopicManager& topics, const Clock& clock,
                                 FunctionsOptions options, std::unique_ptr<Launcher> launcher)
    : impl_(std::make_shared<Impl>(io, catalog, topics, clock, std::move(options),
                                   std::move(launcher))) {}

FunctionManager::~FunctionManager() { stop(); }

Status FunctionManager::start(std::string endpoint) {
  auto& m = *impl_;
  m.endpoint = std::move(endpoint);
  if (m.options.node.empty()) {
    for (const char* dir : {"/usr/local/bin", "/usr/bin", "/bin"}) {
      std::string p = std::string(dir) + "/node";
      if (::access(p.c_str(), X_OK) == 0) {
        m.options.node = p;
        break;
      }
    }
    if (m.options.node.empty()) m.options.node = "/usr/bin/node";
  }
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam(m.options.user.c_str());
    if (!pw) {
      return make_error(Errc::invalid_argument,
                        fmt::format("function user '{}' does not exist; create it or pass "
                                    "--function-user",
                                    m.options.user));
    }
    m.uid = pw->pw_uid;
    m.gid = pw->pw_gid;
  }
  if (m.options.use_cgroups) {
    m.cgroups = MemoryCgroups::detect();
    spdlog::info("functions: memory caps by {}", m.cgroups ? m.cgroups->kind() : "RLIMIT_DATA");
  }
  std::error_code ec;
  fs::create_directories(m.options.data_dir / "functions", ec);
  ::chmod((m.options.data_dir / "functions").c_str(), 0755);
  m.prestarter = std::make_shared<Impl::Prestarter>(m);

  auto resources = m.catalog.list(kKind);
  if (!resources) return std::move(resources).error();
  for (const auto& r : *resources) {
    auto c = from_stored_json(r.name, r.spec, m.options.defaults);
    if (!c) {
      spdlog::error("function {}: stored config is unusable ({}); skipping it", r.name,
                    c.error().message);
      continue;
    }
    auto d = std::make_shared<Deployed>(Deployed{*c, m.code_dir(*c)});
    auto f = std::make_shared<Impl::Function>(m, d);
    if (auto u = m.catalog.get_state(kKind, r.name, "usage"); u && *u) {
      if (auto o = parse_json_object(**u); o) f->records().restore_usage(usage_from_json(*o));
    }
    m.functions.emplace(r.name, f);
  }
  m.async_queue = std::make_shared<Impl::AsyncQueue>(m);
  if (auto s = m.async_queue->open(); !s) return s;
  std::set<Runtime> runtimes;
  for (auto& [n, f] : m.functions) {
    runtimes.insert(f->current()->config.runtime);
    f->warm();
  }
  for (auto rt : runtimes) m.prestarter->want(rt);
  m.schedule_usage_flush();
  return {};
}

void FunctionManager::stop() {
  auto& m = *impl_;
  if (m.stopping.exchange(true)) return;
  if (m.async_queue) m.async_queue->close();
  std::vector<std::shared_ptr<Impl::Function>> fns;
  {
    std::lock_guard lock(m.mu);
    for (auto& [n, f] : m.functions) fns.push_back(f);
  }
  for (auto& f : fns) f->shutdown(Errc::unavailable, "the server is stopping");
  if (m.prestarter) m.prestarter->stop();
  // Let the io threads see the processes exit (reaped, cgroups removed), briefly.
  auto deadline = SteadyClock::now() + std::chrono::seconds(3);
  auto live = [&] {
    size_t n = m.prestarter ? m.prestarter->pids().size() : 0;
    for (auto& f : fns) n += f->instances_json().size();
    return n;
  };
  while (live() > 0 && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  m.flush_usage();
  boost::system::error_code ec;
  m.usage_timer.cancel();
}

Result<std::pair<json::object, bool>> FunctionManager::put(std::string_view name,
                                                           const json::object& body) {
  auto& m = *impl_;
  auto existing = m.find(name);
  std::shared_ptr<const Deployed> prev = existing ? existing->current() : nullptr;
  // A code upload made before the function existed waits in the catalog.
  FunctionConfig pending_upload;
  const FunctionConfig* base = prev ? &prev->config : nullptr;
  if (!prev) {
    if (auto st = m.catalog.get_state(kKind, name, "pending_upload"); st && *st) {
      pending_upload.name = std::string(name);
      pending_upload.code_upload = std::stoll(**st);
      base = &pending_upload;
    }
  }
  auto c = parse_function_config(name, body, m.options.defaults, base);
  if (!c) return std::move(c).error();
  std::string dir = m.code_dir(*c);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(Errc::invalid_argument,
                      fmt::format("code directory {} does not exist on the server", dir));
  }
  if (c->runtime == Runtime::provided && ::access((dir + "/bootstrap").c_str(), X_OK) != 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("a provided runtime needs an executable named 'bootstrap' in "
                                  "its code; {}/bootstrap is missing or not executable",
                                  dir));
  }
  if (prev) {
    FunctionConfig a = prev->config, b = *c;
    a.version = b.version = 0;
    if (json_text(to_json(a)) == json_text(to_json(b))) {
      return std::pair{describe(name).value(), false};
    }
    c->version = prev->config.version + 1;
  } else {
    c->version = 1;
  }
  auto spec = json_text(to_json(*c));
  if (auto s = m.catalog.put(kKind, name, spec, m.clock.now_ms()); !s) return std::move(s).error();
  auto d = std::make_shared<Deployed>(Deployed{*c, dir});
  if (existing) {
    existing->deploy(d);
  } else {
    auto f = std::make_shared<Impl::Function>(m, d);
    {
      std::lock_guard lock(m.mu);
      m.functions[std::string(name)] = f;
    }
    f->warm();
  }
  if (m.prestarter) m.prestarter->want(c->runtime);
  return std::pair{describe(name).value(), !existing};
}

Result<json::object> FunctionManager::put_code(std::string_view name, std::string_view archive) {
  auto& m = *impl_;
  if (auto s = validate_function_name(name); !s) return std::move(s).error();
  int64_t n;
  {
    std::lock_guard lock(m.mu);
    auto st = m.catalog.get_state(kKind, name, "uploads");
    n = (st && *st ? std::stoll(**st) : 0) + 1;
    if (auto s = m.catalog.put_state(kKind, name, "uploads", std::to_string(n)); !s) {
      return std::move(s).error();
    }
  }
  std::error_code ec;
  fs::create_directories(m.function_dir(name), ec);
  ::chmod(m.function_dir(name).c_str(), 0755);
  fs::path target = m.upload_dir(name, n);
  fs::remove_all(target, ec);
  auto stats = unpack_archive(archive, target);
  if (!stats) return std::move(stats).error();
  json::object reply{{"upload", n}, {"files", stats->files}, {"bytes", stats->bytes}};
  auto fn = m.find(name);
  if (!fn) {
    if (auto s = m.catalog.put_state(kKind, name, "pending_upload", std::to_string(n)); !s) {
      return std::move(s).error();
    }
    reply["deployed"] = false;
    return reply;
  }
  auto body = to_json(fn->current()->config);
  body["code"] = json::object{{"upload", n}};
  // The stored form names an upload only when it is the function's; make it so, then put.
  FunctionConfig c = fn->current()->config;
  c.code_upload = n;
  c.code_path.clear();
  auto prev_upload = fn->current()->config.code_upload;
  c.version = fn->current()->config.version + 1;
  auto spec = json_text(to_json(c));
  if (auto s = m.catalog.put(kKind, name, spec, m.clock.now_ms()); !s) return std::move(s).error();
  fn->deploy(std::make_shared<Deployed>(Deployed{c, m.code_dir(c)}));
  // Keep the previous upload (its instances may still be finishing); drop older ones.
  for (int64_t old = prev_upload - 1; old > 0; --old) {
    if (!fs::exists(m.upload_dir(name, old), ec)) break;
    fs::remove_all(m.upload_dir(name, old), ec);
  }
  reply["deployed"] = true;
  reply["version"] = c.version;
  return reply;
}

Result<json::object> FunctionManager::describe(std::string_view name) const {
  auto fn = impl_->find(name);
  if (!fn) {
    return make_error(Errc::not_found, fmt::format("function '{}' does not exist", name));
  }
  auto o = to_json(fn->current()->config);
  o["instances"] = fn->instances_json();
  o["stats"] = fn->stats_json();
  o["stats"].as_object()["usage"] = to_json(fn->records().usage());
  return o;
}

json::array FunctionManager::list() const {
  std::vector<std::shared_ptr<Impl::Function>> fns;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [n, f] : impl_->functions) fns.push_back(f);
  }
  json::array out;
  for (auto& f : fns) {
    auto o = to_json(f->current()->config);
    o["stats"] = f->stats_json();
    out.push_back(std::move(o));
  }
  return out;
}

Status FunctionManager::remove(std::string_view name) {
  auto& m = *impl_;
  std::shared_ptr<Impl::Function> fn;
  {
    std::lock_guard lock(m.mu);
    auto it = m.functions.find(name);
    if (it == m.functions.end()) {
      return make_error(Errc::not_found, fmt::format("function '{}' does not exist", name));
    }
    fn = it->second;
    m.functions.erase(it);
  }
  if (auto s = m.catalog.remove(kKind, name); !s && s.error().code != Errc::not_found) return s;
  fn->shutdown(Errc::not_found, fmt::format("function '{}' was deleted", name));
  std::error_code ec;
  fs::remove_all(m.function_dir(name), ec);
  return {};
}

void FunctionManager::invoke(std::string_view name, std::string payload, InvokeOptions options,
                             InvokeCallback done) {
  impl_->invoke(name, std::move(payload), std::move(options), std::move(done));
}

void FunctionManager::Impl::invoke(std::string_view name, std::string payload,
                                   InvokeOptions options, InvokeCallback done) {
  auto& m = *this;
  if (m.stopping) return done(make_error(Errc::unavailable, "the server is stopping"));
  auto fn = m.find(name);
  if (!fn) {
    return done(make_error(Errc::not_found, fmt::format("function '{}' does not exist", name)));
  }
  auto p = normalize_payload(std::move(payload), kMaxSyncPayload, options.payload_is_json);
  if (!p) return done(std::move(p).error());
  Pending pending;
  pending.request_id = options.request_id.empty() ? events::new_event_id() : options.request_id;
  pending.payload = std::move(*p);
  pending.options = std::move(options);
  pending.done = std::move(done);
  pending.accepted_ms = m.clock.now_ms();
  fn->submit(std::move(pending));
}

void FunctionManager::invoke_async(std::string_view name, std::string payload,
                                   std::function<void(Result<std::string>)> done) {
  auto& m = *impl_;
  if (m.stopping || !m.async_queue) return done(make_error(Errc::unavailable, "the server is stopping"));
  if (!m.find(name)) {
    return done(make_error(Errc::not_found, fmt::format("function '{}' does not exist", name)));
  }
  auto p = normalize_payload(std::move(payload), kMaxAsyncPayload, false);
  if (!p) return done(std::move(p).error());
  std::string id = events::new_event_id();
  m.async_queue->enqueue(std::string(name), id, 1, m.clock.now_ms(), 0, *p,
                         [id, done = std::move(done)](Status s) {
                           if (!s) return done(std::move(s).error());
                           done(id);
                         });
}

bool FunctionManager::exists(std::string_view name) const { return impl_->find(name) != nullptr; }

Result<std::vector<LogLine>> FunctionManager::logs(std::string_view name, uint64_t after,
                                                   size_t limit,
                                                   const std::string& request_id) const {
  auto fn = impl_->find(name);
  if (!fn) return make_error(Errc::not_found, fmt::format("function '{}' does not exist", name));
  return fn->records().logs(after, limit, request_id);
}

Result<std::string> FunctionManager::log_tail(std::string_view name, const std::string& request_id,
                                              size_t max_bytes) const {
  auto fn = impl_->find(name);
  if (!fn) return make_error(Errc::not_found, fmt::format("function '{}' does not exist", name));
  return fn->records().log_tail(request_id, max_bytes);
}

Result<std::vector<InvocationRecord>> FunctionManager::invocations(std::string_view name,
                                                                   uint64_t before,
                                                                   size_t limit) const {
  auto fn = impl_->find(name);
  if (!fn) return make_error(Errc::not_found, fmt::format("function '{}' does not exist", name));
  return fn->records().invocations(before, limit);
}

json::object FunctionManager::usage() const {
  std::vector<std::shared_ptr<Impl::Function>> fns;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [n, f] : impl_->functions) fns.push_back(f);
  }
  json::object per;
  for (auto& f : fns) {
    auto o = to_json(f->records().usage());
    o["memory_mb"] = f->current()->config.memory_mb;
    per[f->name()] = std::move(o);
  }
  return json::object{{"functions", std::move(per)}};
}

std::string FunctionManager::arn(std::string_view name) const { return impl_->arn(name); }

}  // namespace eddy::functions
