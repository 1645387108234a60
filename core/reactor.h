#pragma once
// One io_uring per shard (style P8). Requests are SQEs whose user_data is the
// address of an IoCompletion; completions are reaped in a batch and their
// callbacks run after the reap loop, so a callback may queue new SQEs freely
// and never recurses into the reactor.
//
// Thread affinity: a Reactor is created and used by exactly one thread.

#include <liburing.h>

#include <cstdint>
#include <vector>

namespace werk::core {

class IoCompletion {
 public:
  // `res` is the CQE result (negative errno on failure); `flags` the CQE flags
  // (IORING_CQE_F_MORE for multishot requests).
  virtual void Complete(int32_t res, uint32_t flags) = 0;

 protected:
  ~IoCompletion() = default;
};

class Reactor {
 public:
  explicit Reactor(unsigned entries = 1024);
  ~Reactor();
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // A fresh SQE tagged with `c` (nullptr: the completion is ignored). Submits
  // queued SQEs first if the submission queue is full.
  io_uring_sqe* Sqe(IoCompletion* c);

  // Submits queued SQEs, waits up to `timeout_ns` (0: do not wait, < 0:
  // forever) for at least one completion, then runs every available
  // completion's callback. Returns the number of completions handled.
  int Poll(int64_t timeout_ns);
  // Without waiting: enters the kernel so that it completes what it can
  // (the data that reached a socket while the thread was away), then runs
  // the completions. Returns the number handled.
  int PollNow();
  // Poll in two steps, for a caller that looks at the clock in between:
  // Wait() submits, waits and collects the completions; RunReady() runs
  // their callbacks. Returns the number of completions collected.
  int Wait(int64_t timeout_ns);
  void RunReady();

  io_uring* ring() { return &ring_; }
  uint64_t submissions() const { return submissions_; }

 private:
  struct Ready {
    IoCompletion* completion;
    int32_t res;
    uint32_t flags;
  };
  io_uring ring_;
  std::vector<Ready> ready_;
  uint64_t submissions_ = 0;
};

}  // namespace werk::core
