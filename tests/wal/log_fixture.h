#pragma once
// A shard's storage stack without the network: a state machine, the real Wal
// and Checkpointer, on MemStorage. Mutations go through Apply-then-Append as
// in the shard; Reopen() is a restart (recovery into a fresh state machine).

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/mutation.h"
#include "core/state_machine.h"
#include "tests/support/mem_storage.h"
#include "wal/checkpointer.h"
#include "wal/recovery.h"
#include "wal/wal.h"

namespace werk::testing {

struct LogFixtureOptions {
  uint64_t segment_bytes = 4096;
  size_t batch_bytes_max = 1024;
  uint64_t checkpoint_log_bytes = 1u << 30;  // only on request by default
  size_t checkpoint_slice_jobs = 1024;
  bool repair = false;
  size_t follower_retained_bytes_max = wal::kFollowerRetainedBytesDefault;
  size_t recycled_segments_max = wal::kRecycledSegmentsMax;
  int64_t recycled_trim_idle_ns = wal::kRecycledTrimIdleNs;
};

class LogFixture {
 public:
  using Options = LogFixtureOptions;

  explicit LogFixture(MemStorage* storage, Options o = {}) : storage_(storage), o_(o) {}

  // Recovers from the storage into a fresh state machine and a fresh Wal.
  absl::Status Open() {
    checkpointer_.reset();
    wal_.reset();
    sm_ = std::make_unique<core::StateMachine>(clock_.WallNow() / core::kNanosPerMilli);
    replayed_.clear();
    wal::RecoveryOptions ro;
    ro.repair = o_.repair;
    ro.torn_window_bytes = wal::kWritesInFlightMax * o_.batch_bytes_max;
    wal::RecoverySinks sinks;
    sinks.item = [this](core::SnapshotItemType t, std::string_view b) {
      return sm_->RestoreItem(t, b);
    };
    sinks.items_done = [this] { sm_->FinishRestore(); };
    sinks.record = [this](core::Lsn lsn, std::string_view body) {
      auto m = core::DecodeMutation(body);
      if (!m || sm_->Apply(*m) != absl::OkStatus()) ++divergent_;
      replayed_.push_back(lsn.value());
      return absl::OkStatus();
    };
    auto r = wal::Recover(*storage_, ro, sinks);
    if (!r.ok()) return r.status();
    result_ = std::move(*r);
    for ([[maybe_unused]] const auto& note : result_.notes) SPDLOG_DEBUG("recovery: {}", note);
    wal::Wal::Options wo;
    wo.segment_bytes = o_.segment_bytes;
    wo.batch_bytes_max = o_.batch_bytes_max;
    wo.epoch = result_.epoch;
    wo.follower_retained_bytes_max = o_.follower_retained_bytes_max;
    wo.recycled_segments_max = o_.recycled_segments_max;
    wo.recycled_trim_idle_ns = o_.recycled_trim_idle_ns;
    wal_ = std::make_unique<wal::Wal>(storage_, clock_, wo, std::move(result_.position));
    wal::Checkpointer::Options co;
    co.min_log_bytes = o_.checkpoint_log_bytes;
    co.slice_jobs = o_.checkpoint_slice_jobs;
    checkpointer_ = std::make_unique<wal::Checkpointer>(
        storage_, wal_.get(), clock_, co, result_.checkpoint_lsn, result_.checkpoint_bytes);
    return absl::OkStatus();
  }

  // Apply, then append (what Shard::Commit does). Returns the LSN, or 0 if
  // the state machine refused the mutation.
  uint64_t Commit(const core::Mutation& m) {
    if (sm_->Apply(m) != absl::OkStatus()) return 0;
    return wal_->Append(core::EncodeMutation(m)).value();
  }
  uint64_t Push(const std::string& jid, const std::string& queue = "default") {
    core::JobSpec s;
    s.jid = jid;
    s.jobtype = "T";
    s.queue = queue;
    s.args_json = "[\"" + jid + "\"]";
    s.created_at = "2026-11-22T00:00:00Z";
    return Commit(core::Mutation::Push(clock_.WallNow(), s));
  }
  // One loop iteration's worth of log work, with every I/O completed.
  void Flush() {
    for (int i = 0; i < 100; ++i) {
      wal_->Commit();
      checkpointer_->Poll(*sm_);
      if (storage_->RunPending() == 0 && !wal_->commit_pending() && !checkpointer_->busy()) return;
    }
  }
  void Checkpoint() {
    checkpointer_->RequestNow();
    Flush();
  }

  core::StateMachine& sm() { return *sm_; }
  wal::Wal& wal() { return *wal_; }
  wal::Checkpointer& checkpointer() { return *checkpointer_; }
  core::ManualClock& clock() { return clock_; }
  const wal::RecoveryResult& result() const { return result_; }
  const std::vector<uint64_t>& replayed() const { return replayed_; }
  uint64_t divergent() const { return divergent_; }

 private:
  MemStorage* storage_;
  Options o_;
  core::ManualClock clock_;
  std::unique_ptr<core::StateMachine> sm_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<wal::Checkpointer> checkpointer_;
  wal::RecoveryResult result_;
  std::vector<uint64_t> replayed_;
  uint64_t divergent_ = 0;
};

}  // namespace werk::testing
