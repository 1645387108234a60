#include "net/shard.h"

#include <sys/signalfd.h>
#include <sys/socket.h>

#include <csignal>
#include <cstring>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/job_json.h"
#include "core/limits.h"
#include "net/resp.h"

namespace werk::net {

namespace {
constexpr size_t kDueJidsPerRecord = 1024;
constexpr int64_t kMaxSleepNs = 1'000'000'000;
}  // namespace

Shard::Shard(const ServerOptions& options, const core::Clock& clock)
    : options_(options),
      clock_(clock),
      reactor_(2048),
      sm_(clock.WallNow() / core::kNanosPerMilli),
      conn_timers_(clock.MonotonicNow() / core::kNanosPerMilli),
      rng_(std::random_device{}()) {
  job_limits_.job_bytes_max = options_.job_bytes_max;
  RefreshNow();
  started_at_ = now_;
}

Shard::~Shard() {
  // Run() returns only once every connection is gone; a Shard destroyed
  // without running frees whatever is left.
  while (Connection* c = connections_.PopFront()) {
    ::close(c->fd_);
    delete c;
  }
}

void Shard::RefreshNow() {
  now_ = clock_.WallNow();
  mono_ms_ = clock_.MonotonicNow() / core::kNanosPerMilli;
}

void Shard::AddListener(int listen_fd) {
  auto op = std::make_unique<AcceptOp>();
  op->shard = this;
  op->fd = listen_fd;
  ArmAccept(op.get());
  accept_ops_.push_back(std::move(op));
}

void Shard::WatchStopFd(int fd) {
  stop_op_ = std::make_unique<StopOp>();
  stop_op_->shard = this;
  stop_op_->fd = fd;
  io_uring_prep_read(reactor_.Sqe(stop_op_.get()), fd, stop_op_->buf, sizeof stop_op_->buf, 0);
}

void Shard::StopOp::Complete(int32_t res, uint32_t) {
  if (res == int32_t(sizeof(signalfd_siginfo))) {
    signalfd_siginfo info;
    std::memcpy(&info, buf, sizeof info);
    if (info.ssi_signo == SIGHUP) {
      spdlog::warn("SIGHUP: reloading configuration is not supported yet; ignoring");
      io_uring_prep_read(shard->reactor_.Sqe(this), fd, buf, sizeof buf, 0);
      return;
    }
    spdlog::info("received signal {}, shutting down", int(info.ssi_signo));
  } else if (res == -EINTR || res == -EAGAIN) {
    io_uring_prep_read(shard->reactor_.Sqe(this), fd, buf, sizeof buf, 0);
    return;
  }
  shard->RequestStop();
}

bool Shard::LocallyStopped() const {
  return shutting_down_ && connections_.empty() && deferred_.empty() &&
         (journal_failed_ || !journal_->commit_pending()) && held_.empty() &&
         (!box_ || box_->backlog() == 0);
}

bool Shard::stopped() const {
  if (!LocallyStopped()) return false;
  if (peers_.empty()) return true;
  // Its own flag must be out, too, or the others would wait for it forever.
  if (!locally_stopped_.load(std::memory_order_relaxed)) return false;
  // A shard of a group keeps serving its mailbox until every shard is done:
  // one still closing a connection may be waiting for this one's answer. A
  // shard with no connection left waits for nobody, so when all are done at
  // once no answer is owed.
  for (const Shard* p : peers_)
    if (p != this && !p->locally_stopped_.load(std::memory_order_acquire)) return false;
  return true;
}

void Shard::DrainStorage() {
  // Real time bounds this, whatever clock the shard runs on.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (((wal_ && !wal_->io_idle()) || (checkpointer_ && !checkpointer_->io_idle())) &&
         std::chrono::steady_clock::now() < deadline) {
    reactor_.Poll(10'000'000);
  }
}

