#include "net/stats_publisher.h"

namespace werk::net {

namespace {
constexpr size_t kSparesMax = 4;
}  // namespace

std::shared_ptr<ShardSummary> StatsPublisher::Build() {
  std::shared_ptr<ShardSummary> s;
  for (size_t i = 0; i < spare_.size(); ++i) {
    // Held by nobody else: neither published nor pending, so no reader can
    // take it again, and every reader that had it let go.
    if (spare_[i].use_count() != 1) continue;
    // A copy dropped at once: its release of the count is an acquire-release
    // operation after the last reader's, so what the readers read of it
    // happens before it is built into again.
    { std::shared_ptr<ShardSummary> sync = spare_[i]; }
    s = std::move(spare_[i]);
    spare_.erase(spare_.begin() + long(i));
    break;
  }
  if (!s) s = std::make_shared<ShardSummary>();
  build_(s.get());
  return s;
}

void StatsPublisher::Publish(std::shared_ptr<ShardSummary> summary) {
  published_.Publish(summary);
  Retire(std::exchange(current_, std::move(summary)));
}

void StatsPublisher::Retire(std::shared_ptr<ShardSummary> summary) {
  if (summary && spare_.size() < kSparesMax) spare_.push_back(std::move(summary));
}

void StatsPublisher::OnDurable(core::Lsn durable) {
  const core::Lsn appended = runtime_->journal().appended_lsn();
  const uint64_t activity = activity_();
  const int64_t mono_ms = runtime_->mono_ms();
  if (appended != built_lsn_ || activity != built_activity_ ||
      mono_ms - built_mono_ms_ >= kRefreshMillis) {
    pending_.push_back({appended, Build()});
    built_lsn_ = appended;
    built_activity_ = activity;
    built_mono_ms_ = mono_ms;
  }
  // The newest snapshot whose state is all durable.
  std::shared_ptr<ShardSummary> newest;
  while (!pending_.empty() && pending_.front().lsn <= durable) {
    Retire(std::exchange(newest, std::move(pending_.front().summary)));
    pending_.pop_front();
  }
  if (newest) Publish(std::move(newest));
}

void StatsPublisher::PublishNow() {
  for (Pending& p : pending_) Retire(std::move(p.summary));
  pending_.clear();
  built_lsn_ = runtime_->journal().appended_lsn();
  built_activity_ = activity_();
  built_mono_ms_ = runtime_->mono_ms();
  Publish(Build());
}

}  // namespace werk::net
