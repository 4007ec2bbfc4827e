// PushClient: HTTP/1.1 POSTs to one push endpoint (a subscription's `target.url`), over
// keep-alive connections it reuses; https:// endpoints over TLS with the server's
// certificate verified against the system trust store (or SSL_CERT_FILE / SSL_CERT_DIR)
// and the URL's host. Beast, Asio and OpenSSL stay in push_client.cc.
//
// Threading: thread-safe. Requests run as coroutines on the io_context given to create(),
// and `done` runs there, once per post(); if that io_context stops first, never.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace boost::asio {
class io_context;
}

namespace eddy::bus {

struct PushRequest {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;  // "" sends none
  std::string body;
  std::chrono::milliseconds timeout{30000};  // connect, send and answer, all told
};

struct PushResponse {
  int status = 0;     // the HTTP status; 0 when no answer came (refused, reset, timeout)
  std::string error;  // what went wrong, when it did ("" for a 2xx)
  std::optional<std::string> retry_after;  // the Retry-After header, if sent
};

class PushClient {
 public:
  // Checks `url` (absolute http[s]://host[:port][/path][?query]) and prepares a client for
  // it; connects lazily. invalid_argument for any other URL.
  static Result<std::shared_ptr<PushClient>> create(boost::asio::io_context& io,
                                                    std::string_view url);
  virtual ~PushClient() = default;

  virtual void post(PushRequest request, std::function<void(PushResponse)> done) = 0;
  // Closes idle connections; requests in flight finish on their own.
  virtual void close() = 0;
};

}  // namespace eddy::bus