void Shard::OnJournalFailed() {
  // Nothing appended since the failure can become durable, so no reply that
  // waits for it may leave: every connection is closed (its client sees an
  // error, not a false +OK) and the process stops. Restarting recovers the
  // durable log exactly.
  journal_failed_ = true;
  spdlog::critical("the write-ahead log failed: closing every connection and stopping");
  // Results other shards wait for: those already durable go back as they
  // are; the rest never will be, so they go back as errors and no shard
  // waits for this one forever.
  if (box_) ReturnDurableHolds();
  for (core::CrossShardTask* t : held_) {
    t->Abandon();
    box_->Return(t);
  }
  held_.clear();
  if (box_) box_->Flush();
  // Global operations of this origin end here; the waiting ones are refused.
  global_halted_ = true;
  global_fenced_ = false;
  global_busy_ = false;
  StartWaitingGlobal();
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing_) continue;
    c->staged_.Clear();
    CloseConnection(c);
  }
  stop_requested_ = true;
}

void Shard::Run() {
  while (!stopped()) RunOnce(kMaxSleepNs);
  // A clean stop ends with a checkpoint, so the next start reads one file
  // instead of replaying the log.
  if (checkpointer_ && !journal_failed_ && !journal_->failed()) {
    checkpointer_->RequestNow();
    checkpointer_->Poll(sm_);
    while (checkpointer_->busy() && !journal_->failed()) {
      reactor_.Poll(10'000'000);
      journal_->Commit();
      checkpointer_->Poll(sm_);
    }
  }
  DrainStorage();
  // The last records (e.g. a FLUSH answered just before the signal) are durable.
  journal_->Commit();
  spdlog::info("shard stopped: {} commands served", stats_.commands);
}

int64_t Shard::WaitBudgetNs() {
  if (DeferredReady()) return 0;  // a long command's next slice
  int64_t budget = kMaxSleepNs;
  // More to free: come back soon, but leave the core to others for as long
  // as a slice takes (anything that arrives ends the wait at once).
  if (sm_.has_garbage()) budget = core::kReclaimNanosPerIteration;
  if (catch_up_until_ms_ != 0) {
    // Timers are held (overdue, most likely): wait for the input they wait
    // for, which wakes the loop, or for the end of the hold.
    budget = std::min(budget, (catch_up_until_ms_ - mono_ms_) * core::kNanosPerMilli);
  } else {
    if (auto t = sm_.NextTimerMs()) {
      budget = std::min(budget, *t * core::kNanosPerMilli - now_);
    }
    if (auto t = conn_timers_.NextEventTick()) {
      budget = std::min(budget, (*t - mono_ms_) * core::kNanosPerMilli);
    }
  }
  if (accept_paused_) budget = std::min(budget, (accept_resume_ms_ - mono_ms_) * core::kNanosPerMilli);
  if (wal_ && !shutting_down_) {
    if (const int64_t idle = wal_->idle_marker_wait_ns(); idle >= 0) budget = std::min(budget, idle);
  }
  // (Once done here, a shard only waits for its peers: no deadline to spin on.)
  if (shutting_down_ && !LocallyStopped())
    budget = std::min(budget, (shutdown_deadline_ms_ - mono_ms_) * core::kNanosPerMilli);
  return std::max<int64_t>(budget, 0);
}

