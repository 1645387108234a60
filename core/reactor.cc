#include "core/reactor.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "core/check.h"

namespace werk::core {

Reactor::Reactor(unsigned entries) {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = entries * 4;
#ifdef IORING_SETUP_SINGLE_ISSUER
  params.flags |= IORING_SETUP_SINGLE_ISSUER;
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
  // The kernel completes requests (a recv whose data arrived) when the
  // shard enters it to wait (or PollNow), not at arbitrary points.
  params.flags |= IORING_SETUP_COOP_TASKRUN;
#endif
  int rc = io_uring_queue_init_params(entries, &ring_, &params);
  if (rc == -EINVAL) {
    // Older kernels: retry without the optional flags.
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = entries * 4;
    rc = io_uring_queue_init_params(entries, &ring_, &params);
  }
  if (rc < 0) {
    throw std::runtime_error(
        std::string("io_uring_queue_init failed: ") + std::strerror(-rc) +
        " (werk needs Linux >= 5.19 with io_uring enabled; check "
        "/proc/sys/kernel/io_uring_disabled and the container's seccomp profile)");
  }
  if (!(params.features & IORING_FEAT_NODROP)) {
    spdlog::warn("io_uring lacks IORING_FEAT_NODROP; completions may be lost under overload");
  }
  ready_.reserve(entries * 4);
}

Reactor::~Reactor() { io_uring_queue_exit(&ring_); }

io_uring_sqe* Reactor::Sqe(IoCompletion* c) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    const int rc = io_uring_submit(&ring_);
    WERK_CHECK_MSG(rc >= 0, "io_uring_submit failed");
    ++submissions_;
    sqe = io_uring_get_sqe(&ring_);
    WERK_CHECK(sqe != nullptr);
  }
  io_uring_sqe_set_data(sqe, c);
  return sqe;
}

int Reactor::Poll(int64_t timeout_ns) {
  const int count = Wait(timeout_ns);
  RunReady();
  return count;
}

int Reactor::Wait(int64_t timeout_ns) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  ++submissions_;
  if (timeout_ns == 0) {
    rc = io_uring_submit(&ring_);
  } else if (timeout_ns < 0) {
    rc = io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
    spdlog::critical("io_uring_submit failed: {}", std::strerror(-rc));
    WERK_CHECK_MSG(false, "io_uring_submit failed");
  }
  WERK_DCHECK(ready_.empty());  // every Wait() is followed by RunReady()
  unsigned head;
  unsigned count = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    auto* c = static_cast<IoCompletion*>(io_uring_cqe_get_data(cqe));
    if (c) ready_.push_back({c, cqe->res, cqe->flags});
    ++count;
  }
  io_uring_cq_advance(&ring_, count);
  return int(count);
}

int Reactor::PollNow() {
  ++submissions_;
  const int rc = io_uring_submit_and_get_events(&ring_);
  if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
    spdlog::critical("io_uring_enter failed: {}", std::strerror(-rc));
    WERK_CHECK_MSG(false, "io_uring_enter failed");
  }
  // What is in the completion queue now, as Wait(0) collects it.
  const int count = Wait(0);
  RunReady();
  return count;
}

void Reactor::RunReady() {
  for (const Ready& r : ready_) r.completion->Complete(r.res, r.flags);
  ready_.clear();
}

}  // namespace werk::core
