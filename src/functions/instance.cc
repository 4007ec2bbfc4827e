#include "functions/instance.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstring>
#include <list>
#include <random>

#include "common/json_util.h"
#include "functions/cgroup.h"

namespace eddy::functions {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr size_t kMaxBodyBytes = 6u << 20;     // Lambda's sync payload limit
constexpr size_t kMaxFrameBytes = kMaxBodyBytes + 4096;  // a result frame: payload + ids
constexpr uint64_t kMaxDrainBytes = 64u << 20;  // past this an oversized body closes the connection
constexpr size_t kMaxLogLineBytes = 256u << 10;
constexpr std::string_view kPrefix = "/2018-06-01/runtime/";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response reply(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response runtime_error(http::status status, std::string_view type, std::string_view message) {
  std::string body = R"({"errorMessage":)";
  append_json_string(body, message);
  body += R"(,"errorType":)";
  append_json_string(body, type);
  body += "}";
  return reply(status, std::move(body));
}

// An X-Ray style trace header, so clients that parse it find the expected shape.
std::string trace_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  return fmt::format("Root=1-{:08x}-{:012x}{:012x};Parent={:016x};Sampled=0", secs,
                     rng() & 0xffffffffffffULL, rng() & 0xffffffffffffULL, rng());
}

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The Lambda error document {"errorType","errorMessage","stackTrace"}.
std::string error_document(std::string_view type, std::string_view message,
                           const json::array& stack = {}) {
  json::object o{{"errorType", type}, {"errorMessage", message}, {"stackTrace", stack}};
  return json_text(o);
}

// Channel frames (see instance.h): u32 length, u8 type, fields of u32 length + bytes.
void put_u32(std::string& out, size_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

void put_field(std::string& out, std::string_view v) {
  put_u32(out, v.size());
  out.append(v);
}

// The fields of a frame body; false when they do not add up to it.
bool split_fields(std::string_view body, std::vector<std::string_view>& fields) {
  while (!body.empty()) {
    if (body.size() < 4) return false;
    uint32_t n = get_u32(body.data());
    if (body.size() - 4 < n) return false;
    fields.push_back(body.substr(4, n));
    body.remove_prefix(4 + n);
  }
  return true;
}

// The error a runtime reported, from its {"errorType","errorMessage","stackTrace"}
// document (`body`), `header_type` (Lambda-Runtime-Function-Error-Type) when the body is
// not such a document.
struct ReportedError {
  std::string type, message;
  json::array stack;
};

ReportedError parse_reported_error(std::string_view body, std::string_view header_type,
                                   std::string_view fallback_type) {
  ReportedError r;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    auto& obj = v.as_object();
    if (auto* t = obj.if_contains("errorType"); t && t->is_string()) r.type = t->get_string();
    if (auto* m = obj.if_contains("errorMessage"); m && m->is_string()) r.message = m->get_string();
    if (auto* st = obj.if_contains("stackTrace"); st && st->is_array()) r.stack = st->as_array();
  } else {
    r.message = body;
  }
  if (r.type.empty()) r.type = header_type.empty() ? fallback_type : header_type;
  return r;
}

}  // namespace

struct Instance::Impl {
  Impl(asio::io_context& io_, std::weak_ptr<InstanceOwner> o, InstanceSetup s)
      : io(io_),
        strand(asio::make_strand(io_)),
        acceptor(strand),
        owner(std::move(o)),
        setup(std::move(s)),
        job_timer(strand),
        init_timer(strand) {}

  asio::io_context& io;
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  std::weak_ptr<InstanceOwner> owner;
  InstanceSetup setup;
  Child child;
  std::unique_ptr<asio::posix::stream_descriptor> pidfd, out, err;
  std::string cgroup_name;  // "" when not in a cgroup of ours

