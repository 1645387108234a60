// PROMOTE: a standby becomes the primary (docs/replication.md "Promotion",
// replication-plan.md §5).
//
// The promotion runs on a thread of its own, which drives one task posted
// to every shard. Each shard's task goes through three steps and waits
// between them, on its own thread, until every shard is through the step
// (a barrier): a shard serves nothing while it waits, so its clients wait
// too, and none sees the group half promoted.
//
//   1. The link to the old primary ends (no record is appended, no ACK
//      leaves after it); the shard reports the highest epoch it knows.
//      The data directory is marked promoted (net/promotion_marker.h).
//   2. The new epoch — the highest over the shards, plus one — is set on
//      the log and logged as an epoch record (Partition::CommitEpoch: the
//      shard is still a standby). Every shard's epoch record sits right
//      after the last record it received.
//   3. With every shard parked, the global operations the old primary left
//      applied on some shards only are planned (Server::PlanRollForward, as
//      at start); then each shard becomes the primary: timers resume, its
//      gate answers from its own log (no standby: alone, logged), it
//      completes its part of those operations, and with --replication-bind
//      it has a ReplicationPrimary, alone until a standby links.
//
// PROMOTE is answered +OK once everything each shard logged in the
// promotion is durable; then the connector (the link to the old primary)
// is stopped and joined. The notifier (net/epoch_notifier.h) starts
// telling the old primary of the new epoch.

#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/clock.h"
#include "core/time_format.h"
#include "net/deposition_marker.h"
#include "net/promotion_marker.h"
#include "net/replication_primary.h"
#include "net/replication_standby.h"
#include "net/server.h"
#include "net/server_slot.h"

namespace werk::net {

namespace {

// How often a waiting promotion looks whether the server is stopping.
constexpr auto kStopCheck = std::chrono::milliseconds(50);

// The steps of the shards' tasks (see above), and the promotion waiting
// for them.
class StepBarrier {
 public:
  explicit StepBarrier(uint32_t shards) : shards_(shards) {}

  // A shard is through `step`.
  void Arrive(int step) {
    std::lock_guard<std::mutex> l(mu_);
    ++arrived_[step];
    cv_.notify_all();
  }
  // A shard is through `step` and waits until the promotion lets every
  // shard go on; false: the promotion gave up (the server is stopping).
  bool ArriveAndWait(int step) {
    std::unique_lock<std::mutex> l(mu_);
    ++arrived_[step];
    cv_.notify_all();
    cv_.wait(l, [&] { return released_ >= step || abandoned_; });
    return !abandoned_;
  }
  // The promotion: every shard is through `step`; false if `stopping`
  // turned true first.
  template <class Stopping>
  bool WaitAll(int step, Stopping stopping) {
    std::unique_lock<std::mutex> l(mu_);
    while (arrived_[step] < shards_) {
      if (stopping()) return false;
      cv_.wait_for(l, kStopCheck);
    }
    return true;
  }
  void Release(int step) {
    std::lock_guard<std::mutex> l(mu_);
    released_ = step;
    cv_.notify_all();
  }
  void Abandon() {
    std::lock_guard<std::mutex> l(mu_);
    abandoned_ = true;
    cv_.notify_all();
  }

