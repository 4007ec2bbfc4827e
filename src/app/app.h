// App: owns every service of a running server and starts and stops them in order.
// Start: data dir lock -> catalog -> log (flusher, topic store) -> topics -> gateway.
// Stop (SIGTERM/SIGINT or stop()): stop accepting -> let in-flight requests finish (up to
// 10 s) -> stop the io threads -> final fsync of every partition -> close the catalog.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "functions/manager.h"
#include "log/partition.h"

namespace eddy::app {

struct AppOptions {
  std::string listen = "127.0.0.1:8400";
  std::filesystem::path data_dir = "./eddy-data";
  log::Durability durability;  // server default; topics may override
  size_t max_event_bytes = 1u << 20;
  size_t max_request_bytes = 64u << 20;
  unsigned threads = 0;  // io threads; 0: one per core
  functions::FunctionsOptions functions;  // data_dir is filled in from data_dir above
};

class App {
 public:
  static Result<std::unique_ptr<App>> create(AppOptions options);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Starts the io threads and the listener; returns the bound port.
  Result<uint16_t> start();
  // Blocks until SIGINT/SIGTERM or stop(), then shuts down in order.
  void wait();
  // Asks a running App to shut down; wait() returns once it has.
  void stop();

 private:
  struct Impl;
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eddy::app