  // State below is touched on the strand only.
  Clock::time_point start_time;    // spawn, or adoption of a pre-started process
  bool ready = false;              // asked for work at least once
  bool ready_told = false;         // the current owner heard instance_ready
  bool first_job = true;
  std::optional<Job> job;
  bool delivered = false;
  Clock::time_point delivered_at;
  std::optional<double> first_next_ms;  // start_time -> first /next, for fresh processes
  std::string init_json;           // sent with the first delivery after adopt()
  asio::steady_timer job_timer, init_timer;
  Clock::time_point job_deadline;  // of the delivered job
  bool deadline_watched = false;   // job_timer is armed (see watch_deadline())
  // The parked /next, resumed directly (on the strand) when a job arrives.
  std::optional<asio::any_completion_handler<void()>> next_waiter;
  bool exited = false, stopping = false;
  std::string init_error_type, init_error_message;
  std::string out_buf, err_buf;
  int64_t rss_kb = 0;
  Clock::time_point rss_at;
  std::array<char, 16384> read_buf_out{}, read_buf_err{};
  std::list<std::weak_ptr<beast::tcp_stream>> conns;
  // The channel (setup.channel): eddy's end, the child's end until it is spawned, frames
  // read so far, and the job frame's head while it is written.
  std::unique_ptr<asio::posix::stream_descriptor> chan;
  int chan_child = -1;
  beast::flat_buffer chan_in;
  std::string chan_head;

  std::shared_ptr<InstanceOwner> current_owner() const { return owner.lock(); }

  void wake_next() {
    if (!next_waiter) return;
    auto h = std::move(*next_waiter);
    next_waiter.reset();
    std::move(h)();
  }
  const std::string& current_request() const {
    static const std::string none;
    return job && delivered ? job->request_id : none;
  }

