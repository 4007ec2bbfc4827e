// A small blocking HTTP/1.1 client for the CLI: one keep-alive connection to the eddy
// server named by --endpoint / EDDY_ENDPOINT (http://HOST:PORT), reconnecting when the
// server closes it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace eddy::cli {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpClient {
 public:
  // `endpoint` is http://HOST:PORT with an optional path prefix.
  static Result<std::unique_ptr<HttpClient>> connect_to(std::string_view endpoint);
  ~HttpClient();

  Result<HttpResponse> request(std::string_view method, std::string_view path,
                               std::string_view body = {},
                               std::string_view content_type = "application/json");

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The message of an eddy error body ({"error":{"code","message"}}), or the raw body.
std::string error_message(const HttpResponse& r);

}  // namespace eddy::cli
