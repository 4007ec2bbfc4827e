#include "sources/webhooks/replay_guard.h"

namespace eddy::sources::webhooks {

namespace {
constexpr int64_t kInFlight = -1;
}

std::string ReplayGuard::key(std::string_view hook, std::string_view id) {
  std::string k;
  k.reserve(hook.size() + 1 + id.size());
  k.append(hook).push_back('\0');
  k.append(id);
  return k;
}

void ReplayGuard::prune(int64_t now_ms) {
  while (!expiries_.empty() &&
         (expiries_.front().first <= now_ms || entries_.size() > max_entries_)) {
    auto& [expires, k] = expiries_.front();
    auto it = entries_.find(k);
    // Only the entry this record was written for: an id re-remembered later has a newer
    // record further back in the queue.
    if (it != entries_.end() && it->second == expires) entries_.erase(it);
    expiries_.pop_front();
  }
}

ReplayGuard::Claim ReplayGuard::claim(std::string_view hook, std::string_view id, int64_t now_ms) {
  std::lock_guard lock(mu_);
  prune(now_ms);
  auto [it, inserted] = entries_.try_emplace(key(hook, id), kInFlight);
  if (inserted) return Claim::fresh;
  if (it->second == kInFlight) return Claim::in_flight;
  if (it->second <= now_ms) {  // expired but not pruned yet
    it->second = kInFlight;
    return Claim::fresh;
  }
  return Claim::duplicate;
}

void ReplayGuard::settle(std::string_view hook, std::string_view id, bool accepted, int64_t now_ms,
                         int64_t window_ms) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key(hook, id));
  if (it == entries_.end() || it->second != kInFlight) return;
  if (!accepted) {
    entries_.erase(it);
    return;
  }
  it->second = now_ms + window_ms;
  expiries_.emplace_back(it->second, it->first);
  prune(now_ms);
}

void ReplayGuard::remember(std::string_view hook, std::string_view id, int64_t expires_ms) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key(hook, id), expires_ms);
  if (!inserted) {
    if (it->second == kInFlight || it->second >= expires_ms) return;
    it->second = expires_ms;
  }
  expiries_.emplace_back(expires_ms, it->first);
}

void ReplayGuard::forget(std::string_view hook) {
  std::lock_guard lock(mu_);
  std::string prefix = key(hook, "");
  for (auto it = entries_.begin(); it != entries_.end();) {
    // In-flight claims stay: their owner settles them.
    if (it->first.starts_with(prefix) && it->second != kInFlight) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t ReplayGuard::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace eddy::sources::webhooks