  void emit_lines(const std::shared_ptr<Instance>& self, std::string& buf, std::string_view stream,
                  bool flush_partial) {
    auto o = current_owner();
    size_t start = 0;
    for (;;) {
      size_t nl = buf.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(buf.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (o) o->log_line(self, current_request(), stream, line);
      start = nl + 1;
    }
    buf.erase(0, start);
    if (!buf.empty() && (flush_partial || buf.size() > kMaxLogLineBytes)) {
      if (o) o->log_line(self, current_request(), stream, buf);
      buf.clear();
    }
  }

  // Reads whatever the process has written so far, so output that came before a result is
  // attributed to its request. One poll() asks both pipes (usually empty) at once.
  void drain(const std::shared_ptr<Instance>& self, bool flush_partial) {
    char buf[16384];
    pollfd pipes[2] = {{child.stdout_fd, POLLIN, 0}, {child.stderr_fd, POLLIN, 0}};
    if (::poll(pipes, 2, 0) < 0) pipes[0].revents = pipes[1].revents = 0;
    std::string* acc[2] = {&out_buf, &err_buf};
    for (int i = 0; i < 2; ++i) {
      while (pipes[i].revents != 0) {
        ssize_t n = ::read(pipes[i].fd, buf, sizeof buf);
        if (n <= 0) break;
        acc[i]->append(buf, static_cast<size_t>(n));
      }
      emit_lines(self, *acc[i], i == 0 ? "stdout" : "stderr", flush_partial);
    }
  }

  void read_stream(std::shared_ptr<Instance> self, bool is_out) {
    auto& desc = is_out ? out : err;
    if (!desc) return;
    auto& rb = is_out ? read_buf_out : read_buf_err;
    desc->async_read_some(asio::buffer(rb), [this, self, is_out](beast::error_code ec, size_t n) {
      auto& acc = is_out ? out_buf : err_buf;
      if (n > 0) {
        acc.append((is_out ? read_buf_out : read_buf_err).data(), n);
        emit_lines(self, acc, is_out ? "stdout" : "stderr", false);
      }
      if (!ec) read_stream(self, is_out);
    });
  }

  void tell_ready(const std::shared_ptr<Instance>& self) {
    if (ready_told) return;
    ready_told = true;
    if (auto o = current_owner()) o->instance_ready(self);
  }

  void finish_job(const std::shared_ptr<Instance>& self, JobOutcome outcome,
                  double reported_load_ms) {
    if (!job) return;
    drain(self, true);
    auto now = Clock::now();
    double run = delivered ? ms_between(delivered_at, now) : 0;
    outcome.duration_ms = std::max(0.0, run - reported_load_ms);
    if (first_job) {
      first_job = false;
      double init = first_next_ms.value_or(0) + reported_load_ms;
      outcome.init_ms = init;
    }
    if (child.pid > 0) {
      // The process's own peak (VmHWM); a cgroup peak misses what a pre-started process
      // used before it joined its function's group.
      // VmHWM only grows; reading /proc costs ~10 us, so refresh it at most every 50 ms.
      if (!exited && (rss_kb == 0 || now - rss_at > std::chrono::milliseconds(50))) {
        rss_kb = std::max(rss_kb, peak_rss_kb(child.pid));
        rss_at = now;
      }
      if (rss_kb == 0 && !cgroup_name.empty()) rss_kb = setup.cgroups->peak_kb(cgroup_name);
      outcome.max_rss_kb = rss_kb;
    }
    outcome.instance_ends = exited || stopping;
    Job done = std::move(*job);
    job.reset();
    delivered = false;
    if (auto o = current_owner()) o->job_done(self, std::move(done), std::move(outcome));
  }

  void on_exit(const std::shared_ptr<Instance>& self) {
    if (exited) return;
    exited = true;
    // What the runtime sent just before it exited (a result, an init error) counts.
    if (chan && chan->is_open()) {
      for (;;) {
        auto room = chan_in.prepare(64u << 10);
        ssize_t n = ::read(chan->native_handle(), room.data(), room.size());
        if (n <= 0) break;
        chan_in.commit(static_cast<size_t>(n));
      }
      take_frames(self);
    }
    ExitReport report;
    report.exit = reap(child.pid);
    if (!cgroup_name.empty()) report.oom = setup.cgroups->oom_killed(cgroup_name);
    report.stopped = stopping;
    report.was_ready = ready;
    report.init_error_type = init_error_type;
    report.init_error_message = init_error_message;
    if (job) {
      JobOutcome o;
      if (report.oom) {
        o.kind = JobOutcome::Kind::oom;
        o.error_type = "Runtime.OutOfMemory";
        o.error_message = fmt::format(
            "Runtime exited: out of memory (the function's limit is {} MB)", setup.memory_mb);
      } else {
        o.kind = JobOutcome::Kind::crash;
        o.error_type = "Runtime.ExitError";
        o.error_message =
            report.exit.signal
                ? fmt::format("Runtime exited with error: signal: {}", strsignal(report.exit.signal))
                : fmt::format("Runtime exited with error: exit status {}", report.exit.exit_code);
      }
      o.payload = error_document(o.error_type, o.error_message);
      finish_job(self, std::move(o), 0);
    } else {
      drain(self, true);
    }
    if (!ready && init_error_type.empty()) {
      report.init_error_type = "Runtime.ExitError";
      report.init_error_message =
          report.exit.signal
              ? fmt::format("the runtime exited during init: signal: {}", strsignal(report.exit.signal))
              : fmt::format("the runtime exited during init with status {}", report.exit.exit_code);
      if (report.oom) {
        report.init_error_type = "Runtime.OutOfMemory";
        report.init_error_message = "the runtime ran out of memory during init";
      }
    }
    close_all();
    if (!cgroup_name.empty()) setup.cgroups->remove(cgroup_name);
    if (auto o = current_owner()) o->instance_exited(self, report);
  }

  void close_all() {
    beast::error_code ec;
    acceptor.close(ec);
    job_timer.cancel();
    init_timer.cancel();
    wake_next();
    for (auto& w : conns) {
      if (auto c = w.lock()) c->socket().close(ec);
    }
    conns.clear();
    for (auto* d : {&pidfd, &out, &err, &chan}) {
      if (*d) {
        (*d)->close(ec);
        d->reset();
      }
    }
    child.stdout_fd = child.stderr_fd = child.pidfd = -1;
  }

  void kill() {
    if (!exited) kill_process_group(child.pid);
  }

  // The runtime asks for work (the first /next, or the channel's ready frame).
  void on_ready(const std::shared_ptr<Instance>& self) {
    if (ready) return;
    ready = true;
    init_timer.cancel();
    first_next_ms = ms_between(start_time, Clock::now());
    tell_ready(self);
  }

  // Hands the job to the runtime: starts its clock and timeout. Returns its deadline
  // (milliseconds since the epoch).
  int64_t deliver(const std::shared_ptr<Instance>& self) {
    delivered = true;
    delivered_at = Clock::now();
    job_deadline = delivered_at + std::chrono::milliseconds(job->timeout_ms);
    watch_deadline(self);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() +
           job->timeout_ms;
  }

  // The job timer is not re-armed or cancelled per job (each costs a handler run): armed
  // for some job's deadline, it wakes, times out the running job if that is past its
  // own deadline, or else sleeps until it, and is left unarmed while no job runs. Jobs of
  // an instance share one timeout, so an earlier job's deadline is never later than the
  // running one's.
  void watch_deadline(const std::shared_ptr<Instance>& self) {
    if (deadline_watched) return;
    deadline_watched = true;
    job_timer.expires_at(job_deadline);
    job_timer.async_wait([this, self](beast::error_code ec) {
      deadline_watched = false;
      if (ec || !job || !delivered) return;
      if (Clock::now() < job_deadline) return watch_deadline(self);
      JobOutcome o;
      o.kind = JobOutcome::Kind::timeout;
      o.error_type = "Sandbox.Timedout";
      o.error_message = fmt::format("Task timed out after {} ms", job->timeout_ms);
      o.payload = error_document(o.error_type, o.error_message);
      stopping = true;
      kill();
      finish_job(self, std::move(o), 0);
    });
  }

  asio::awaitable<Response> next(std::shared_ptr<Instance> self) {
    on_ready(self);
    while (!job || delivered) {
      if (exited || stopping)
        co_return runtime_error(http::status::gone, "InstanceStopped", "stopping");
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
          [this](auto handler) { next_waiter.emplace(std::move(handler)); }, asio::use_awaitable);
    }
    int64_t deadline = deliver(self);
    const Job& j = *job;
    Response res = reply(http::status::ok, j.payload);
    res.set("Lambda-Runtime-Aws-Request-Id", j.request_id);
    res.set("Lambda-Runtime-Deadline-Ms", std::to_string(deadline));
    res.set("Lambda-Runtime-Invoked-Function-Arn", j.function_arn);
    res.set("Lambda-Runtime-Trace-Id", trace_id());
    if (!j.client_context.empty()) res.set("Lambda-Runtime-Client-Context", j.client_context);
    co_return res;
  }

