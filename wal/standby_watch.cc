#include "wal/standby_watch.h"

namespace werk::wal {

std::string_view StandbyPolicyName(StandbyPolicy p) {
  return p == StandbyPolicy::kDegrade ? "degrade" : "required";
}

StandbyWatch::Action StandbyWatch::Observe(int64_t now_ms, core::Lsn durable, core::Lsn acked,
                                           bool linked) {
  if (state_ != State::kWaiting) {
    // Back: linked, past everything that had waited too long (a stalled
    // link that is not given up yet has not), and close to the log's end.
    if (!linked || acked < timed_out_at_ || acked.value() + kCatchUpSlack < durable.value())
      return Action::kNone;
    state_ = State::kWaiting;
    durable_at_.clear();
    last_durable_ = durable;
    if (acked < durable) durable_at_.push_back({durable, now_ms});
    return Action::kResume;
  }
  // The records up to `durable` have waited since now: one mark per
  // millisecond at most, so a standby gone under load costs a mark per
  // millisecond of the timeout, not one per turn.
  if (durable > last_durable_) {
    last_durable_ = durable;
    if (!durable_at_.empty() && durable_at_.back().since_ms == now_ms)
      durable_at_.back().durable = durable;
    else
      durable_at_.push_back({durable, now_ms});
  }
  while (!durable_at_.empty() && durable_at_.front().durable <= acked) durable_at_.pop_front();
  if (durable_at_.empty() || now_ms - durable_at_.front().since_ms < timeout_ms_)
    return Action::kNone;
  durable_at_.clear();
  timed_out_at_ = durable;
  state_ = policy_ == StandbyPolicy::kRequired ? State::kRefusing : State::kAlone;
  return policy_ == StandbyPolicy::kRequired ? Action::kRefuse : Action::kGoAlone;
}

}  // namespace werk::wal
