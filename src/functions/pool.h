// Pool: the scheduling decisions for one function's instances, as a state machine without
// I/O, so they can be tested alone. The FunctionManager feeds it what happened (a job was
// submitted, an instance became ready, finished a job, died, sat idle too long) and carries
// out the Actions it returns: start an instance, hand a job to an instance, stop one, arm
// an idle timer, fail a job whose instance could not start.
//
// Rules:
// - One job per instance at a time. Jobs wait in two FIFO queues, sync before async.
// - A waiting job gets the most recently used idle instance of the current version (so
//   surplus instances stay idle and time out: scale-down works under steady load), one on
//   the job's own io thread (`home`) if there is one, so that the request and the process
//   serving it are handled by one thread. When kAffinityStreak jobs in a row from one io
//   thread were served by instances of other threads and no instance lives there, one is
//   started there (within max_concurrency); the others then idle out if nothing uses them.
// - Instances are started while jobs wait for more instances than are starting, up to
//   max_concurrency live instances; at least min_instances of the current version are kept.
// - A sync submit is throttled when busy instances + waiting sync jobs reach
//   max_concurrency. Async jobs are never throttled: they wait.
// - An instance idle for idle_timeout_ms stops, unless that would leave fewer than
//   min_instances. An idle function therefore has no instance.
// - A new version: idle instances of older versions stop now, busy ones when their job
//   ends; waiting jobs and new submits go to the new version. Nothing is dropped.
// - An instance that dies before it ever became ready fails the oldest waiting job (its
//   init error is that job's answer), so a function that cannot start does not loop.
//
// Threading: not thread-safe; the owner serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace eddy::functions {

using InstanceId = uint64_t;
using JobId = uint64_t;

constexpr unsigned kAnyHome = ~0u;  // start the instance on whichever io thread is next
constexpr int kAffinityStreak = 8;

struct PoolLimits {
  int64_t max_concurrency = 8;
  int64_t min_instances = 0;
  int64_t idle_timeout_ms = 60000;
};

struct PoolAction {
  enum class Kind {
    start,     // start `instance` for `version`
    dispatch,  // give `job` to `instance`
    stop,      // stop `instance` (it is idle or superseded)
    arm_idle,  // call idle_expired(instance, generation) after `delay_ms`
    fail_job,  // `job` cannot run: `instance` (which was started for it) died during init
  };
  Kind kind;
  InstanceId instance = 0;
  JobId job = 0;
  int64_t version = 0;
  uint64_t generation = 0;
  int64_t delay_ms = 0;
  unsigned home = kAnyHome;  // start: the io thread to start it on
};

using PoolActions = std::vector<PoolAction>;

struct PoolCounts {
  size_t starting = 0, idle = 0, busy = 0;
  size_t waiting_sync = 0, waiting_async = 0;
  size_t live() const { return starting + idle + busy; }
};

class Pool {
 public:
  Pool(int64_t version, PoolLimits limits);

  // Switches to a new version (and limits).
  PoolActions set_version(int64_t version, PoolLimits limits);

  // Queues a job submitted on io thread `home`. Returns nullopt when a sync job is throttled
  // (nothing changed).
  std::optional<PoolActions> submit(JobId job, bool sync, unsigned home = 0);
  // Removes a job that has not been dispatched yet (its caller gave up). False if it was
  // not waiting.
  bool withdraw(JobId job);

  // The instance finished starting and asks for work; its I/O runs on io thread `home`.
  PoolActions instance_ready(InstanceId id, unsigned home = 0);
  // The instance's job completed; it is ready for another.
  PoolActions job_finished(InstanceId id);
  // The instance is gone (crashed, killed, stopped). The owner has already answered the
  // job it was running, if any.
  PoolActions instance_exited(InstanceId id);
  // An idle timer armed by arm_idle fired.
  PoolActions idle_expired(InstanceId id, uint64_t generation);
  // Stops every idle instance and starts nothing more (the function is being deleted or
  // the server is stopping). Returns the stops.
  PoolActions drain();

  PoolCounts counts() const;
  int64_t version() const { return version_; }
  const PoolLimits& limits() const { return limits_; }

 private:
  enum class State { starting, idle, busy, stopping };
  struct Slot {
    State state = State::starting;
    int64_t version = 0;
    uint64_t generation = 0;   // bumped each time the instance becomes idle
    uint64_t last_used = 0;    // order of becoming idle, for most-recently-used choice
    unsigned home = kAnyHome;  // where it was asked to start, then where it runs
    unsigned asked_home = kAnyHome;
    bool ever_ready = false;
  };
  struct Waiting {
    JobId job;
    unsigned home;
  };

  void pump(PoolActions& out);
  void start(unsigned home, PoolActions& out);
  bool has_instance_on(unsigned home) const;
  bool below_max_concurrency() const;  // counting every live instance, of any version
  void become_idle(InstanceId id, Slot& s, PoolActions& out);
  size_t count(State st, bool current_only = false) const;

  int64_t version_;
  PoolLimits limits_;
  bool draining_ = false;
  InstanceId next_instance_ = 1;
  uint64_t use_counter_ = 0;
  std::map<InstanceId, Slot> instances_;
  std::map<unsigned, int> remote_streak_;  // per home: jobs served elsewhere in a row
  std::deque<Waiting> waiting_sync_, waiting_async_;
};

}  // namespace eddy::functions
