#include "net/shard.h"

#include <sys/signalfd.h>
#include <sys/socket.h>

#include <csignal>
#include <cstring>
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/job_json.h"
#include "core/limits.h"
#include "net/resp.h"

namespace werk::net {

namespace {
// Lateness that starts a catch-up (shard_catch_up.cc): far above an
// ordinary iteration, far below any deadline it protects (the shortest,
// the handshake's, is 1 s).
constexpr int64_t kLateWakeMillis = 500;
}  // namespace

Shard::Shard(const ServerOptions& options, const core::Clock& clock)
    : options_(options),
      clock_(clock),
      runtime_(clock, 2048),
      partition_(&runtime_, core::PartitionOptions{core::JobLimits{options.job_bytes_max},
                                                   options.reserve_for_min_s}),
      service_(&runtime_, &partition_, options.heartbeat_timeout_s * 1000),
      reclaimer_(&partition_.state(), clock),
      stats_publisher_(
          &runtime_, [this](ShardSummary* s) { Summarize(s); },
          [this] {
            return stats_.commands + ready_connections_ + socket_count_ + service_.workers().version();
          }),
      conn_timers_(clock.MonotonicNow() / core::kNanosPerMilli),
      rng_(std::random_device{}()) {
  started_at_ = now();
  service_.set_worker_listener(this);
  runtime_.AddParticipant(this);
  runtime_.AddParticipant(&reclaimer_);
  // After the shard: it publishes what is durable before results go home.
  runtime_.AddParticipant(&stats_publisher_);
}

Shard::~Shard() {
  // Run() returns only once every connection is gone; a Shard destroyed
  // without running frees whatever is left.
  while (Connection* c = connections_.PopFront()) {
    ::close(c->fd_);
    delete c;
  }
}

void Shard::AttachWal(wal::Wal* wal, wal::Checkpointer* checkpointer,
                      wal::DurabilityGate* gate) {
  if (gate) {
    AttachJournal(gate);
  } else {
    AttachJournal(wal);
  }
  wal_ = wal;
  gate_ = gate;
  checkpointer_ = checkpointer;
  runtime_.AddParticipant(wal);
  if (gate) runtime_.AddParticipant(gate);
  if (checkpointer) {
    checkpointer->AttachSource(&partition_.state());
    runtime_.AddParticipant(checkpointer);
  }
}

void Shard::AddListener(int listen_fd, Listener kind) {
  auto op = std::make_unique<AcceptOp>();
  op->kind = kind;
  op->shard = this;
  op->fd = listen_fd;
  ArmAccept(op.get());
  accept_ops_.push_back(std::move(op));
}

void Shard::WatchStopFd(int fd) {
  stop_op_ = std::make_unique<StopOp>();
  stop_op_->shard = this;
  stop_op_->fd = fd;
  io_uring_prep_read(reactor().Sqe(stop_op_.get()), fd, stop_op_->buf, sizeof stop_op_->buf, 0);
}

void Shard::StopOp::Complete(int32_t res, uint32_t) {
  if (res == int32_t(sizeof(signalfd_siginfo))) {
    signalfd_siginfo info;
    std::memcpy(&info, buf, sizeof info);
    if (info.ssi_signo == SIGHUP) {
      shard->ReloadConfig();
      io_uring_prep_read(shard->reactor().Sqe(this), fd, buf, sizeof buf, 0);
      return;
    }
    spdlog::info("received signal {}, shutting down", int(info.ssi_signo));
    shard->group_->signalled = true;  // a restart under way does not start again
  } else if (res == -EINTR || res == -EAGAIN) {
    io_uring_prep_read(shard->reactor().Sqe(this), fd, buf, sizeof buf, 0);
    return;
  }
  shard->RequestStop();
}

// --- The loop's turns -------------------------------------------------------------

void Shard::OnWake(int64_t late_ms) {
  if (late_ms > kLateWakeMillis && !shutting_down_) CatchUp(late_ms);
}

void Shard::OnTurn() {
  if (runtime_.mailbox()) AnswerCatchUpQueries();
  if (shutting_down_ && mono_ms() >= shutdown_deadline_ms_) {
    for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c))
      if (!c->closing()) CloseConnection(c);
  }
  if (accept_paused_ && mono_ms() >= accept_resume_ms_ && !shutting_down_) {
    accept_paused_ = false;
    for (auto& op : accept_ops_) ArmAccept(op.get());
  }
  // Deadlines fire only once what arrived before them has been read.
  if (!TimersHeld()) {
    FireConnTimers();
    partition_.FireTimers();
    service_.fetcher().FireDeadlines(mono_ms());
    service_.FireHeartbeats();
  }
  service_.fetcher().ServeReady();
}

