#include "bus/push_client.h"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <openssl/ssl.h>
#include <mutex>

namespace eddy::bus {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxIdle = 64;
constexpr size_t kMaxResponseBody = 1u << 20;
const auto kAwait = asio::as_tuple(asio::use_awaitable);

// One connection: plain TCP, or TLS over it for https:// endpoints.
struct Connection {
  Connection(asio::io_context& io, ssl::context* tls_context) {
    if (tls_context) {
      tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls_context);
    } else {
      plain = std::make_unique<beast::tcp_stream>(io);
    }
  }
  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }

  asio::awaitable<std::tuple<beast::error_code, size_t>> write(
      http::request<http::string_body>& req) {
    if (tls) return http::async_write(*tls, req, kAwait);
    return http::async_write(*plain, req, kAwait);
  }
  asio::awaitable<std::tuple<beast::error_code, size_t>> read(
      http::response_parser<http::string_body>& parser) {
    if (tls) return http::async_read(*tls, buffer, parser, kAwait);
    return http::async_read(*plain, buffer, parser, kAwait);
  }

  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
};

class PushClientImpl final : public PushClient,
                             public std::enable_shared_from_this<PushClientImpl> {
 public:
  PushClientImpl(asio::io_context& io, std::string host, std::string port, std::string target,
                 std::unique_ptr<ssl::context> tls_context)
      : io_(io),
        host_(std::move(host)),
        port_(std::move(port)),
        target_(std::move(target)),
        tls_context_(std::move(tls_context)) {
    host_header_ = port_ == (tls_context_ ? "443" : "80") ? host_ : host_ + ":" + port_;
  }

  void post(PushRequest request, std::function<void(PushResponse)> done) override {
    asio::co_spawn(io_, run(shared_from_this(), std::move(request)),
                   [done = std::move(done)](std::exception_ptr e, PushResponse r) {
                     if (e) r = PushResponse{0, "internal error in the push client", {}};
                     done(std::move(r));
                   });
  }

  void close() override {
    std::lock_guard lock(mu_);
    idle_.clear();
  }

 private:
  std::unique_ptr<Connection> take_idle() {
    std::lock_guard lock(mu_);
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }

  void give_back(std::unique_ptr<Connection> c) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
  }

  std::string where() const { return fmt::format("{}:{}", host_, port_); }

  static asio::awaitable<PushResponse> run(std::shared_ptr<PushClientImpl> self,
                                           PushRequest request) {
    http::request<http::string_body> req{http::verb::post, self->target_, 11};
    req.set(http::field::host, self->host_header_);
    req.set(http::field::user_agent, "eddy");
    if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
    for (const auto& [k, v] : request.headers) req.set(k, v);
    req.body() = std::move(request.body);
    req.prepare_payload();
    req.keep_alive(true);

    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    auto timed_out = [&] {
      return PushResponse{
          0,
          fmt::format("no answer from {} within {} ms", self->where(), request.timeout.count()),
          {}};
    };
    // A kept-alive connection may have been closed by the server meanwhile: when sending on
    // one fails before any answer, try once more on a fresh connection.
    for (int round = 0; round < 2; ++round) {
      auto conn = round == 0 ? self->take_idle() : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        conn = std::make_unique<Connection>(self->io_, self->tls_context_.get());
        tcp::resolver resolver(self->io_);
        auto [rec, endpoints] = co_await resolver.async_resolve(self->host_, self->port_, kAwait);
        if (rec) {
          co_return PushResponse{
              0, fmt::format("cannot resolve {}: {}", self->host_, rec.message()), {}};
        }
        conn->tcp().expires_at(deadline);
        auto [cec, ep] = co_await conn->tcp().async_connect(endpoints, kAwait);
        if (cec == beast::error::timeout) co_return timed_out();
        if (cec) {
          co_return PushResponse{
              0, fmt::format("cannot connect to {}: {}", self->where(), cec.message()), {}};
        }
        if (conn->tls) {
          if (auto failed = co_await handshake(*conn->tls, self->host_)) {
            co_return PushResponse{
                0, fmt::format("TLS with {} failed: {}", self->where(), *failed), {}};
          }
        }
      }
      conn->tcp().expires_at(deadline);
      auto [wec, written] = co_await conn->write(req);
      (void)written;
      if (wec) {
        if (wec == beast::error::timeout) co_return timed_out();
        if (reused) continue;
        co_return PushResponse{
            0, fmt::format("sending to {} failed: {}", self->where(), wec.message()), {}};
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBody);
      auto [rec, read] = co_await conn->read(parser);
      (void)read;
      if (rec == beast::error::timeout) co_return timed_out();
      if (rec && !parser.is_header_done()) {
        if (reused && (rec == http::error::end_of_stream || rec == asio::error::connection_reset ||
                       rec == asio::error::eof)) {
          continue;
        }
        co_return PushResponse{
            0, fmt::format("no answer from {}: {}", self->where(), rec.message()), {}};
      }
      const auto& res = parser.get();
      PushResponse out;
      out.status = static_cast<int>(res.result_int());
      if (auto it = res.find(http::field::retry_after); it != res.end()) {
        out.retry_after = std::string(it->value());
      }
      if (out.status < 200 || out.status > 299) {
        std::string_view body = rec ? std::string_view() : std::string_view(res.body());
        out.error = fmt::format("{} answered HTTP {}{}{}", self->where(), out.status,
                                body.empty() ? "" : ": ", body.substr(0, 200));
      }
      if (!rec && res.keep_alive()) {
        conn->tcp().expires_never();
        self->give_back(std::move(conn));
      }
      co_return out;
    }
    co_return PushResponse{
        0, fmt::format("{} closed the connection without answering", self->where()), {}};
  }

  // Verifies the server's certificate (system trust store, or SSL_CERT_FILE / SSL_CERT_DIR)
  // and that it names `host`; sends `host` as SNI. What went wrong, or nothing.
  static asio::awaitable<std::optional<std::string>> handshake(
      beast::ssl_stream<beast::tcp_stream>& tls, const std::string& host) {
    boost::system::error_code ec;
    if (!SSL_set_tlsext_host_name(tls.native_handle(), host.c_str())) {
      co_return "cannot set the TLS server name";
    }
    tls.set_verify_callback(ssl::host_name_verification(host), ec);
    if (ec) co_return ec.message();
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kAwait);
    if (hec == beast::error::timeout) co_return "timed out";
    if (hec) co_return hec.message();
    co_return std::nullopt;
  }

  asio::io_context& io_;
  std::string host_, port_, target_, host_header_;
  std::unique_ptr<ssl::context> tls_context_;  // null for http://
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

Result<std::shared_ptr<PushClient>> PushClient::create(asio::io_context& io, std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  const bool https = u && u->scheme() == "https";
  if (!u || (u->scheme() != "http" && !https) || u->host().empty()) {
    return make_error(
        Errc::invalid_argument,
        fmt::format("push URL '{}' is not an absolute http:// or https:// URL with a host", url));
  }
  std::unique_ptr<ssl::context> tls_context;
  if (https) {
    tls_context = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    tls_context->set_default_verify_paths(ec);
    if (!ec) tls_context->set_verify_mode(ssl::verify_peer, ec);
    if (ec) {
      return make_error(Errc::internal,
                        fmt::format("cannot set up TLS for '{}': {}", url, ec.message()));
    }
  }
  std::string host = u->host_address();
  std::string port = u->has_port() ? std::string(u->port()) : (https ? "443" : "80");
  std::string target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) target += "?" + std::string(u->encoded_query());
  return std::shared_ptr<PushClient>(std::make_shared<PushClientImpl>(
      io, std::move(host), std::move(port), std::move(target), std::move(tls_context)));
}

}  // namespace eddy::bus
