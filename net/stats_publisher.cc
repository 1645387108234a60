#include "net/stats_publisher.h"

namespace werk::net {

void StatsPublisher::BuildPending(core::Lsn lsn) {
  if (pending_count_ < kPendingMax) ++pending_count_;
  Pending& p = pending(pending_count_ - 1);
  p.lsn = lsn;
  build_(&p.summary);
}

void StatsPublisher::OnDurable(core::Lsn durable) {
  const core::Lsn appended = runtime_->journal().appended_lsn();
  const uint64_t activity = activity_();
  const int64_t mono_ms = runtime_->mono_ms();
  if (appended != built_lsn_ || activity != built_activity_ ||
      mono_ms - built_mono_ms_ >= kRefreshMillis) {
    BuildPending(appended);
    built_lsn_ = appended;
    built_activity_ = activity;
    built_mono_ms_ = mono_ms;
  }
  // The newest snapshot whose state is all durable.
  if (pending_count_ == 0 || pending(0).lsn > durable) return RefreshStale(mono_ms);
  while (pending_count_ > 1 && pending(1).lsn <= durable) PopPending();
  // Publish() swaps the value it replaces into the slot; it refuses only
  // while readers linger in every other slot, and then the next turn tries
  // again.
  if (!published_.Publish(pending(0).summary)) return;
  published_mono_ms_ = mono_ms;
  PopPending();
}

void StatsPublisher::RefreshStale(int64_t mono_ms) {
  if (pending_count_ == 0 || mono_ms - published_mono_ms_ < kRefreshMillis) return;
  std::optional<ShardSummary> current = published_.Read();
  if (!current) return;
  current->replication = pending(pending_count_ - 1).summary.replication;
  if (published_.Publish(*current)) published_mono_ms_ = mono_ms;
}

void StatsPublisher::PublishNow() {
  head_ = 0;
  pending_count_ = 0;
  built_lsn_ = runtime_->journal().appended_lsn();
  built_activity_ = activity_();
  built_mono_ms_ = runtime_->mono_ms();
  BuildPending(built_lsn_);
  // Before the loop runs, or on its thread between turns: a reader inside
  // every other slot at once is possible only in theory; then the value is
  // published by the next turn.
  if (published_.Publish(pending(0).summary)) PopPending();
}

}  // namespace werk::net