  // A result for request `id`: the function's response, or (is_error) the error it
  // reported. `load_ms` is a late code load to count as init, not as the invocation.
  // False when `id` is not the running invocation.
  bool complete(const std::shared_ptr<Instance>& self, std::string_view id, bool is_error,
                std::string_view body, std::string_view header_type, double load_ms) {
    if (!job || !delivered || job->request_id != id) return false;
    if (!(load_ms >= 0 && load_ms < 1e7)) load_ms = 0;
    JobOutcome o;
    if (!is_error) {
      o.kind = JobOutcome::Kind::success;
      o.payload = body;
    } else {
      o.kind = JobOutcome::Kind::function_error;
      auto e = parse_reported_error(body, header_type, "Unhandled");
      o.error_type = std::move(e.type);
      o.error_message = std::move(e.message);
      o.payload = error_document(o.error_type, o.error_message, e.stack);
    }
    finish_job(self, std::move(o), load_ms);
    return true;
  }

  // The runtime could not load the function: it is not used again.
  void fail_init(const std::shared_ptr<Instance>& self, std::string_view body,
                 std::string_view header_type) {
    auto e = parse_reported_error(body, header_type, "Runtime.InitError");
    init_error_type = std::move(e.type);
    init_error_message = std::move(e.message);
    stopping = true;
    if (job) {
      JobOutcome o;
      o.kind = JobOutcome::Kind::function_error;
      o.error_type = init_error_type;
      o.error_message = init_error_message;
      o.payload = error_document(o.error_type, o.error_message);
      finish_job(self, std::move(o), 0);
    }
    kill();
  }

