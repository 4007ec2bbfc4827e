#include <algorithm>

#include "log/flusher_impl.h"

namespace eddy::log {

using Clock = std::chrono::steady_clock;

Flusher::Flusher() : impl_(std::make_unique<Impl>()) {}
Flusher::~Flusher() = default;

Flusher::Impl::Impl() : thread_([this] { run(); }) {}

Flusher::Impl::~Impl() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
  // Partitions normally close (and sync) before the flusher goes; sync any still here.
  std::vector<FlushTarget*> left;
  {
    std::lock_guard lk(mu_);
    for (auto& [t, e] : targets_) left.push_back(t);
  }
  for (FlushTarget* t : left) t->flush();
}

void Flusher::Impl::add(FlushTarget* target, std::optional<std::chrono::milliseconds> interval) {
  {
    std::lock_guard lk(mu_);
    Entry& e = targets_[target];  // a second add changes the schedule, keeps the queue
    e.interval = interval;
    if (interval) e.due = Clock::now() + *interval;
  }
  work_cv_.notify_all();
}

void Flusher::Impl::remove(FlushTarget* target) {
  std::unique_lock lk(mu_);
  targets_.erase(target);
  std::erase(queue_, target);
  // On the flusher thread (a completion callback let go of the last owner) the flush in
  // progress is up this very stack: it touches nothing after its callbacks, so go on.
  if (std::this_thread::get_id() == thread_.get_id()) return;
  idle_cv_.wait(lk, [&] { return current_ != target; });
}

void Flusher::Impl::request(FlushTarget* target) {
  std::unique_lock lk(mu_);
  auto it = targets_.find(target);
  if (it == targets_.end() || it->second.queued) return;
  it->second.queued = true;
  queue_.push_back(target);
  lk.unlock();
  work_cv_.notify_one();
}

void Flusher::Impl::run() {
  std::unique_lock lk(mu_);
  std::vector<FlushTarget*> work;
  while (true) {
    work.clear();
    work.swap(queue_);
    for (FlushTarget* t : work) targets_[t].queued = false;
    auto now = Clock::now();
    auto next_due = Clock::time_point::max();
    for (auto& [t, e] : targets_) {
      if (!e.interval) continue;
      if (e.due <= now) {
        if (std::find(work.begin(), work.end(), t) == work.end()) work.push_back(t);
        e.due = now + *e.interval;
      }
      next_due = std::min(next_due, e.due);
    }
    if (work.empty()) {
      if (stop_) return;
      if (next_due == Clock::time_point::max()) {
        work_cv_.wait(lk);
      } else {
        work_cv_.wait_until(lk, next_due);
      }
      continue;
    }
    for (FlushTarget* t : work) {
      if (!targets_.contains(t)) continue;  // removed while queued
      current_ = t;
      lk.unlock();
      t->flush();
      lk.lock();
      current_ = nullptr;
      idle_cv_.notify_all();
    }
  }
}

}  // namespace eddy::log