void Shard::OnDurable(core::Lsn) { ReleaseReplies(); }

int64_t Shard::WaitBudgetNs() {
  int64_t budget = core::kNoDeadline;
  if (catch_up_until_ms_ != 0) {
    // Timers are held (overdue, most likely): wait for the input they wait
    // for, which wakes the loop, or for the end of the hold.
    budget = std::min(budget, (catch_up_until_ms_ - mono_ms()) * core::kNanosPerMilli);
  } else {
    if (auto t = partition_.NextTimerMs()) {
      budget = std::min(budget, *t * core::kNanosPerMilli - now());
    }
    if (auto t = conn_timers_.NextEventTick()) {
      budget = std::min(budget, (*t - mono_ms()) * core::kNanosPerMilli);
    }
    if (auto t = service_.fetcher().NextDeadlineMs()) {
      budget = std::min(budget, (*t - mono_ms()) * core::kNanosPerMilli);
    }
    if (auto t = service_.NextHeartbeatMs()) {
      budget = std::min(budget, (*t - mono_ms()) * core::kNanosPerMilli);
    }
  }
  if (accept_paused_)
    budget = std::min(budget, (accept_resume_ms_ - mono_ms()) * core::kNanosPerMilli);
  // Closing what is left when the grace period ends.
  if (shutting_down_ && !connections_.empty())
    budget = std::min(budget, (shutdown_deadline_ms_ - mono_ms()) * core::kNanosPerMilli);
  return budget;
}

void Shard::OnLogFailed() {
  // Nothing appended since the failure can become durable, so no reply that
  // waits for it may leave: every connection is closed (its client sees an
  // error, not a false +OK) and the process stops. Restarting recovers the
  // durable log exactly. (The runtime sent the results other shards wait
  // for home, abandoned.)
  spdlog::critical("the write-ahead log failed: closing every connection and stopping");
  // Global operations of this origin end here; the waiting ones are refused.
  service_.OnLogFailed();
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing()) continue;
    c->staged_.Clear();
    CloseConnection(c);
  }
}

void Shard::OnStop() {
  shutting_down_ = true;
  service_.set_stopping();
  shutdown_deadline_ms_ = mono_ms() + options_.shutdown_grace_ms;
  spdlog::info("shutting down: {} connections open", ready_connections_);
  for (auto& op : accept_ops_) ::shutdown(op->fd, SHUT_RDWR);
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing()) continue;
    if (c->state_ == Connection::State::kHandshake || c->state_ == Connection::State::kDraining) {
      CloseConnection(c);
      continue;
    }
    if (service_.fetcher().parked(c)) {
      service_.fetcher().Cancel(c);
      ReplyNull(c);
    }
    CloseAfterFlush(c);
  }
}

void Shard::OnStopped(core::ShardRuntime&) {
  spdlog::info("shard stopped: {} commands served", stats_.commands);
}

// --- Replies -------------------------------------------------------------------

void Shard::Reply(Connection* c, std::string_view bytes) {
  if (c->closing()) return;
  // Nothing a client sees may depend on a record that is not durable yet, so
  // every reply waits for everything appended so far. While writes are
  // refused, no reply depends on one: what the shard logs then (timers) is
  // not shown before it is acknowledged (INFO shows the gated state), and
  // nothing it logged before is shown by a refusal.
  c->staged_.Append(bytes,
                    journal_->writes_refused() ? core::Lsn(0) : journal_->appended_lsn(),
                    c->command_, c->command_read_ns_);
  AwaitRelease(c);
}

