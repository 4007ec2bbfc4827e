#include "functions/pool.h"

#include <algorithm>

namespace eddy::functions {

Pool::Pool(int64_t version, PoolLimits limits) : version_(version), limits_(limits) {}

size_t Pool::count(State st, bool current_only) const {
  size_t n = 0;
  for (const auto& [id, s] : instances_) {
    if (s.state == st && (!current_only || s.version == version_)) ++n;
  }
  return n;
}

PoolCounts Pool::counts() const {
  return PoolCounts{count(State::starting), count(State::idle), count(State::busy),
                    waiting_sync_.size(), waiting_async_.size()};
}

void Pool::become_idle(InstanceId id, Slot& s, PoolActions& out) {
  s.state = State::idle;
  s.ever_ready = true;
  s.last_used = ++use_counter_;
  ++s.generation;
  out.push_back(PoolAction{PoolAction::Kind::arm_idle, id, 0, s.version, s.generation,
                           limits_.idle_timeout_ms});
}

void Pool::pump(PoolActions& out) {
  // Superseded idle instances stop at once.
  for (auto& [id, s] : instances_) {
    if (s.state == State::idle && (s.version != version_ || draining_)) {
      s.state = State::stopping;
      out.push_back(PoolAction{PoolAction::Kind::stop, id, 0, s.version});
    }
  }
  // Waiting jobs take the most recently used idle instance of the current version, on
  // their own io thread if one is idle there.
  while (!waiting_sync_.empty() || !waiting_async_.empty()) {
    auto& queue = waiting_sync_.empty() ? waiting_async_ : waiting_sync_;
    Waiting w = queue.front();
    Slot *best = nullptr, *best_home = nullptr;
    InstanceId best_id = 0, best_home_id = 0;
    for (auto& [id, s] : instances_) {
      if (s.state != State::idle || s.version != version_) continue;
      if (!best || s.last_used > best->last_used) {
        best = &s;
        best_id = id;
      }
      if (s.home == w.home && (!best_home || s.last_used > best_home->last_used)) {
        best_home = &s;
        best_home_id = id;
      }
    }
    if (best_home) {
      best = best_home;
      best_id = best_home_id;
    }
    if (!best) break;
    queue.pop_front();
    best->state = State::busy;
    out.push_back(PoolAction{PoolAction::Kind::dispatch, best_id, w.job, best->version});
    int& streak = remote_streak_[w.home];
    streak = best_home ? 0 : streak + 1;
    if (streak >= kAffinityStreak && !draining_ && !has_instance_on(w.home) &&
        below_max_concurrency()) {
      streak = 0;
      start(w.home, out);
    }
  }
  if (draining_) return;
  // Start instances for jobs that no starting instance will serve, then for min_instances.
  // On the io thread of the newest waiting job: the one that asked for more.
  auto& newest = waiting_sync_.empty() ? waiting_async_ : waiting_sync_;
  size_t waiting = waiting_sync_.size() + waiting_async_.size();
  while (waiting > count(State::starting, true) && below_max_concurrency()) {
    start(newest.back().home, out);
  }
  while (count(State::starting, true) + count(State::idle, true) + count(State::busy, true) <
             static_cast<size_t>(limits_.min_instances) &&
         below_max_concurrency()) {
    start(kAnyHome, out);
  }
}

void Pool::start(unsigned home, PoolActions& out) {
  InstanceId id = next_instance_++;
  Slot s{State::starting, version_};
  s.home = s.asked_home = home;
  instances_.emplace(id, s);
  PoolAction a{PoolAction::Kind::start, id, 0, version_};
  a.home = home;
  out.push_back(a);
}

bool Pool::below_max_concurrency() const {
  return count(State::starting) + count(State::idle) + count(State::busy) <
         static_cast<size_t>(limits_.max_concurrency);
}

bool Pool::has_instance_on(unsigned home) const {
  for (const auto& [id, s] : instances_) {
    if (s.state != State::stopping && (s.home == home || s.asked_home == home)) return true;
  }
  return false;
}

PoolActions Pool::set_version(int64_t version, PoolLimits limits) {
  version_ = version;
  limits_ = limits;
  PoolActions out;
  pump(out);
  return out;
}

std::optional<PoolActions> Pool::submit(JobId job, bool sync, unsigned home) {
  if (sync && !draining_ &&
      count(State::busy) + waiting_sync_.size() >= static_cast<size_t>(limits_.max_concurrency)) {
    return std::nullopt;
  }
  (sync ? waiting_sync_ : waiting_async_).push_back(Waiting{job, home});
  PoolActions out;
  pump(out);
  return out;
}

bool Pool::withdraw(JobId job) {
  for (auto* q : {&waiting_sync_, &waiting_async_}) {
    auto it = std::find_if(q->begin(), q->end(), [job](const Waiting& w) { return w.job == job; });
    if (it != q->end()) {
      q->erase(it);
      return true;
    }
  }
  return false;
}

PoolActions Pool::instance_ready(InstanceId id, unsigned home) {
  PoolActions out;
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.state != State::starting) return out;
  it->second.home = home;
  become_idle(id, it->second, out);
  pump(out);
  return out;
}

PoolActions Pool::job_finished(InstanceId id) {
  PoolActions out;
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.state != State::busy) return out;
  become_idle(id, it->second, out);
  pump(out);
  return out;
}

PoolActions Pool::instance_exited(InstanceId id) {
  PoolActions out;
  auto it = instances_.find(id);
  if (it == instances_.end()) return out;
  bool failed_init = !it->second.ever_ready && it->second.state == State::starting;
  instances_.erase(it);
  if (failed_init) {
    auto& queue = waiting_sync_.empty() ? waiting_async_ : waiting_sync_;
    if (!queue.empty()) {
      out.push_back(PoolAction{PoolAction::Kind::fail_job, id, queue.front().job, version_});
      queue.pop_front();
    }
  }
  pump(out);
  return out;
}

PoolActions Pool::idle_expired(InstanceId id, uint64_t generation) {
  PoolActions out;
  auto it = instances_.find(id);
  if (it == instances_.end() || it->second.state != State::idle ||
      it->second.generation != generation) {
    return out;
  }
  size_t current =
      count(State::starting, true) + count(State::idle, true) + count(State::busy, true);
  if (it->second.version == version_ && current <= static_cast<size_t>(limits_.min_instances)) {
    return out;
  }
  it->second.state = State::stopping;
  out.push_back(PoolAction{PoolAction::Kind::stop, id, 0, it->second.version});
  return out;
}

PoolActions Pool::drain() {
  draining_ = true;
  PoolActions out;
  pump(out);
  return out;
}

}  // namespace eddy::functions
