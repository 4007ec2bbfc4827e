// A small blocking HTTP/1.1 client for the CLI: one keep-alive connection to the eddy
// server named by --endpoint / EDDY_ENDPOINT (http://HOST:PORT), made on the first request
// and remade when the server closes it. Also the small helpers every CLI verb uses.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

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

  // Runs a request and prints the reply body on success, the error on failure; returns
  // the exit status for the CLI.
  int print(std::string_view method, std::string_view path, std::string_view body = {});

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The message of an eddy error body ({"error":{"code","message"}}), or the raw body.
std::string error_message(const HttpResponse& r);

// Prints "eddy: MESSAGE" to stderr and returns the CLI's failure exit status (1).
int fail(std::string_view message);

// Percent-encodes one path segment of a request (a resource name).
std::string path_segment(std::string_view s);

// A flag's text given inline, or as @FILE for the contents of FILE.
Result<std::string> text_arg(const std::string& arg);
// A flag's JSON, inline or @FILE; the error names `flag`.
Result<boost::json::value> json_arg(std::string_view flag, const std::string& arg);
// `--spec`: a resource as a JSON object, inline or @FILE (empty: an empty object), that
// the other flags then override.
Result<boost::json::object> spec_arg(const std::string& arg);

}  // namespace eddy::cli
