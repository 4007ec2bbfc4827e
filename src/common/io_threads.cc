#include "common/io_threads.h"

#include <algorithm>

namespace eddy {
namespace {

// Which IoThreads, and which of its contexts, the calling thread runs (none: nullptr).
thread_local const IoThreads* tl_owner = nullptr;
thread_local unsigned tl_index = 0;

}  // namespace

IoThreads::IoThreads(unsigned n) {
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) contexts_.push_back(std::make_unique<Context>());
}

IoThreads::~IoThreads() {
  stop();
  join();
}

unsigned IoThreads::next() {
  return turn_.fetch_add(1, std::memory_order_relaxed) % size();
}

unsigned IoThreads::local() {
  return tl_owner == this ? tl_index : next();
}

void IoThreads::start() {
  for (unsigned i = 0; i < size(); ++i) {
    threads_.emplace_back([this, i] {
      tl_owner = this;
      tl_index = i;
      contexts_[i]->io.run();
      tl_owner = nullptr;
    });
  }
}

void IoThreads::stop() {
  for (auto& c : contexts_) {
    c->keep.reset();
    c->io.stop();
  }
}

void IoThreads::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace eddy