void Shard::RunOnce(int64_t max_wait_ns) {
  if (group_->stop.load(std::memory_order_relaxed)) stop_requested_ = true;
  if (stop_requested_ && !shutting_down_) BeginShutdown();
  if (shutting_down_ && mono_ms_ >= shutdown_deadline_ms_) {
    for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c))
      if (!c->closing_) CloseConnection(c);
  }
  if (stopped()) return;
  int64_t budget = std::min(WaitBudgetNs(), max_wait_ns);
  if (box_ && budget > 0 && !box_->PrepareToSleep()) budget = 0;
  // Later than this, the loop could not run for a while (shard_catch_up.cc).
  const int64_t expected_wake_ms = mono_ms_ + budget / core::kNanosPerMilli;
  reactor_.Wait(budget);
  const int64_t busy_from = clock_.MonotonicNow();
  // The clock is read before any completion runs: what arrived while the
  // loop was away is handled at the time the loop came back, never at the
  // time it last looked (a BEAT would re-arm a deadline already past).
  RefreshNow();
  reactor_.RunReady();
  if (WokeLate(expected_wake_ms) && !shutting_down_) CatchUp(mono_ms_ - expected_wake_ms);
  if (box_) {
    box_->Awake();
    box_->Poll();  // tasks for this shard run before this iteration's commit
    AnswerCatchUpQueries();
  }
  // Deadlines fire only once what arrived before them has been read.
  if (!TimersHeld()) {
    FireConnTimers();
    FireJobTimers();
  }
  ServeReadyQueues();
  RunDeferred();
  // A round started there has its tasks in the rings: wake their shards now
  // (the mailbox's own flush ran before).
  if (box_) box_->Flush();
  ReclaimGarbage();
  if (global_fenced_ && !journal_->failed() &&
      journal_->durable_lsn().value() >= global_fence_lsn_) {
    // The last global operation is durable everywhere: the next may start
    // (before this iteration's commit, so its local part goes out now).
    global_fenced_ = false;
    global_busy_ = false;
    StartWaitingGlobal();
    if (box_) box_->Flush();
  }
  journal_->Commit();
  // A quiet log vouches for its last write (docs/wal-format.md).
  if (wal_ && !shutting_down_) wal_->WriteIdleMarkerIfDue();
  if (journal_->failed()) {
    if (!journal_failed_) OnJournalFailed();
  } else {
    ReleaseReplies();
    if (box_) ReturnDurableHolds();
    if (checkpointer_) checkpointer_->Poll(sm_);
  }
  CountBusy(clock_.MonotonicNow() - busy_from);
  if (!peers_.empty()) {
    const bool done = LocallyStopped();
    if (done != locally_stopped_.load(std::memory_order_relaxed)) {
      locally_stopped_.store(done, std::memory_order_release);
      if (done)
        for (Shard* p : peers_)
          if (p != this) p->WakeFromOtherThread();
    }
  }
  if (accept_paused_ && mono_ms_ >= accept_resume_ms_ && !shutting_down_) {
    accept_paused_ = false;
    for (auto& op : accept_ops_) ArmAccept(op.get());
  }
}

void Shard::CountBusy(int64_t ns) {
  stats_.loop_longest_ns = std::max(stats_.loop_longest_ns, ns);
  size_t bucket = 0;
  for (int64_t ms = ns / core::kNanosPerMilli; ms > 0 && bucket + 1 < kLoopBusyBuckets; ms >>= 1)
    ++bucket;
  ++stats_.loop_busy[bucket];
}

void Shard::ReclaimGarbage() {
  // What a FLUSH or QUEUE REMOVE took out is freed a slice at a time, for a
  // quarter of a millisecond per iteration. Freeing costs more than it
  // seems: glibc sorts the chunks freed into its bins at the next malloc,
  // which takes about twice as long again (1M jobs: ~0.45 s over ~780
  // iterations per shard, docs/benchmarks.md).
  if (!sm_.has_garbage()) return;
  const int64_t deadline = clock_.MonotonicNow() + core::kReclaimNanosPerIteration;
  do {
    sm_.Reclaim(core::kReclaimJobsPerSlice);
  } while (sm_.has_garbage() && clock_.MonotonicNow() < deadline);
}

void Shard::BeginShutdown() {
  shutting_down_ = true;
  // One shard stopping stops the group; they finish together (stopped()).
  if (!group_->stop.exchange(true))
    for (Shard* p : peers_)
      if (p != this) p->WakeFromOtherThread();
  shutdown_deadline_ms_ = mono_ms_ + options_.shutdown_grace_ms;
  spdlog::info("shutting down: {} connections open", ready_connections_);
  for (auto& op : accept_ops_) ::shutdown(op->fd, SHUT_RDWR);
  for (Connection* c = connections_.Next(nullptr); c; c = connections_.Next(c)) {
    if (c->closing_) continue;
    if (c->phase_ == Connection::Phase::kHandshake || c->draining_) {
      CloseConnection(c);
      continue;
    }
    if (c->parked_) {
      Unpark(c);
      ReplyNull(c);
    }
    CloseAfterFlush(c);
  }
}

// --- Replies -------------------------------------------------------------------