  void fail_too_large(const std::shared_ptr<Instance>& self) {
    if (!job || !delivered) return;
    // A result over the limit fails the invocation, as Lambda does.
    JobOutcome o;
    o.kind = JobOutcome::Kind::function_error;
    o.error_type = "Function.ResponseSizeTooLarge";
    o.error_message = fmt::format(
        "Response payload size exceeded maximum allowed payload size ({} bytes).", kMaxBodyBytes);
    o.payload = error_document(o.error_type, o.error_message);
    finish_job(self, std::move(o), 0);
  }

  Response result(const std::shared_ptr<Instance>& self, const Request& req, std::string_view id,
                  bool is_error) {
    auto type = req.find("Lambda-Runtime-Function-Error-Type");
    if (!complete(self, id, is_error, req.body(), type != req.end() ? type->value() : "", 0)) {
      return runtime_error(http::status::bad_request, "InvalidRequestID",
                           fmt::format("no invocation {} is running here", id));
    }
    return reply(http::status::accepted, R"({"status":"OK"})");
  }

  Response init_error(const std::shared_ptr<Instance>& self, const Request& req) {
    auto type = req.find("Lambda-Runtime-Function-Error-Type");
    fail_init(self, req.body(), type != req.end() ? type->value() : "");
    return reply(http::status::accepted, R"({"status":"OK"})");
  }

  // --- The channel: eddy's runtime clients, one socket, length-prefixed frames.

  // Writes the job frame (when the runtime is ready for it): a synchronous write from here,
  // which takes the whole frame unless the payload is large; the rest is written async.
  void send_job(const std::shared_ptr<Instance>& self) {
    if (!ready || !job || delivered || !chan || !chan->is_open()) return;
    int64_t deadline = deliver(self);
    const Job& j = *job;
    chan_head.clear();
    put_u32(chan_head, 0);
    chan_head.push_back('J');
    put_field(chan_head, j.request_id);
    put_field(chan_head, std::to_string(deadline));
    put_field(chan_head, j.function_arn);
    put_field(chan_head, trace_id());
    put_field(chan_head, j.client_context);
    put_field(chan_head, init_json);
    init_json.clear();
    put_u32(chan_head, j.payload.size());
    size_t total = chan_head.size() + j.payload.size();
    std::string size;
    put_u32(size, total - 4);
    chan_head.replace(0, 4, size);
    iovec iov[2] = {{chan_head.data(), chan_head.size()},
                    {const_cast<char*>(j.payload.data()), j.payload.size()}};
    ssize_t n = ::writev(chan->native_handle(), iov, 2);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return;  // it died: on_exit follows
    size_t done = n < 0 ? 0 : static_cast<size_t>(n);
    if (done == total) return;
    // The job may end (timeout) before the rest is written: the rest is owned here.
    auto rest = std::make_shared<std::string>();
    rest->reserve(total - done);
    if (done < chan_head.size()) rest->append(chan_head, done);
    rest->append(j.payload, done > chan_head.size() ? done - chan_head.size() : 0);
    asio::async_write(*chan, asio::buffer(*rest), [self, rest](beast::error_code, size_t) {});
  }

  void read_channel(std::shared_ptr<Instance> self) {
    // take_frames() reserved room for a whole frame it saw the start of.
    size_t room = std::max<size_t>(64u << 10, chan_in.capacity() - chan_in.size());
    chan->async_read_some(chan_in.prepare(room), [this, self](beast::error_code ec, size_t n) {
      chan_in.commit(n);
      if (ec || !chan || !chan->is_open() || !take_frames(self)) return;
      read_channel(self);
    });
  }

  // After a frame it cannot take, nothing more can be read from the channel: the process
  // is stopped (a running job ends with it) and the channel closed.
  void abandon_channel() {
    stopping = true;
    beast::error_code ec;
    chan->close(ec);
    kill();
  }

