#include "net/stats_publisher.h"

#include <utility>

namespace werk::net {

namespace {
constexpr size_t kSparesMax = 4;
}  // namespace

ShardSummary StatsPublisher::Build() {
  ShardSummary s;
  if (!spare_.empty()) {
    s = std::move(spare_.back());
    spare_.pop_back();
  }
  build_(&s);
  return s;
}

void StatsPublisher::Retire(ShardSummary summary) {
  if (spare_.size() < kSparesMax) spare_.push_back(std::move(summary));
}

void StatsPublisher::OnDurable(core::Lsn durable) {
  const core::Lsn appended = runtime_->journal().appended_lsn();
  const uint64_t activity = activity_();
  const int64_t mono_ms = runtime_->mono_ms();
  if (appended != built_lsn_ || activity != built_activity_ ||
      mono_ms - built_mono_ms_ >= kRefreshMillis) {
    if (pending_.size() < kPendingMax) {
      pending_.push_back({appended, Build()});
    } else {
      pending_.back().lsn = appended;
      build_(&pending_.back().summary);
    }
    built_lsn_ = appended;
    built_activity_ = activity;
    built_mono_ms_ = mono_ms;
  }
  // The newest snapshot whose state is all durable.
  if (pending_.empty() || pending_.front().lsn > durable) return RefreshStale(mono_ms);
  while (pending_.size() > 1 && pending_[1].lsn <= durable) {
    Retire(std::move(pending_.front().summary));
    pending_.pop_front();
  }
  // Publish() hands back the value it replaces; it refuses only while
  // readers linger in every other slot, and then the next turn tries again.
  if (!published_.Publish(pending_.front().summary)) return;
  published_mono_ms_ = mono_ms;
  Retire(std::move(pending_.front().summary));
  pending_.pop_front();
}

void StatsPublisher::RefreshStale(int64_t mono_ms) {
  if (pending_.empty() || mono_ms - published_mono_ms_ < kRefreshMillis) return;
  std::optional<ShardSummary> current = published_.Read();
  if (!current) return;
  current->replication = pending_.back().summary.replication;
  if (published_.Publish(*current)) published_mono_ms_ = mono_ms;
}

void StatsPublisher::PublishNow() {
  for (Pending& p : pending_) Retire(std::move(p.summary));
  pending_.clear();
  built_lsn_ = runtime_->journal().appended_lsn();
  built_activity_ = activity_();
  built_mono_ms_ = runtime_->mono_ms();
  ShardSummary s = Build();
  // Before the loop runs, or on its thread between turns: a reader inside
  // every other slot at once is possible only in theory; then the value is
  // published by the next turn.
  if (published_.Publish(s)) {
    Retire(std::move(s));
  } else {
    pending_.push_back({built_lsn_, std::move(s)});
  }
}

}  // namespace werk::net
