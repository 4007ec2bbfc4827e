#include "bus/push_client.h"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <mutex>

namespace eddy::bus {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxIdle = 64;
constexpr size_t kMaxResponseBody = 1u << 20;
const auto kAwait = asio::as_tuple(asio::use_awaitable);

struct Connection {
  explicit Connection(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

class PushClientImpl final : public PushClient,
                             public std::enable_shared_from_this<PushClientImpl> {
 public:
  PushClientImpl(asio::io_context& io, std::string host, std::string port, std::string target)
      : io_(io), host_(std::move(host)), port_(std::move(port)), target_(std::move(target)) {
    host_header_ = port_ == "80" ? host_ : host_ + ":" + port_;
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
        conn = std::make_unique<Connection>(self->io_);
        tcp::resolver resolver(self->io_);
        auto [rec, endpoints] = co_await resolver.async_resolve(self->host_, self->port_, kAwait);
        if (rec) {
          co_return PushResponse{
              0, fmt::format("cannot resolve {}: {}", self->host_, rec.message()), {}};
        }
        conn->stream.expires_at(deadline);
        auto [cec, ep] = co_await conn->stream.async_connect(endpoints, kAwait);
        if (cec == beast::error::timeout) co_return timed_out();
        if (cec) {
          co_return PushResponse{
              0, fmt::format("cannot connect to {}: {}", self->where(), cec.message()), {}};
        }
      }
      conn->stream.expires_at(deadline);
      auto [wec, written] = co_await http::async_write(conn->stream, req, kAwait);
      (void)written;
      if (wec) {
        if (wec == beast::error::timeout) co_return timed_out();
        if (reused) continue;
        co_return PushResponse{
            0, fmt::format("sending to {} failed: {}", self->where(), wec.message()), {}};
      }
      http::response_parser<http::string_body> parser;
      parser.body_limit(kMaxResponseBody);
      auto [rec, read] = co_await http::async_read(conn->stream, conn->buffer, parser, kAwait);
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
        conn->stream.expires_never();
        self->give_back(std::move(conn));
      }
      co_return out;
    }
    co_return PushResponse{
        0, fmt::format("{} closed the connection without answering", self->where()), {}};
  }

  asio::io_context& io_;
  std::string host_, port_, target_, host_header_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace

Result<std::shared_ptr<PushClient>> PushClient::create(asio::io_context& io, std::string_view url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u || u->scheme() != "http" || u->host().empty()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("push URL '{}' is not an absolute http:// URL with a host", url));
  }
  std::string host = u->host_address();
  std::string port = u->has_port() ? std::string(u->port()) : "80";
  std::string target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) target += "?" + std::string(u->encoded_query());
  return std::shared_ptr<PushClient>(
      std::make_shared<PushClientImpl>(io, std::move(host), std::move(port), std::move(target)));
}

}  // namespace eddy::bus
