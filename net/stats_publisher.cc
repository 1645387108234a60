#include "net/stats_publisher.h"

namespace werk::net {

void StatsPublisher::OnDurable(core::Lsn durable) {
  const core::Lsn appended = runtime_->journal().appended_lsn();
  const uint64_t activity = activity_();
  const int64_t mono_ms = runtime_->mono_ms();
  if (appended != built_lsn_ || activity != built_activity_ ||
      mono_ms - built_mono_ms_ >= kRefreshMillis) {
    pending_.push_back({appended, std::make_shared<const ShardSummary>(build_())});
    built_lsn_ = appended;
    built_activity_ = activity;
    built_mono_ms_ = mono_ms;
  }
  // The newest snapshot whose state is all durable.
  std::shared_ptr<const ShardSummary> newest;
  while (!pending_.empty() && pending_.front().lsn <= durable) {
    newest = std::move(pending_.front().summary);
    pending_.pop_front();
  }
  if (newest) published_.Publish(std::move(newest));
}

void StatsPublisher::PublishNow() {
  pending_.clear();
  built_lsn_ = runtime_->journal().appended_lsn();
  built_activity_ = activity_();
  built_mono_ms_ = runtime_->mono_ms();
  published_.Publish(std::make_shared<const ShardSummary>(build_()));
}

}  // namespace werk::net
