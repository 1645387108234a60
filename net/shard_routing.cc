// Work that crosses shards: forwarding a command to the shard that owns its
// job, holding results until the owner's log is durable, and the owner-side
// halves of PUSH, PUSHB, ACK and FAIL.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/json_writer.h"
#include "core/ownership.h"
#include "net/shard.h"
#include "net/shard_waker.h"

namespace werk::net {

namespace {

// One part of a fan-out: runs on the target, result goes home.
class FanOutTask final : public core::CrossShardTask {
 public:
  FanOutTask(Shard* origin, Shard* target, Shard::FanOut* f, size_t index, Shard::RemoteFn fn,
             bool hold_partial)
      : origin_(origin), target_(target), f_(f), index_(index), fn_(std::move(fn)),
        hold_partial_(hold_partial) {}
  void Run() override {
    reply_ = fn_(*target_);
    fn_ = nullptr;
    // Whatever the call logged must be durable before its result is seen —
    // except a slice of a long command with more to do (""): its last
    // answer is held, and covers every record before it in the same log.
    if (!reply_.empty() || hold_partial_) hold_lsn = target_->journal_appended_lsn();
  }
  void Done() override {
    origin_->OnFanOutPartFromTask(f_, index_, std::move(reply_), abandoned_);
  }
  void Abandon() override {
    reply_.clear();  // a neutral part for the combine; the reply is the error
    abandoned_ = true;
  }

 private:
  Shard* origin_;
  Shard* target_;
  Shard::FanOut* f_;
  bool abandoned_ = false;
  size_t index_;
  Shard::RemoteFn fn_;
  bool hold_partial_;
  std::string reply_;
};

// A command forwarded to the shard that owns its job; its reply fills the
// place held for it in the connection's reply queue.
class ForwardTask final : public core::CrossShardTask {
 public:
  ForwardTask(Shard* origin, Shard* target, Connection* conn, ReplyQueue::Hole hole,
              Shard::RemoteFn fn)
      : origin_(origin), target_(target), conn_(conn), hole_(hole), fn_(std::move(fn)) {}
  void Run() override {
    reply_ = fn_(*target_);
    fn_ = nullptr;
    hold_lsn = target_->journal_appended_lsn();
  }
  void Done() override { origin_->OnForwardReply(conn_, hole_, reply_, abandoned_); }
  void Abandon() override { abandoned_ = true; }

 private:
  Shard* origin_;
  Shard* target_;
  Connection* conn_;
  ReplyQueue::Hole hole_;
  bool abandoned_ = false;
  Shard::RemoteFn fn_;
  std::string reply_;
};

// A one-way notice between shards (its Done() on the sender does nothing).
class NoticeTask final : public core::CrossShardTask {
 public:
  NoticeTask(Shard* target, std::function<void(Shard&)> run)
      : target_(target), run_(std::move(run)) {}
  void Run() override { run_(*target_); }
  void Done() override {}

 private:
  Shard* target_;
  std::function<void(Shard&)> run_;
};

}  // namespace

void Shard::Notify(uint32_t target, std::function<void(Shard&)> fn) {
  if (target == id_) return fn(*this);
  WERK_DCHECK(box_);
  box_->Submit(target, new NoticeTask(peers_[target], std::move(fn)));
}

struct Shard::FanOut {
  Connection* conn;
  size_t pending;
  std::vector<std::string> results;
  Combine combine;
  bool abandoned = false;  // a part's log failed: the reply is that error
};

void Shard::JoinGroup(uint32_t id, std::vector<Shard*> peers, core::Mailbox* mailbox,
                      GroupShared* group) {
  id_ = id;
  peers_ = std::move(peers);
  group_ = group;
  if (peers_.size() <= 1) return;
  box_ = std::make_unique<core::ShardMailbox>(mailbox, id_);
  box_->set_hold_handler([this](core::CrossShardTask* t) { HoldUntilDurable(t); });
  waker_ = std::make_unique<EventfdWaker>(&reactor_);
  mailbox->SetWaker(id_, waker_.get());
}

uint32_t Shard::OwnerOf(std::string_view key) const {
  if (peers_.size() <= 1) return id_;
  return core::ShardOf(key, uint32_t(peers_.size()));
}

void Shard::Forward(Connection* c, uint32_t target, RemoteFn fn) {
  WERK_DCHECK(box_ && target != id_);
  ++c->inflight_;  // the connection outlives the forwarded command
  box_->Submit(target, new ForwardTask(this, peers_[target], c, c->staged_.OpenHole(),
                                       std::move(fn)));
}

void Shard::OnForwardReply(Connection* c, ReplyQueue::Hole hole, const std::string& reply,
                           bool abandoned) {
  --c->inflight_;
  if (c->closing_) {  // its reply queue is gone
    MaybeFinishClose(c);
    return;
  }
  // The owner held the result until its own log made it durable, and it
  // depends on nothing logged here: it waits only for the replies before it.
  c->staged_.Fill(hole, abandoned ? kLogFailedError : std::string_view(reply), core::Lsn(0));
  AwaitRelease(c);
  ProcessInput(c);  // if it waited for a forwarded command to come back
}

void Shard::StartFanOut(Connection* c, std::vector<std::pair<uint32_t, RemoteFn>> calls,
                        Combine combine, bool hold_partial) {
  auto* f = new FanOut{c, calls.size(), std::vector<std::string>(calls.size()), std::move(combine)};
  c->awaiting_remote_ = true;
  ++c->inflight_;  // the connection outlives the fan-out
  // Remote parts first, so they run while the local part does.
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].first == id_) continue;
    WERK_DCHECK(box_);
    box_->Submit(calls[i].first,
                 new FanOutTask(this, peers_[calls[i].first], f, i, std::move(calls[i].second),
                                hold_partial));
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].first != id_) continue;
    OnFanOutPart(f, i, calls[i].second(*this));
  }
}