void Shard::RefuseWrites(const core::OpStatus& why) {
  partition_.set_write_refusal(why);
  // Results other shards wait for here, and the replies here, that wait for
  // the standby: what may go, goes first; each of the rest becomes the
  // refusal, in its place.
  runtime_.RefuseHeld(why);
  ReleaseReplies();
  std::string error;
  AppendError(error, std::string(why.message()));
  const core::Lsn durable = journal_->durable_lsn();
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing() || c->staged_.empty()) continue;
    c->staged_.Refuse(durable, error);
    AwaitRelease(c);
  }
  ReleaseReplies();
}

void Shard::Depose(core::Epoch by, std::string primary) {
  partition_.Depose(by, std::move(primary));
  RefuseWrites(partition_.CheckWritable());
}

void Shard::ReplyIndependent(Connection* c, std::string_view bytes) {
  if (c->closing()) return;
  // Still behind any reply queued before it (the queue keeps order).
  c->staged_.Append(bytes, core::Lsn(0), c->command_, c->command_read_ns_);
  AwaitRelease(c);
}

void Shard::AwaitRelease(Connection* c) {
  if (!c->awaiting_release_) {
    c->awaiting_release_ = true;
    awaiting_.push_back(c);
  }
}

void Shard::ReplyOk(Connection* c) { Reply(c, kOkReply); }
void Shard::ReplyNull(Connection* c) { Reply(c, "$-1\r\n"); }

void Shard::ReplyError(Connection* c, std::string_view message) {
  std::string out;
  AppendError(out, message);
  Reply(c, out);
}

void Shard::ReplyStatus(Connection* c, const core::OpStatus& status) {
  if (status.ok()) return Reply(c, kOkReply);
  Reply(c, StatusReply(status));
}

void Shard::ReplyBulk(Connection* c, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  AppendBulk(out, data);
  Reply(c, out);
}

void Shard::ReleaseReplies() {
  if (awaiting_.empty()) return;
  const core::Lsn durable = journal_->durable_lsn();
  // One clock read per pass (per loop iteration, mostly), not per reply.
  const int64_t ready_ns = clock_.MonotonicNow();
  // Two lists swapped back and forth keep their capacity: regrowing one
  // every iteration costs an allocation (and a malloc consolidation).
  std::vector<Connection*>& pending = release_scratch_;
  pending.clear();
  pending.swap(awaiting_);
  for (Connection* c : pending) {
    c->awaiting_release_ = false;
    Release(c, durable, ready_ns);
    if (c->staged_.bytes() > 0 && !c->closing()) {
      c->awaiting_release_ = true;
      awaiting_.push_back(c);
    }
    MaybeFinishClose(c);
  }
}

void Shard::Release(Connection* c, core::Lsn durable, int64_t ready_ns) {
  const bool released = c->staged_.Release(
      durable, &c->out_, [this, ready_ns](CommandKind kind, int64_t read_ns, uint32_t replies) {
        if (kind == CommandKind::kUntimed) return;
        const int64_t us = std::max<int64_t>(0, ready_ns - read_ns) / 1000;
        command_latency_us_[size_t(kind)].Record(uint64_t(us), replies);
      });
  if (released) StartSend(c);
}

// --- Timers -----------------------------------------------------------------------

void Shard::FireConnTimers() {
  core::TimerHook* fired[64];
  while (true) {
    const size_t n = conn_timers_.Advance(mono_ms(), fired, 64);
    for (size_t i = 0; i < n; ++i) {
      auto* t = static_cast<ConnTimer*>(fired[i]);
      switch (t->kind) {
        case ConnTimer::Kind::kHandshake:
          spdlog::debug("connection {} ({}): no HELLO within {} s, closing", t->conn->id_, t->conn->peer_,
                        options_.handshake_timeout_s);
          CloseConnection(t->conn);
          break;
        case ConnTimer::Kind::kDrain:
          CloseConnection(t->conn);
          break;
        case ConnTimer::Kind::kIdle:
          OnIdleTimer(t->conn);
          break;
      }
    }
    if (n < 64) break;
  }
}

}  // namespace werk::net
