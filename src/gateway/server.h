// The HTTP/1.1 listener: accepts connections, reads requests (keep-alive and pipelining),
// hands each to the handler and writes the reply in order. Enforces the request size
// limit (413) and an idle timeout.
//
// Threading: the listener accepts on the main io thread and gives each connection to one
// io thread in turn; a connection's requests are read, handled and answered there (on its
// own strand). The handler may be called concurrently for different connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/io_threads.h"
#include "gateway/http.h"

namespace eddy::gateway {

// Serves one request; `peer` is the client's IP address (the connection's remote end).
using Handler = std::function<boost::asio::awaitable<Response>(Request&, std::string_view peer)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8400";  // HOST:PORT; port 0 picks a free one
  size_t max_request_bytes = 64u << 20;
  std::chrono::seconds idle_timeout{120};
};

struct ServerCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_2xx{0}, responses_4xx{0}, responses_5xx{0};
  std::atomic<uint64_t> bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> connections_open{0};
};

class HttpServer {
 public:
  HttpServer(IoThreads& io, ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting. Returns the bound port.
  Result<uint16_t> start();
  // Stops accepting; idle connections close now, busy ones after their current reply.
  void stop();
  // True once every connection has closed after stop().
  bool drained() const { return counters_.connections_open.load() == 0; }

  const ServerCounters& counters() const { return counters_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ServerCounters counters_;
};

}  // namespace eddy::gateway