void Shard::OnFanOutPart(FanOut* f, size_t index, std::string reply, bool abandoned) {
  f->results[index] = std::move(reply);
  f->abandoned |= abandoned;
  if (--f->pending > 0) return;
  Connection* c = f->conn;
  // The combine may start a further fan-out on the same connection; this one
  // lets go of the connection only after that. It runs even when a part was
  // abandoned, so what it tracks (e.g. the global operation in flight) ends.
  const std::optional<std::string> out = f->combine(f->results);
  const bool failed = f->abandoned;
  delete f;
  if (out) {
    // A part that will never be durable: whatever the others did, the client
    // hears that the log failed (the group is stopping).
    OnForwardDone(c, failed ? std::string(kLogFailedError) : *out);
  } else {
    WERK_CHECK(c->inflight_ > 1);
    --c->inflight_;
  }
}

void Shard::RunOnAll(Connection* c, RemoteFn fn, Combine combine) {
  if (peers_.size() <= 1) {
    std::vector<std::string> results{fn(*this)};
    std::optional<std::string> out = combine(results);
    if (out) Reply(c, *out);
    return;
  }
  std::vector<std::pair<uint32_t, RemoteFn>> calls;
  for (uint32_t i = 0; i < peers_.size(); ++i) calls.emplace_back(i, fn);
  StartFanOut(c, std::move(calls), std::move(combine));
}

void Shard::OnForwardDone(Connection* c, const std::string& reply) {
  --c->inflight_;
  c->awaiting_remote_ = false;
  if (c->closing_) {
    MaybeFinishClose(c);
    return;
  }
  Reply(c, reply);
  ProcessInput(c);
}

void Shard::HoldUntilDurable(core::CrossShardTask* task) {
  if (journal_->failed()) {
    task->Abandon();
    box_->Return(task);
    return;
  }
  // Appended in LSN order (tasks run in order within one iteration).
  held_.push_back(task);
}

void Shard::ReturnDurableHolds() {
  if (held_.empty()) return;
  const uint64_t durable = journal_->durable_lsn().value();
  bool any = false;
  while (!held_.empty() && held_.front()->hold_lsn <= durable) {
    box_->Return(held_.front());
    held_.pop_front();
    any = true;
  }
  if (any) box_->Flush();
}

// --- Owner-side halves -----------------------------------------------------------

std::string Shard::PushLocal(core::JobSpec job) {
  if (journal_->failed())
    return std::string(kLogFailedError);
  if (sm_.FindJob(job.jid)) return "-ERR jid " + job.jid + " is already in use by a live job\r\n";
  Commit(core::Mutation::Push(now_, std::move(job)));
  return "+OK\r\n";
}

std::string Shard::AckLocal(const std::string& jid) {
  const core::Job* job = sm_.FindJob(jid);
  if (!job || job->state != core::JobState::kReserved) return "+OK\r\n";
  if (journal_->failed())
    return std::string(kLogFailedError);
  Commit(core::Mutation::Ack(now_, jid));
  return "+OK\r\n";
}

std::string Shard::FailLocal(FailArgs fail) {
  const core::Job* job = sm_.FindJob(fail.jid);
  if (!job || job->state != core::JobState::kReserved) return "-ERR Job not found " + fail.jid + "\r\n";
  if (journal_->failed())
    return std::string(kLogFailedError);
  std::uniform_int_distribution<int> jitter(0, 29);
  Commit(core::Mutation::Fail(
      now_, core::DecideFailure(*job, now_, core::FailCause::kFail, std::move(fail.errtype),
                                std::move(fail.message), std::move(fail.backtrace),
                                jitter(rng_))));
  return "+OK\r\n";
}

}  // namespace werk::net
