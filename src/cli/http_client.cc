#include "cli/http_client.h"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/text.h"

namespace eddy::cli {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  std::string host, port, prefix;
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool connected = false;

  Status connect() {
    boost::system::error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, ec);
    if (!ec) stream.connect(results, ec);
    if (ec) {
      return make_error(Errc::unavailable,
                        fmt::format("cannot reach eddy at http://{}:{}: {} (is `eddy serve` "
                                    "running? set --endpoint or EDDY_ENDPOINT)",
                                    host, port, ec.message()));
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    connected = true;
    return {};
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() {
  boost::system::error_code ec;
  impl_->stream.socket().close(ec);
}

Result<std::unique_ptr<HttpClient>> HttpClient::connect_to(std::string_view endpoint) {
  auto url = boost::urls::parse_uri(endpoint);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("endpoint '{}' must look like http://127.0.0.1:8400", endpoint));
  }
  auto impl = std::make_unique<Impl>();
  impl->host = url->host();
  impl->port = url->has_port() ? std::string(url->port()) : "80";
  impl->prefix = url->path();
  while (!impl->prefix.empty() && impl->prefix.back() == '/') impl->prefix.pop_back();
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpResponse> HttpClient::request(std::string_view method, std::string_view path,
                                         std::string_view body, std::string_view content_type) {
  auto& im = *impl_;
  http::request<http::string_body> req{http::string_to_verb(method), im.prefix + std::string(path),
                                       11};
  req.set(http::field::host, im.host);
  req.set(http::field::user_agent, "eddy-cli");
  if (!body.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::string(body);
  req.prepare_payload();
  // One retry: a kept-alive connection the server has closed fails on first use.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!im.connected) {
      if (auto s = im.connect(); !s) return std::move(s).error();
    }
    boost::system::error_code ec;
    http::write(im.stream, req, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (!ec) http::read(im.stream, im.buffer, parser, ec);
    if (ec) {
      im.stream.socket().close(ec);
      im.connected = false;
      im.buffer.clear();
      if (attempt == 0) continue;
      return make_error(Errc::unavailable, fmt::format("request to eddy failed: {}", ec.message()));
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) {
      out.headers[ascii_lower(f.name_string())] = std::string(f.value());
    }
    if (!res.keep_alive()) {
      im.stream.socket().close(ec);
      im.connected = false;
    }
    return out;
  }
  return make_error(Errc::unavailable, "request to eddy failed");
}

int HttpClient::print(std::string_view method, std::string_view path, std::string_view body) {
  auto r = request(method, path, body);
  if (!r) return fail(r.error().message);
  if (r->status >= 300) return fail(error_message(*r));
  if (!r->body.empty()) std::cout << r->body << "\n";
  return 0;
}

std::string error_message(const HttpResponse& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    if (auto* e = v.as_object().if_contains("error"); e && e->is_object()) {
      if (auto* m = e->as_object().if_contains("message"); m && m->is_string()) {
        return fmt::format("{} ({})", std::string_view(m->as_string()), r.status);
      }
    }
  }
  return fmt::format("HTTP {}: {}", r.status, r.body);
}

int fail(std::string_view message) {
  std::cerr << "eddy: " << message << "\n";
  return 1;
}

std::string path_segment(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<std::string> text_arg(const std::string& arg) {
  if (arg.empty() || arg[0] != '@') return arg;
  std::ifstream in(arg.substr(1));
  if (!in) return make_error(Errc::invalid_argument, "cannot read " + arg.substr(1));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<boost::json::value> json_arg(std::string_view flag, const std::string& arg) {
  auto text = text_arg(arg);
  if (!text) return std::move(text).error();
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  if (ec) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} must be JSON (inline or @FILE): {}", flag, ec.message()));
  }
  return v;
}

Result<boost::json::object> spec_arg(const std::string& arg) {
  if (arg.empty()) return boost::json::object{};
  auto v = json_arg("--spec", arg);
  if (!v) return std::move(v).error();
  if (!v->is_object()) {
    return make_error(Errc::invalid_argument, "--spec must be a JSON object (inline or @FILE)");
  }
  return std::move(v->as_object());
}

}  // namespace eddy::cli
