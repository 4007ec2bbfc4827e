#include "gateway/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <list>
#include <mutex>

namespace eddy::gateway {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

struct Connection {
  explicit Connection(tcp::socket s, std::string p) : stream(std::move(s)), peer(std::move(p)) {}
  beast::tcp_stream stream;
  const std::string peer;  // the client's IP address
  bool busy = false;       // only touched on the connection's strand
};

void count_status(ServerCounters& c, unsigned status) {
  if (status < 300) {
    c.responses_2xx.fetch_add(1, std::memory_order_relaxed);
  } else if (status < 500) {
    c.responses_4xx.fetch_add(1, std::memory_order_relaxed);
  } else {
    c.responses_5xx.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace

struct HttpServer::Impl {
  IoThreads& io;
  ServerOptions options;
  Handler handler;
  ServerCounters& counters;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::list<std::weak_ptr<Connection>> connections;

  Impl(IoThreads& io_, ServerOptions o, Handler h, ServerCounters& c)
      : io(io_), options(std::move(o)), handler(std::move(h)), counters(c), acceptor(io_.main()) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor.async_accept(asio::make_strand(io.at(io.next())), kTuple);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto remote = socket.remote_endpoint(ec);
      auto conn = std::make_shared<Connection>(std::move(socket),
                                               ec ? std::string() : remote.address().to_string());
      {
        std::lock_guard lock(mu);
        connections.remove_if([](const auto& w) { return w.expired(); });
        connections.push_back(conn);
      }
      counters.connections_open.fetch_add(1);
      auto ex = conn->stream.get_executor();
      asio::co_spawn(ex, session(conn), [this](std::exception_ptr e) {
        counters.connections_open.fetch_sub(1);
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("connection ended by an exception: {}", ex.what());
          }
        }
      });
    }
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
    beast::flat_buffer buffer;
    auto& stream = conn->stream;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_request_bytes);
      parser.header_limit(64 * 1024);
      stream.expires_after(options.idle_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (ec) {
        if (ec == http::error::body_limit) {
          Response res = error_reply(
              Errc::too_large,
              fmt::format("request body is over the {} byte limit", options.max_request_bytes));
          co_await write(conn, res, false);
        } else if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
                   ec != beast::error::timeout && ec != asio::error::eof &&
                   ec != asio::error::connection_reset &&
                   ec.category() == http::make_error_code(http::error::bad_method).category()) {
          Response res = error_reply(Errc::invalid_argument,
                                     fmt::format("malformed HTTP request: {}", ec.message()));
          co_await write(conn, res, false);
        }
        break;
      }
      conn->busy = true;
      counters.requests.fetch_add(1, std::memory_order_relaxed);
      counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
      Request req = parser.release();
      bool keep_alive = req.keep_alive();
      Response res;
      try {
        res = co_await handler(req, conn->peer);
      } catch (const std::exception& e) {
        spdlog::error("handler for {} {} threw: {}", std::string_view(req.method_string()),
                      std::string_view(req.target()), e.what());
        res = error_reply(Errc::internal, "internal error; see the server log");
      }
      keep_alive = keep_alive && !stopping;
      if (!co_await write(conn, res, keep_alive)) break;
      conn->busy = false;
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
  }

  asio::awaitable<bool> write(const std::shared_ptr<Connection>& conn, Response& res,
                              bool keep_alive) {
    res.keep_alive(keep_alive);
    res.prepare_payload();
    count_status(counters, res.result_int());
    conn->stream.expires_after(options.idle_timeout);
    auto [ec, n] = co_await http::async_write(conn->stream, res, kTuple);
    counters.bytes_out.fetch_add(n, std::memory_order_relaxed);
    co_return !ec;
  }
};

HttpServer::HttpServer(IoThreads& io, ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(options), std::move(handler), counters_)) {}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::start() {
  const std::string& listen = impl_->options.listen;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return make_error(Errc::invalid_argument,
                      fmt::format("--listen '{}' must be HOST:PORT, e.g. 127.0.0.1:8400", listen));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  try {
    size_t used = 0;
    port = static_cast<unsigned>(std::stoul(listen.substr(colon + 1), &used));
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument,
                      fmt::format("--listen '{}': the port must be a number 0-65535", listen));
  }
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    tcp::resolver resolver(impl_->io.main());
    auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty()) {
      return make_error(Errc::invalid_argument,
                        fmt::format("--listen '{}': cannot resolve host '{}'", listen, host));
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::unavailable,
                      fmt::format("cannot listen on {}: {}", listen, ec.message()));
  }
  uint16_t bound = acc.local_endpoint().port();
  asio::co_spawn(impl_->io.main(), impl_->accept_loop(), asio::detached);
  return bound;
}

void HttpServer::stop() {
  auto& im = *impl_;
  if (im.stopping.exchange(true)) return;
  asio::post(im.acceptor.get_executor(), [&im] {
    boost::system::error_code ec;
    im.acceptor.close(ec);
  });
  std::lock_guard lock(im.mu);
  for (auto& w : im.connections) {
    if (auto conn = w.lock()) {
      asio::post(conn->stream.get_executor(), [conn] {
        // The session may have closed its socket already; that is not an error here.
        boost::system::error_code ignored;
        if (!conn->busy) conn->stream.socket().cancel(ignored);
      });
    }
  }
}

}  // namespace eddy::gateway
