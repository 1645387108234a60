#pragma once
// Wakes a shard's loop from another thread: an eventfd the shard's io_uring
// keeps a read pending on. Wake() is the only method called off the shard's
// thread (a write(2) on the eventfd).

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "core/mailbox.h"
#include "core/reactor.h"

namespace werk::core {

class EventfdWaker final : public ShardWaker, public IoCompletion {
 public:
  explicit EventfdWaker(Reactor* reactor)
      : reactor_(reactor), fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    Arm();
  }
  ~EventfdWaker() override { ::close(fd_); }

  void Wake() override {
    const uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }
  // A wake-up arrived: nothing to do but keep listening (the loop polls the
  // mailbox every iteration).
  void Complete(int32_t, uint32_t) override { Arm(); }

 private:
  void Arm() { io_uring_prep_read(reactor_->Sqe(this), fd_, &buf_, sizeof buf_, 0); }

  Reactor* reactor_;
  int fd_;
  uint64_t buf_ = 0;
};

}  // namespace werk::core