  // Handles the complete frames read so far; false when the channel is no longer read.
  bool take_frames(const std::shared_ptr<Instance>& self) {
    for (;;) {
      auto data = chan_in.cdata();
      auto avail = data.size();
      auto p = static_cast<const char*>(data.data());
      if (avail < 4) return true;
      uint32_t len = get_u32(p);
      if (len > kMaxFrameBytes) {
        abandon_channel();
        fail_too_large(self);
        return false;
      }
      if (avail - 4 < len) {
        chan_in.reserve(4 + len);
        return true;
      }
      if (!take_frame(self, std::string_view(p + 4, len))) {
        spdlog::warn("instance {}: malformed frame from its runtime; stopping it", setup.label);
        abandon_channel();
        return false;
      }
      chan_in.consume(4 + len);
    }
  }

  // Runtime → eddy frames: N (ready), R (request id, init ms, response), E (request id,
  // init ms, error document), I (error document: init failed).
  bool take_frame(const std::shared_ptr<Instance>& self, std::string_view frame) {
    if (frame.empty()) return false;
    std::vector<std::string_view> f;
    if (!split_fields(frame.substr(1), f)) return false;
    switch (frame[0]) {
      case 'N':
        on_ready(self);
        send_job(self);
        return true;
      case 'R':
      case 'E': {
        if (f.size() != 3) return false;
        if (f[2].size() > kMaxBodyBytes) {
          fail_too_large(self);
          return true;
        }
        double load_ms = f[1].empty() ? 0 : std::strtod(std::string(f[1]).c_str(), nullptr);
        complete(self, f[0], frame[0] == 'E', f[2], "", load_ms);
        return true;
      }
      case 'I':
        if (f.size() != 1) return false;
        fail_init(self, f[0], "");
        return true;
    }
    return false;
  }

  asio::awaitable<Response> handle(std::shared_ptr<Instance> self, const Request& req) {
    std::string_view target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (!target.starts_with(kPrefix)) {
      co_return runtime_error(http::status::not_found, "NotFound", "unknown Runtime API path");
    }
    target.remove_prefix(kPrefix.size());
    if (target == "invocation/next") {
      if (req.method() != http::verb::get) {
        co_return runtime_error(http::status::method_not_allowed, "MethodNotAllowed", "use GET");
      }
      co_return co_await next(self);
    }
    if (target == "init/error") co_return init_error(self, req);
    constexpr std::string_view kInv = "invocation/";
    if (target.starts_with(kInv) && req.method() == http::verb::post) {
      auto rest = target.substr(kInv.size());
      auto slash = rest.find('/');
      if (slash != std::string_view::npos) {
        auto id = rest.substr(0, slash);
        auto what = rest.substr(slash + 1);
        if (what == "response") co_return result(self, req, id, false);
        if (what == "error") co_return result(self, req, id, true);
      }
    }
    co_return runtime_error(http::status::not_found, "NotFound", "unknown Runtime API path");
  }

