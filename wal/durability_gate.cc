#include "wal/durability_gate.h"

#include <spdlog/spdlog.h>

namespace werk::wal {

DurabilityGate::DurabilityGate(core::Journal* log, const core::Clock& clock,
                               int64_t stop_grace_ns)
    : log_(log), clock_(clock), stop_grace_ns_(stop_grace_ns) {}

core::Lsn DurabilityGate::Gated() const {
  const core::Lsn local = log_->durable_lsn();
  if (mode_ == Mode::kLocal && local >= local_from_) return local;
  return std::max(floor_, std::min(local, acked_));
}

core::Lsn DurabilityGate::durable_lsn() const { return fenced_ ? floor_ : Gated(); }

void DurabilityGate::SetMode(Mode mode, core::Lsn local_from) {
  local_from_ = mode == Mode::kLocal ? local_from : core::Lsn(0);
  // Fenced is final: no mode change may move the floor again.
  if (mode == mode_ || fenced_) {
    mode_ = mode;
    return;
  }
  // Entering kSync must not take back what kLocal released.
  if (mode == Mode::kSync) floor_ = std::max(floor_, Gated());
  mode_ = mode;
}

void DurabilityGate::Fence() {
  if (fenced_) return;
  floor_ = Gated();
  fenced_ = true;
}

void DurabilityGate::Abandon(std::string why) {
  if (abandoned_) return;
  abandoned_ = true;
  abandon_reason_ = std::move(why);
}

uint64_t DurabilityGate::unacknowledged() const {
  const core::Lsn appended = log_->appended_lsn();
  return appended > acked_ ? appended.value() - acked_.value() : 0;
}

void DurabilityGate::OnStop() { stop_at_ns_ = clock_.MonotonicNow(); }

void DurabilityGate::OnTurn() {
  if (stop_at_ns_ < 0 || abandoned_ || !Waiting()) return;
  // Fenced, nothing more will ever be released: no point waiting.
  if (!fenced_ && clock_.MonotonicNow() - stop_at_ns_ < stop_grace_ns_) return;
  if (fenced_) {
    spdlog::error("stopping: deposed (a newer epoch exists), so LSN {}..{} is never "
                  "acknowledged; the replies that wait for them are not sent",
                  floor_.value() + 1, log_->durable_lsn().value());
    Abandon("deposed: a newer epoch exists");
    return;
  }
  spdlog::error("stopping: the standby did not acknowledge LSN {}..{} within {} ms; the "
                "replies that wait for them are not sent (their clients see the connection "
                "close, never a false +OK)",
                acked_.value() + 1, log_->durable_lsn().value(), stop_grace_ns_ / 1'000'000);
  Abandon("the standby did not acknowledge what was held at shutdown");
}

int64_t DurabilityGate::WaitBudgetNs() {
  if (stop_at_ns_ < 0 || abandoned_ || !Waiting()) return core::kNoDeadline;
  if (fenced_) return 0;
  return std::max<int64_t>(0, stop_at_ns_ + stop_grace_ns_ - clock_.MonotonicNow());
}

}  // namespace werk::wal