void Shard::Reply(Connection* c, std::string_view bytes) {
  if (c->closing_) return;
  // Nothing a client sees may depend on a record that is not durable yet, so
  // every reply waits for everything appended so far.
  c->staged_.Append(bytes, journal_->appended_lsn());
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
  // Two lists swapped back and forth keep their capacity: regrowing one
  // every iteration costs an allocation (and a malloc consolidation).
  std::vector<Connection*>& pending = release_scratch_;
  pending.clear();
  pending.swap(awaiting_);
  for (Connection* c : pending) {
    c->awaiting_release_ = false;
    Release(c, durable);
    if (c->staged_.bytes() > 0 && !c->closing_) {
      c->awaiting_release_ = true;
      awaiting_.push_back(c);
    }
    MaybeFinishClose(c);
  }
}

void Shard::Release(Connection* c, core::Lsn durable) {
  if (c->staged_.Release(durable, &c->out_)) StartSend(c);
}

// --- Mutations --------------------------------------------------------------------

bool Shard::Commit(const core::Mutation& m) {
  if (sm_.Apply(m) != core::ApplyStatus::kOk) return false;
  encode_scratch_.clear();
  core::EncodeMutation(m, encode_scratch_);
  journal_->Append(encode_scratch_);
  return true;
}

bool Shard::RefuseIfReadOnly(Connection* c) {
  if (!journal_->failed()) return false;
  ReplyStatus(c, core::LogFailed());
  return true;
}

// --- Timers -----------------------------------------------------------------------

void Shard::FireJobTimers() {
  due_scratch_.clear();
  const int64_t now_ms = now_ / core::kNanosPerMilli;
  if (sm_.DueJobs(now_ms, due_scratch_, core::kTimerFiresPerAdvanceMax) == 0) return;
  ++stats_.timer_cycles;
  std::vector<std::string> enqueue, purge;
  std::vector<core::FailRecord> expired;
  std::uniform_int_distribution<int> jitter(0, 29);
  for (const core::Job* job : due_scratch_) {
    switch (job->state) {
      case core::JobState::kScheduled:
        ++stats_.scheduled_enqueued;
        enqueue.emplace_back(job->jid());
        break;
      case core::JobState::kRetry:
        ++stats_.retries_enqueued;
        enqueue.emplace_back(job->jid());
        break;
      case core::JobState::kDead:
        ++stats_.dead_purged;
        purge.emplace_back(job->jid());
        break;
      case core::JobState::kReserved:
        ++stats_.reservations_expired;
        expired.push_back(core::DecideFailure(*job, now_, core::FailCause::kReservationExpired,
                                              "ReservationExpired",
                                              "Faktory job reservation expired", {},
                                              jitter(rng_)));
        break;
      case core::JobState::kQueued:
        break;  // queued jobs carry no timer
    }
  }
  if (journal_->failed()) return;  // state stays as it is; nothing can be logged
  for (auto& rec : expired) Commit(core::Mutation::Fail(now_, std::move(rec)));
  auto commit_chunks = [&](std::vector<std::string>& jids, bool is_enqueue) {
    for (size_t i = 0; i < jids.size(); i += kDueJidsPerRecord) {
      const size_t end = std::min(jids.size(), i + kDueJidsPerRecord);
      std::vector<std::string> chunk(std::make_move_iterator(jids.begin() + long(i)),
                                     std::make_move_iterator(jids.begin() + long(end)));
      Commit(is_enqueue ? core::Mutation::EnqueueDue(now_, std::move(chunk))
                        : core::Mutation::PurgeDead(now_, std::move(chunk)));
    }
  };
  commit_chunks(enqueue, true);
  commit_chunks(purge, false);
}

void Shard::FireConnTimers() {
  core::TimerHook* fired[64];
  while (true) {
    const size_t n = conn_timers_.Advance(mono_ms_, fired, 64);
    for (size_t i = 0; i < n; ++i) {
      auto* t = static_cast<ConnTimer*>(fired[i]);
      switch (t->kind) {
        case ConnTimer::Kind::kHandshake:
          spdlog::debug("connection {}: no HELLO within {} s, closing", t->conn->id_,
                        options_.handshake_timeout_s);
          CloseConnection(t->conn);
          break;
        case ConnTimer::Kind::kFetch:
          if (t->conn->parked_) {
            Unpark(t->conn);
            ReplyNull(t->conn);
            ProcessInput(t->conn);
          }
          break;
        case ConnTimer::Kind::kHeartbeat:
          OnHeartbeatExpired(t->worker);
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