  // Reads and drops `length` body bytes, of which `buffer` may already hold some.
  static asio::awaitable<bool> discard_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                            uint64_t length) {
    uint64_t held = std::min<uint64_t>(length, buffer.size());
    buffer.consume(held);
    length -= held;
    std::vector<char> sink(64 << 10);
    while (length > 0) {
      size_t want = std::min<uint64_t>(length, sink.size());
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink.data(), want), kTuple);
      if (ec) co_return false;
      length -= n;
    }
    co_return true;
  }

  asio::awaitable<void> session(std::shared_ptr<Instance> self, tcp::socket socket) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    conns.remove_if([](const auto& w) { return w.expired(); });
    conns.push_back(stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(boost::none);  // the header is read first; its length is checked here
      auto [hec, hn] = co_await http::async_read_header(*stream, buffer, parser, kTuple);
      if (hec) break;
      parser.body_limit(kMaxBodyBytes);
      bool keep_alive = parser.get().keep_alive();
      Response res;
      if (auto length = parser.content_length(); length && *length > kMaxBodyBytes) {
        // A result over the limit fails the invocation and gets Lambda's 413. The body is
        // read and dropped first (when not absurdly large), so that the runtime reads the
        // answer rather than a reset and can go on asking for work on this connection.
        fail_too_large(self);
        keep_alive = keep_alive && *length <= kMaxDrainBytes &&
                     co_await discard_body(*stream, buffer, *length);
        res = runtime_error(
            http::status::payload_too_large, "RequestEntityTooLarge",
            fmt::format("Exceeded maximum allowed payload size ({} bytes).", kMaxBodyBytes));
      } else {
        auto [ec, n] = co_await http::async_read(*stream, buffer, parser, kTuple);
        if (ec) {
          if (ec == http::error::body_limit) fail_too_large(self);  // chunked, over the limit
          break;
        }
        Request req = parser.release();
        res = co_await handle(self, req);
      }
      res.keep_alive(keep_alive);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(*stream, res, kTuple);
      if (wec || !keep_alive || exited) break;
    }
    beast::error_code ignored;
    stream->socket().close(ignored);
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<Instance> self) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(strand, kTuple);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(strand, session(self, std::move(socket)), asio::detached);
    }
  }

  void watch(const std::shared_ptr<Instance>& self) {
    pidfd = std::make_unique<asio::posix::stream_descriptor>(strand, child.pidfd);
    out = std::make_unique<asio::posix::stream_descriptor>(strand, child.stdout_fd);
    err = std::make_unique<asio::posix::stream_descriptor>(strand, child.stderr_fd);
    pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                      [this, self](beast::error_code ec) {
                        if (ec == asio::error::operation_aborted && exited) return;
                        on_exit(self);
                      });
    read_stream(self, true);
    read_stream(self, false);
    if (chan) read_channel(self);
    init_timer.expires_after(setup.init_timeout);
    init_timer.async_wait([this, self](beast::error_code ec) {
      if (ec || ready || exited) return;
      init_error_type = "Sandbox.Timedout";
      init_error_message = fmt::format("the runtime did not ask for work within {} ms",
                                       setup.init_timeout.count());
      kill();
    });
    if (!setup.channel) asio::co_spawn(strand, accept_loop(self), asio::detached);
  }
};

Instance::Instance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Instance::~Instance() {
  auto& im = *impl_;
  if (!im.exited && im.child.pid > 0) {
    kill_process_group(im.child.pid);
    reap(im.child.pid);
    if (!im.cgroup_name.empty()) im.setup.cgroups->remove(im.cgroup_name);
  }
  for (int fd : {im.child.pidfd, im.child.stdout_fd, im.child.stderr_fd}) {
    if (fd >= 0 && !im.exited && !(im.pidfd || im.out || im.err)) ::close(fd);
  }
  if (im.chan_child >= 0) ::close(im.chan_child);
}

Result<std::shared_ptr<Instance>> Instance::create(asio::io_context& io,
                                                   std::weak_ptr<InstanceOwner> owner,
                                                   InstanceSetup setup) {
  auto impl = std::make_unique<Impl>(io, std::move(owner), std::move(setup));
  if (impl->setup.channel) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return make_error(Errc::io_error,
                        fmt::format("cannot open a runtime channel: {}", std::strerror(errno)));
    }
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    impl->chan = std::make_unique<asio::posix::stream_descriptor>(impl->strand, fds[0]);
    impl->chan_child = fds[1];
  } else {
    beast::error_code ec;
    tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
    impl->acceptor.open(ep.protocol(), ec);
    if (!ec) impl->acceptor.bind(ep, ec);
    if (!ec) impl->acceptor.listen(64, ec);
    if (ec) {
      return make_error(Errc::io_error,
                        fmt::format("cannot open a Runtime API listener: {}", ec.message()));
    }
    ::fcntl(impl->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  }
  std::shared_ptr<Instance> inst(new Instance(std::move(impl)));
  if (!inst->impl_->setup.channel) inst->port_ = inst->impl_->acceptor.local_endpoint().port();
  inst->label_ = inst->impl_->setup.label;
  inst->created_ = Clock::now();
  return inst;
}