 private:
  const uint32_t shards_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::array<uint32_t, 4> arrived_{};
  int released_ = 0;
  bool abandoned_ = false;
};

// What the promotion and the shards' tasks share. Each field is written by
// one side before a barrier step and read by the other after it.
struct PromotionState {
  explicit PromotionState(uint32_t shards)
      : barrier(shards), known_epoch(shards, 0), log_failed(shards, 0) {}
  StepBarrier barrier;
  std::vector<uint64_t> known_epoch;  // step 1, per shard
  uint64_t next_epoch = 0;            // before step 1's release
  const uint64_t run_id = MakeEpochRunId();  // the new epoch's first run
  core::RollForwardPlan plan;         // before step 2's release
  std::vector<char> log_failed;       // step 3, per shard (not vector<bool>: one
                                      // byte each, written by different threads)
};

}  // namespace

std::optional<core::OpStatus> Server::Promote(uint32_t from,
                                              std::function<void(core::OpStatus)> done) {
  const auto already = [this] {
    return absl::FailedPreconditionError("werk is already the primary (epoch " +
                                         std::to_string(epoch_.load()) + ")");
  };
  if (core::OpStatus deposed = DeposedStatus(); !deposed.ok()) return deposed;
  if (options_.replica_of.empty()) return already();
  Promotion expected = Promotion::kNone;
  if (!promotion_.compare_exchange_strong(expected, Promotion::kRunning)) {
    if (expected == Promotion::kDone) return already();
    return absl::FailedPreconditionError("a promotion is already under way");
  }
  spdlog::warn("PROMOTE: this standby of {} becomes the primary", options_.replica_of);
  promote_thread_ = std::thread([this, from, done = std::move(done)] {
    const core::OpStatus result = RunPromotion();
    slots_[from]->shard->runtime().PostFromOtherThread([done, result] { done(result); });
    // No shard takes a link from it any more (StopForPromotion): it is
    // stopped after the reply, as it may be in a handshake with a hung peer.
    if (connector_) connector_->Stop();
  });
  return std::nullopt;
}

core::OpStatus Server::RunPromotion() {
  auto st = std::make_shared<PromotionState>(shard_count_);
  const auto stopping = [this] { return group_.stop.load(); };
  const auto gave_up = [st] {
    st->barrier.Abandon();
    return absl::UnavailableError("the server is stopping: the promotion did not finish");
  };
  for (uint32_t i = 0; i < shard_count_; ++i) {
    slots_[i]->shard->runtime().PostFromOtherThread([this, st, i] {
      Slot& slot = *slots_[i];
      Shard& shard = *slot.shard;
      wal::Wal* wal = slot.storage.wal.get();
      // 1. The link ends: nothing more from the old primary.
      st->known_epoch[i] = slot.standby->StopForPromotion().value();
      if (!st->barrier.ArriveAndWait(1)) return;
      // 2. The new epoch, right after the last record received.
      const core::Epoch epoch(st->next_epoch);
      wal->SetEpoch(epoch);
      WERK_CHECK(shard.partition().CommitEpoch(core::EpochRecord{
          epoch.value(), wal->appended_lsn().next().value(), replication_address_, st->run_id}));
      if (!st->barrier.ArriveAndWait(2)) return;
      // 3. The primary. Alone: its own log decides what is durable.
      shard.set_role(core::Role::kPrimary);
      slot.storage.gate->SetMode(wal::DurabilityGate::Mode::kLocal);
      WERK_CHECK(shard.partition().Commit(core::Mutation::Replication(
          core::SystemClock::Instance().WallNow(),
          core::ReplicationRecord{true, wal->appended_lsn().next().value()})));
      shard.CommitRollForward(st->plan.per_shard[i]);
      if (replication_fd_ >= 0) {
        AttachPrimary(i, /*alone=*/true);
      } else {
        shard.set_replication_reporter([wal](ReplicationSummary* r) {
          *r = ReplicationSummary{};
          r->standby = false;
          r->epoch = wal->epoch().value();
        });
      }
      core::ShardRuntime& runtime = shard.runtime();
      runtime.Defer(
          [st, i, &runtime] {
            st->log_failed[i] = runtime.journal().failed() ? 1 : 0;
            st->barrier.Arrive(3);
          },
          wal->appended_lsn());
    });
  }
  if (!st->barrier.WaitAll(1, stopping)) return gave_up();
  uint64_t highest = epoch_.load();
  for (const uint64_t e : st->known_epoch) highest = std::max(highest, e);
  st->next_epoch = highest + 1;
  epoch_ = st->next_epoch;
  // Before any epoch record: a data directory that may hold one of its own
  // never starts as a standby again (net/promotion_marker.h).
  if (absl::Status w = WritePromotionMarker(
          options_.data_dir, st->next_epoch, options_.replica_of,
          core::FormatRfc3339Nano(core::SystemClock::Instance().WallNow()));
      !w.ok()) {
    st->barrier.Abandon();
    spdlog::critical("PROMOTE failed: {}", std::string(w.message()));
    return absl::InternalError("the promotion failed before the new epoch (" +
                               std::string(w.message()) +
                               "); this standby no longer follows its primary: restart it");
  }
  // A standby that was a deposed primary once is a primary again by
  // promotion, the one legitimate way (net/deposition_marker.h).
  if (absl::Status r = RemoveDeposedMarker(options_.data_dir); !r.ok())
    spdlog::warn("PROMOTE: {} (a later start without --replica-of will refuse this directory)",
                 std::string(r.message()));
  st->barrier.Release(1);
  if (!st->barrier.WaitAll(2, stopping)) return gave_up();
  // Every shard is parked: their states stand still while they are read.
  st->plan = PlanRollForward();
  st->barrier.Release(2);
  if (!st->barrier.WaitAll(3, stopping)) return gave_up();
  for (const char failed : st->log_failed)
    if (failed) return core::LogFailed();
  promotion_ = Promotion::kDone;
  if (replication_fd_ >= 0) StartAcceptor();
  // The old primary may still be running, cut off: it is told it is
  // deposed, for as long as it takes (docs/replication.md "Fencing").
  StartNotifier(core::Epoch(st->next_epoch));
  spdlog::warn("PROMOTED: werk is now the PRIMARY, epoch {}; it has NO STANDBY: writes are "
               "acknowledged from its own log alone{}",
               st->next_epoch,
               replication_fd_ >= 0
                   ? " until a standby attaches on " + replication_address_
                   : std::string(" (no --replication-bind: no standby can attach)"));
  return core::OkStatus();
}

}  // namespace werk::net
