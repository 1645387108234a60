// Global operations: FLUSH, MUTATE and QUEUE PAUSE/RESUME/REMOVE act on
// every shard. Each shard logs its part as one record, so it applies the
// operation entirely or not at all; a crash between shards is completed at
// the next start (core/global_ops.h).

#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

void Shard::RunGlobal(Connection* c, std::function<void()> start) {
  if (global_halted_) return ReplyStatus(c, core::LogFailed());
  if (peers_.size() <= 1 || !global_busy_) {
    if (peers_.size() > 1) global_busy_ = true;
    start();
    return;
  }
  // Wait, reading nothing further from the connection, as for a fan-out.
  c->awaiting_remote_ = true;
  ++c->inflight_;
  global_waiting_.push_back({c, std::move(start)});
}

void Shard::StartWaitingGlobal() {
  while (!global_busy_ && !global_waiting_.empty()) {
    GlobalWaiter w = std::move(global_waiting_.front());
    global_waiting_.pop_front();
    Connection* c = w.conn;
    --c->inflight_;
    c->awaiting_remote_ = false;
    if (c->closing()) {
      // Its client is gone: the operation was never acknowledged; drop it.
      MaybeFinishClose(c);
      continue;
    }
    if (global_halted_) {
      ReplyStatus(c, core::LogFailed());
      ProcessInput(c);
      continue;
    }
    global_busy_ = true;
    w.start();
  }
}

void Shard::FinishGlobal() {
  if (peers_.size() <= 1) return;
  // The next operation of this origin starts once this one is durable here
  // too (the other shards answered only once durable), so a crash leaves at
  // most one operation per origin half applied.
  global_fenced_ = true;
  global_fence_lsn_ = journal_->appended_lsn().value();
}

void Shard::CommitEverywhere(Connection* c, std::vector<core::Mutation> steps) {
  if (peers_.size() <= 1) {
    if (core::OpStatus s = partition_.CheckWritable(); !s.ok()) return ReplyStatus(c, s);
    // A step with nothing to do (e.g. resuming a queue that is not paused)
    // is refused by the state machine and not logged.
    for (const auto& m : steps) partition_.Commit(m);
    return ReplyOk(c);
  }
  core::GlobalOpRecord rec;
  rec.origin = id_;
  const auto& last = partition_.state().last_global_ops();
  auto it = last.find(id_);
  rec.id = (it == last.end() ? 0 : it->second.id) + 1;
  for (const auto& m : steps) rec.steps.push_back(core::EncodeMutation(m));
  auto op = std::make_shared<const core::Mutation>(core::Mutation::Global(now(), std::move(rec)));
  RunOnAll<core::OpStatus>(
      c,
      [op](Shard& s) { return s.partition_.CommitGlobal(*op); },
      [this](std::vector<core::OpStatus>& results) -> std::optional<std::string> {
        // A shard whose part failed (its log failed) may lack this operation;
        // running another could leave it two behind, which a restart could
        // not complete. The group is stopping anyway: no more from here.
        FinishGlobal();
        for (const core::OpStatus& r : results) {
          if (r.ok()) continue;
          global_halted_ = true;
          return StatusReply(r);
        }
        return std::string(kOkReply);
      });
}

void Shard::RollForward(const std::vector<core::Mutation>& ops) {
  for (const auto& m : ops) {
    const auto& g = std::get<core::GlobalOpRecord>(m.body);
    std::string what;
    for (const auto& step : g.steps) {
      auto inner = core::DecodeMutation(step);
      if (!what.empty()) what += ", ";
      what += inner ? std::string(core::MutationTypeName(inner->type)) : "?";
    }
    spdlog::warn("shard {}: completing global operation {} of shard {} ({}) that a crash left "
                 "applied on other shards only",
                 id_, g.id, g.origin, what);
    WERK_CHECK(partition_.Commit(m));
  }
  if (ops.empty()) return;
  // Durable before anything is served: otherwise a second crash could find
  // this shard two operations behind.
  journal_->Commit();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!journal_->failed() && journal_->durable_lsn() < journal_->appended_lsn() &&
         std::chrono::steady_clock::now() < deadline) {
    reactor().Poll(10'000'000);
    journal_->Commit();
  }
}

}  // namespace werk::net
