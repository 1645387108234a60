#pragma once
// Fires the cron table (docs/cron.md): a participant of one shard's loop
// (the first) that pushes each due tick through core::JobService to the
// shard owning its job, as a cron-push record: the job and "entry E fired
// tick T" in one record (invariant I5).
//
// Only a writable primary fires. When the shard becomes writable (the first
// turn after recovery, a promotion, a write refusal lifted) the driver first
// gathers the latest tick fired of every entry from every shard's state —
// what recovery or the standby's stream left there — and starts the
// scheduler from it; so a restart or a promotion continues where the log
// ends, neither repeating nor skipping the tick that was in flight (within
// the entry's grace).
//
// Thread affinity: the shard's thread, except Read().

#include <cstdint>
#include <memory>
#include <optional>

#include <absl/container/flat_hash_set.h>

#include "core/job_service.h"
#include "core/participant.h"
#include "core/published.h"
#include "core/shard_runtime.h"
#include "cron/scheduler.h"
#include "cron/view.h"

namespace werk::cron {

class Driver final : public core::Participant {
 public:
  // A push the log refused is tried again this much later.
  static constexpr int64_t kRetryMs = 1000;

  Driver(core::ShardRuntime* runtime, core::JobService* service, core::JobLimits limits);

  // The table to fire: the first, and each reload (which keeps the state of
  // the entries that stay).
  void SetTable(std::shared_ptr<const Table> table);

  // Any thread: the latest published view (none before the first turn).
  std::optional<View> Read() const { return published_.Read(); }

  const Table* table() const { return table_.get(); }
  const Scheduler& scheduler() const { return scheduler_; }
  bool active() const { return active_; }

  void OnTurn() override;
  void OnDurable(core::Lsn durable) override;
  void OnLogFailed() override { stopped_ = true; }
  void OnStop() override { stopped_ = true; }
  int64_t WaitBudgetNs() override;

 private:
  // Asks every shard for the ticks its state says fired; starts the
  // scheduler from them.
  void Gather();
  void FireDue();
  void Done(const Scheduler::Fire& fire, const core::OpStatus& status);
  void BuildView(View* view) const;

  core::ShardRuntime* runtime_;
  core::JobService* service_;
  core::JobLimits limits_;
  std::shared_ptr<const Table> table_;
  // When each entry (by id) was first in a table here (unix ms).
  absl::flat_hash_map<uint64_t, int64_t> loaded_ms_;
  Scheduler scheduler_;
  bool active_ = false;     // firing
  bool gathering_ = false;  // a Gather is under way
  bool stopped_ = false;
  bool dirty_ = true;       // the view is out of date
  absl::flat_hash_set<uint64_t> failing_;  // entries whose last push failed (logged)
  uint64_t fired_total_ = 0;
  uint64_t failed_total_ = 0;
  // Bumped by every activation: results of an older one only update state.
  uint64_t generation_ = 0;
  View view_;  // built into, then swapped with the published one
  core::Published<View> published_;
};

}  // namespace werk::cron