Status Instance::start(Launcher& launcher) {
  auto& im = *impl_;
  SpawnSpec spec = im.setup.spawn;
  if (im.setup.channel) {
    spec.inherit_fd = im.chan_child;
  } else {
    spec.env.push_back(fmt::format("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{}", port_));
  }
  if (im.setup.cgroups) {
    // Pre-started processes (memory_mb 0) get their group now and their cap on adoption,
    // so nothing has to be moved between groups on the cold-start path.
    auto procs = im.setup.cgroups->create(im.setup.label, im.setup.memory_mb << 20);
    if (!procs) return std::move(procs).error();
    spec.cgroup_procs = *procs;
    im.cgroup_name = im.setup.label;
  }
  auto child = launcher.spawn(spec);
  if (im.chan_child >= 0) {
    ::close(im.chan_child);
    im.chan_child = -1;
  }
  if (!child) {
    if (!im.cgroup_name.empty()) im.setup.cgroups->remove(im.cgroup_name);
    im.cgroup_name.clear();
    return std::move(child).error();
  }
  im.child = *child;
  pid_ = child->pid;
  auto self = shared_from_this();
  asio::post(im.strand, [self, &im] {
    im.start_time = Clock::now();
    im.watch(self);
  });
  return {};
}

Status Instance::adopt(std::weak_ptr<InstanceOwner> owner, std::string cgroup_name,
                       int64_t memory_mb, std::string init_json) {
  auto& im = *impl_;
  // The group was made when the process started (see start()); `cgroup_name` is used only
  // when it was not.
  std::string cg = im.cgroup_name;
  if (im.setup.cgroups && memory_mb > 0) {
    if (!cg.empty()) {
      if (auto s = im.setup.cgroups->set_limit(cg, memory_mb << 20); !s) return s;
    } else {
      auto procs = im.setup.cgroups->create(cgroup_name, memory_mb << 20);
      if (!procs) return std::move(procs).error();
      if (auto s = im.setup.cgroups->attach(cgroup_name, pid_); !s) {
        im.setup.cgroups->remove(cgroup_name);
        return s;
      }
      cg = cgroup_name;
    }
  }
  auto self = shared_from_this();
  asio::post(im.strand, [self, &im, owner = std::move(owner), cg = std::move(cg), memory_mb,
                         init_json = std::move(init_json)]() mutable {
    im.owner = std::move(owner);
    im.cgroup_name = std::move(cg);
    im.setup.memory_mb = memory_mb;
    im.init_json = std::move(init_json);
    im.ready_told = false;
    im.first_next_ms = 0;  // a pre-started process costs its function no start-up time
    if (im.exited) {
      // It died between being claimed and now: its new owner must hear of it.
      ExitReport r;
      r.init_error_type = "Runtime.ExitError";
      r.init_error_message = "the pre-started runtime process exited before it was used";
      if (auto o = im.current_owner()) o->instance_exited(self, r);
      return;
    }
    if (im.ready) im.tell_ready(self);
  });
  return {};
}

void Instance::dispatch(Job job) {
  auto self = shared_from_this();
  // Deferred, not posted: called on an io thread (the usual case), the job is written by
  // this same thread as soon as the caller's handler returns, without waking another.
  asio::defer(impl_->strand, [self, job = std::move(job)]() mutable {
    auto& im = *self->impl_;
    if (im.exited || im.job) {
      // Gone (the exit report is on its way) or busy: answer as a crash so nothing hangs.
      JobOutcome o;
      o.kind = JobOutcome::Kind::crash;
      o.error_type = "Runtime.ExitError";
      o.error_message = im.exited ? "the instance exited before the invocation reached it"
                                  : "the instance was busy";
      o.payload = error_document(o.error_type, o.error_message);
      if (auto owner = im.current_owner()) owner->job_done(self, std::move(job), std::move(o));
      return;
    }
    im.job = std::move(job);
    im.delivered = false;
    if (im.setup.channel) {
      im.send_job(self);
    } else {
      im.wake_next();
    }
  });
}

void Instance::stop() {
  auto self = shared_from_this();
  asio::post(impl_->strand, [self] {
    auto& im = *self->impl_;
    im.stopping = true;
    im.kill();
    im.wake_next();
  });
}

}  // namespace eddy::functions
