#include "app/app.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <thread>

#include "bus/subscriptions.h"
#include "bus/topics.h"
#include "catalog/catalog.h"
#include "common/io_threads.h"
#include "functions/manager.h"
#include "sources/http/routes.h"
#include "sources/webhooks/webhooks.h"
#include "gateway/gateway.h"
#include "log/topic.h"

namespace eddy::app {
namespace asio = boost::asio;

namespace {

constexpr auto kRetentionPeriod = std::chrono::seconds(30);
constexpr auto kDrainTimeout = std::chrono::seconds(10);

// An exclusive lock on <data-dir>/LOCK so two servers never share a data directory. The
// kernel drops it when the process dies, however it dies.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::filesystem::path& dir) {
    auto path = dir / "LOCK";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return make_error(Errc::io_error,
                        fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return make_error(Errc::conflict,
                        fmt::format("data directory {} is in use by another eddy server; stop it "
                                    "or choose another --data-dir",
                                    dir.string()));
    }
    return DirLock(fd);
  }
  DirLock(DirLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

struct App::Impl {
  AppOptions options;
  DirLock lock;
  IoThreads io;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<log::Flusher> flusher;
  std::unique_ptr<log::TopicStore> store;
  std::unique_ptr<bus::TopicManager> topics;
  std::unique_ptr<bus::SubscriptionManager> subscriptions;
  std::unique_ptr<functions::FunctionManager> functions;
  std::unique_ptr<sources::http::RouteManager> routes;
  std::unique_ptr<sources::webhooks::WebhookManager> webhooks;
  std::unique_ptr<gateway::Gateway> gateway;
  asio::signal_set signals{io.main(), SIGINT, SIGTERM};
  asio::steady_timer retention_timer{io.main()};
  bool running = false;
  std::atomic<bool> stopping{false};
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool shutdown_requested = false;

  Impl(AppOptions o, DirLock l)
      : options(std::move(o)), lock(std::move(l)), io(options.threads) {}

  void schedule_retention() {
    retention_timer.expires_after(kRetentionPeriod);
    retention_timer.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping) return;
      store->enforce_retention();
      schedule_retention();
    });
  }

  void request_shutdown() {
    std::lock_guard lk(done_mu);
    shutdown_requested = true;
    done_cv.notify_all();
  }
};

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

App::~App() {
  if (impl_ && impl_->running) {
    stop();
    wait();
  }
}

// Every open segment holds a descriptor (and every connection, and every function
// instance): lift the soft limit to the hard one.
void raise_open_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

Result<std::unique_ptr<App>> App::create(AppOptions options) {
  raise_open_file_limit();
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return make_error(Errc::io_error, fmt::format("cannot create data directory {}: {}",
                                                  options.data_dir.string(), ec.message()));
  }
  auto lock = DirLock::acquire(options.data_dir);
  if (!lock) return std::move(lock).error();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*lock));
  auto& o = impl->options;

  auto catalog = catalog::Catalog::open(o.data_dir / "catalog.db");
  if (!catalog) return std::move(catalog).error();
  impl->catalog = std::move(*catalog);
  impl->flusher = std::make_unique<log::Flusher>();
  impl->store = std::make_unique<log::TopicStore>(o.data_dir, o.durability, *impl->flusher,
                                                  SystemClock::instance());
  impl->topics = std::make_unique<bus::TopicManager>(*impl->catalog, *impl->store,
                                                     SystemClock::instance());
  if (auto s = impl->topics->open_all(); !s) return std::move(s).error();
  impl->subscriptions = std::make_unique<bus::SubscriptionManager>(
      impl->io, *impl->catalog, *impl->topics, SystemClock::instance());
  if (auto s = impl->subscriptions->open_all(); !s) return std::move(s).error();
  o.functions.data_dir = o.data_dir;
  impl->functions = std::make_unique<functions::FunctionManager>(
      impl->io, *impl->catalog, *impl->topics, SystemClock::instance(), o.functions);
  // Subscriptions with a function target invoke through the functions manager, waiting for
  // a free instance rather than failing when the function is at max_concurrency.
  impl->subscriptions->set_function_target(bus::FunctionTarget{
      [f = impl->functions.get()](std::string_view name) { return f->exists(name); },
      [f = impl->functions.get()](std::string_view name, std::string event,
                                  std::function<void(bus::FunctionOutcome)> done) {
        functions::InvokeOptions options;
        options.queue_when_throttled = true;
        options.payload_is_json = true;  // events from the log, {"Records":[...]}, transforms
        f->invoke(name, std::move(event), std::move(options),
                  [done = std::move(done)](Result<functions::InvokeResult> r) {
                    if (!r) {
                      bool refused = r.error().code == Errc::invalid_argument ||
                                     r.error().code == Errc::too_large;
                      return done({false, refused, r.error().message});
                    }
                    if (r->function_error) {
                      return done({false, false, fmt::format("function error {}: {}",
                                                             r->error_type, r->payload)});
                    }
                    done({true, false, {}, std::move(r->payload)});
                  });
      }});
  impl->routes = std::make_unique<sources::http::RouteManager>(*impl->catalog, SystemClock::instance());
  if (auto s = impl->routes->open_all(); !s) return std::move(s).error();
  impl->webhooks = std::make_unique<sources::webhooks::WebhookManager>(
      *impl->catalog, *impl->topics, SystemClock::instance());
  if (auto s = impl->webhooks->open_all(); !s) return std::move(s).error();
  impl->gateway = std::make_unique<gateway::Gateway>(
      impl->io,
      gateway::GatewayOptions{o.listen, o.max_request_bytes, o.max_event_bytes},
      gateway::Services{*impl->catalog, *impl->topics, SystemClock::instance(),
                        *impl->subscriptions, *impl->functions, *impl->routes,
                        *impl->webhooks});
  return std::unique_ptr<App>(new App(std::move(impl)));
}

Result<uint16_t> App::start() {
  auto& im = *impl_;
  auto port = im.gateway->start();
  if (!port) return port;
  im.signals.async_wait([this](boost::system::error_code ec, int sig) {
    if (!ec) {
      spdlog::info("received signal {}, shutting down", sig);
      stop();
    }
  });
  im.schedule_retention();
  {
    // Functions reach eddy (AWS_ENDPOINT_URL) on loopback when it listens on all addresses.
    std::string host = im.options.listen.substr(0, im.options.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
    if (auto s = im.functions->start(fmt::format("http://{}:{}", host, *port)); !s) {
      im.gateway->stop();
      return std::move(s).error();
    }
  }
  im.io.start();
  im.running = true;
  return port;
}

void App::stop() { impl_->request_shutdown(); }

void App::wait() {
  auto& im = *impl_;
  {
    std::unique_lock lk(im.done_mu);
    im.done_cv.wait(lk, [&] { return im.shutdown_requested; });
  }
  if (im.stopping.exchange(true)) return;
  im.gateway->stop();
  im.subscriptions->stop();  // answers long-polling pullers, saves ack state
  im.functions->stop();      // kills instances; waiting invocations answer 503
  auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
  while (!im.gateway->drained() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!im.gateway->drained()) spdlog::warn("closing connections still busy after {}s", kDrainTimeout.count());
  im.io.stop();
  im.io.join();
  im.running = false;
  im.gateway.reset();
  im.subscriptions.reset();
  im.functions.reset();
  im.webhooks.reset();
  im.routes.reset();
  im.topics.reset();
  im.store.reset();
  im.flusher.reset();  // final fsync of every partition
  im.catalog.reset();
  spdlog::info("stopped; the log is flushed");
}

}  // namespace eddy::app
