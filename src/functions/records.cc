#include "functions/records.h"

#include <algorithm>

#include "common/rfc3339.h"

namespace eddy::functions {
namespace json = boost::json;

FunctionRecords::FunctionRecords(size_t log_capacity, size_t invocation_capacity)
    : log_capacity_(log_capacity), invocation_capacity_(invocation_capacity) {}

void FunctionRecords::add_log(int64_t time_ms, std::string request_id, std::string stream,
                              std::string message) {
  std::lock_guard lock(mu_);
  logs_.push_back(LogLine{next_log_seq_++, time_ms, std::move(request_id), std::move(stream),
                          std::move(message)});
  while (logs_.size() > log_capacity_) logs_.pop_front();
}

void FunctionRecords::add_invocation(InvocationRecord r) {
  std::lock_guard lock(mu_);
  r.seq = next_invocation_seq_++;
  usage_.requests++;
  if (r.status != "success") usage_.errors++;
  usage_.billed_ms += r.billed_ms;
  usage_.gb_seconds += double(r.memory_mb) / 1024.0 * double(r.billed_ms) / 1000.0;
  invocations_.push_back(std::move(r));
  while (invocations_.size() > invocation_capacity_) invocations_.pop_front();
}

std::vector<LogLine> FunctionRecords::logs(uint64_t after, size_t limit,
                                           const std::string& request_id) const {
  std::lock_guard lock(mu_);
  std::vector<LogLine> out;
  auto it = std::upper_bound(logs_.begin(), logs_.end(), after,
                             [](uint64_t a, const LogLine& l) { return a < l.seq; });
  for (; it != logs_.end() && out.size() < limit; ++it) {
    if (request_id.empty() || it->request_id == request_id) out.push_back(*it);
  }
  return out;
}

std::string FunctionRecords::log_tail(const std::string& request_id, size_t max_bytes) const {
  std::lock_guard lock(mu_);
  std::string out;
  for (auto it = logs_.rbegin(); it != logs_.rend() && out.size() < max_bytes; ++it) {
    if (it->request_id != request_id) continue;
    out.insert(0, it->message + "\n");
  }
  if (out.size() > max_bytes) out.erase(0, out.size() - max_bytes);
  return out;
}

std::vector<InvocationRecord> FunctionRecords::invocations(uint64_t before, size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<InvocationRecord> out;
  for (auto it = invocations_.rbegin(); it != invocations_.rend() && out.size() < limit; ++it) {
    if (before == 0 || it->seq < before) out.push_back(*it);
  }
  return out;
}

Usage FunctionRecords::usage() const {
  std::lock_guard lock(mu_);
  return usage_;
}

void FunctionRecords::restore_usage(const Usage& u) {
  std::lock_guard lock(mu_);
  usage_ = u;
}

json::object to_json(const LogLine& l) {
  std::string time;
  append_rfc3339_ms(time, l.time_ms);
  return json::object{{"seq", l.seq},
                      {"request_id", l.request_id},
                      {"time", time},
                      {"stream", l.stream},
                      {"message", l.message}};
}

json::object to_json(const InvocationRecord& r) {
  std::string start;
  append_rfc3339_ms(start, r.start_ms);
  json::object o{{"seq", r.seq},
                 {"request_id", r.request_id},
                 {"start", start},
                 {"duration_ms", r.duration_ms},
                 {"billed_ms", r.billed_ms},
                 {"init_ms", r.init_ms ? json::value(*r.init_ms) : json::value(nullptr)},
                 {"max_rss_kb", r.max_rss_kb},
                 {"memory_mb", r.memory_mb},
                 {"version", r.version},
                 {"status", r.status},
                 {"error", r.error.empty() ? json::value(nullptr) : json::value(r.error)},
                 {"async", r.async},
                 {"attempt", r.attempt}};
  return o;
}

json::object to_json(const Usage& u) {
  return json::object{{"requests", u.requests},
                      {"errors", u.errors},
                      {"billed_ms", u.billed_ms},
                      {"gb_seconds", u.gb_seconds}};
}

Usage usage_from_json(const json::object& o) {
  Usage u;
  auto num = [&](const char* k) -> double {
    auto it = o.find(k);
    if (it == o.end()) return 0;
    return it->value().is_number() ? it->value().to_number<double>() : 0;
  };
  u.requests = static_cast<uint64_t>(num("requests"));
  u.errors = static_cast<uint64_t>(num("errors"));
  u.billed_ms = static_cast<int64_t>(num("billed_ms"));
  u.gb_seconds = num("gb_seconds");
  return u;
}

}  // namespace eddy::functions
