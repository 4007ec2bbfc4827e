// IoThreads: the server's io threads, each running an io_context of its own. A connection,
// a subscription or a function instance lives on one of them, so the work of one request
// normally stays on the thread that read it: no handing the reactor between threads and no
// futex wake-ups per request (one io_context shared by several threads costs both).
//
// at(0) is the main context: signals, timers and managers' housekeeping run there. The
// others only carry what is placed on them; a handler posted to any context from any
// thread runs on that context's thread.
//
// Threading: size(), at(), next() and local() are thread-safe. start(), stop() and join()
// belong to the owner.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace eddy {

class IoThreads {
 public:
  // `n` contexts (at least one); 0 means one per core.
  explicit IoThreads(unsigned n);
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  unsigned size() const { return static_cast<unsigned>(contexts_.size()); }
  boost::asio::io_context& at(unsigned i) { return contexts_[i]->io; }
  boost::asio::io_context& main() { return at(0); }

  // The next context in turn: spreads connections, subscriptions and spare processes.
  unsigned next();
  // The calling thread's context when it is one of these io threads, else next().
  unsigned local();

  // Runs each context on a thread of its own until stop(). Contexts keep running when idle.
  void start();
  // Stops every context; handlers not run yet are dropped with their contexts.
  void stop();
  // Waits for the threads to end.
  void join();

 private:
  struct Context {
    boost::asio::io_context io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep{
        io.get_executor()};
  };
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<std::thread> threads_;
  std::atomic<unsigned> turn_{0};
};

}  // namespace eddy
