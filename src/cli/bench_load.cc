#include "cli/bench_load.h"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace eddy::cli {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::optional<ResponseHead>> parse_head(std::string_view buf) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::optional<ResponseHead>();
  ResponseHead head;
  head.head_bytes = end + 4;
  std::string_view h = buf.substr(0, end);
  if (h.size() < 12 || !h.starts_with("HTTP/1.")) {
    return make_error(Errc::internal, "the server's reply is not HTTP/1.x");
  }
  std::from_chars(h.data() + 9, h.data() + 12, head.status);
  bool has_length = false;
  size_t pos = h.find("\r\n");
  while (pos != std::string_view::npos && pos < h.size()) {
    size_t next = h.find("\r\n", pos + 2);
    std::string_view line =
        h.substr(pos + 2, (next == std::string_view::npos ? h.size() : next) - pos - 2);
    constexpr std::string_view kName = "content-length:";
    if (line.size() > kName.size() &&
        std::equal(kName.begin(), kName.end(), line.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      std::from_chars(v.data(), v.data() + v.size(), head.content_length);
      has_length = true;
    }
    pos = next;
  }
  if (!has_length) return make_error(Errc::internal, "the server's reply has no Content-Length");
  return std::optional<ResponseHead>(head);
}

LoadConnection::LoadConnection(asio::io_context& io, LoadPlan& plan, LoadStats& stats,
                               std::string request)
    : socket_(io), plan_(plan), stats_(stats), request_(std::move(request)), buf_(16 * 1024) {}

void LoadConnection::start() {
  socket_.async_connect(plan_.address, [this](boost::system::error_code ec) {
    if (ec) return fail(fmt::format("connect: {}", ec.message()));
    socket_.set_option(tcp::no_delay(true), ec);
    send();
  });
}

void LoadConnection::send() {
  sent_at_ = BenchClock::now();
  have_ = 0;
  head_.reset();
  asio::async_write(socket_, asio::buffer(request_), [this](boost::system::error_code ec, size_t) {
    if (ec) return fail(fmt::format("write: {}", ec.message()));
    read();
  });
}

void LoadConnection::read() {
  if (have_ == buf_.size()) buf_.resize(buf_.size() * 2);
  socket_.async_read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_),
                          [this](boost::system::error_code ec, size_t n) {
                            if (ec) return fail(fmt::format("read: {}", ec.message()));
                            have_ += n;
                            on_data();
                          });
}

void LoadConnection::on_data() {
  if (!head_) {
    auto h = parse_head(std::string_view(buf_.data(), have_));
    if (!h) return fail(h.error().message);
    if (!*h) return read();
    head_ = **h;
  }
  if (have_ < head_->head_bytes + head_->content_length) return read();
  auto done = BenchClock::now();
  if (sent_at_ >= plan_.measure_start && done < plan_.deadline) {
    if (head_->status >= 200 && head_->status < 300) {
      stats_.latencies_ns.push_back(ns_between(sent_at_, done));
      stats_.last_done = done;
      if (plan_.max_requests > 0 && ++plan_.measured >= plan_.max_requests) {
        plan_.limit_reached = true;
      }
    } else {
      record_error(
          fmt::format("HTTP {}: {}", head_->status,
                      std::string_view(buf_.data() + head_->head_bytes, head_->content_length)));
    }
  }
  if (done >= plan_.deadline || plan_.limit_reached) {
    boost::system::error_code ec;
    socket_.close(ec);
    return;
  }
  send();
}

void LoadConnection::record_error(std::string message) {
  if (stats_.errors++ == 0) stats_.first_error = std::move(message);
}

void LoadConnection::fail(std::string message) {
  record_error(std::move(message));
  boost::system::error_code ec;
  socket_.close(ec);
}

LoadRun run_load(const tcp::endpoint& address, const std::string& request, int requests,
                 int connections, std::chrono::milliseconds limit) {
  asio::io_context io(1);
  LoadPlan plan;
  plan.address = address;
  plan.max_requests = requests;
  plan.measure_start = BenchClock::now();
  plan.deadline = plan.measure_start + limit;
  LoadStats stats;
  std::vector<std::unique_ptr<LoadConnection>> conns;
  for (int c = 0; c < connections; ++c) {
    conns.push_back(std::make_unique<LoadConnection>(io, plan, stats, request));
    conns.back()->start();
  }
  io.run();
  LoadRun r;
  r.latencies_ns = std::move(stats.latencies_ns);
  std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
  r.errors = stats.errors;
  r.first_error = std::move(stats.first_error);
  auto end = r.latencies_ns.empty() ? BenchClock::now() : stats.last_done;
  r.seconds = static_cast<double>(ns_between(plan.measure_start, end)) / 1e9;
  return r;
}

}  // namespace eddy::cli
