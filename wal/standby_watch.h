#pragma once
// When a primary stops waiting for its standby (docs/replication.md "When the
// standby is gone"): the standby policy's clock, for one shard, with no I/O.
//
// The shard tells it, every turn, what its log has made durable and what the
// standby has acknowledged; it answers with what to do. A write waits for the
// standby until the oldest record the standby has not acknowledged has been
// durable here for the standby timeout. Then, by policy:
//   required  writes are refused (nothing is acknowledged) until the standby
//             is linked again and has caught up; the replies waiting for it
//             get an error instead;
//   degrade   the shard goes on alone (its gate releases what its own log
//             made durable) until the standby is linked again and has caught
//             up; then it waits for it again.
// "Caught up": the standby acknowledged everything that was durable here when
// the timeout struck (so a link that stalled and is not given up yet does not
// count), and everything since up to kCatchUpSlack records (under a steady
// load it never acknowledges exactly the newest record; the gate holds what
// remains until it does).
//
// A stalled standby that still acknowledges something keeps the clock moving
// only as far as it acknowledges: what counts is the age of the oldest record
// still waiting, not the time since the last acknowledgement.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <deque>
#include <string_view>

#include "core/types.h"

namespace werk::wal {

enum class StandbyPolicy : uint8_t { kRequired, kDegrade };
std::string_view StandbyPolicyName(StandbyPolicy p);

class StandbyWatch {
 public:
  // Records of slack a returning standby may still be behind by.
  static constexpr uint64_t kCatchUpSlack = 256;

  enum class State : uint8_t {
    kWaiting,   // writes wait for the standby (the normal state)
    kRefusing,  // required: timed out; writes are refused
    kAlone,     // degrade: timed out; writes are acknowledged alone
  };
  enum class Action : uint8_t {
    kNone,
    kRefuse,   // kWaiting → kRefusing
    kGoAlone,  // kWaiting → kAlone
    kResume,   // kRefusing or kAlone → kWaiting: the standby has caught up
  };

  StandbyWatch(StandbyPolicy policy, int64_t timeout_ms, State initial = State::kWaiting)
      : policy_(policy), timeout_ms_(timeout_ms), state_(initial) {}

  // One turn: `durable` is what the local log has made durable, `acked` what
  // the standby has acknowledged, `linked` whether a standby link is up.
  Action Observe(int64_t now_ms, core::Lsn durable, core::Lsn acked, bool linked);

  State state() const { return state_; }
  StandbyPolicy policy() const { return policy_; }
  int64_t timeout_ms() const { return timeout_ms_; }
  // When the oldest record still waiting became durable (-1: none waits).
  int64_t waiting_since_ms() const {
    return durable_at_.empty() ? -1 : durable_at_.front().since_ms;
  }
  // When Observe could next act on its own (the timeout of the oldest
  // waiting record), or -1.
  int64_t deadline_ms() const {
    return state_ == State::kWaiting && !durable_at_.empty()
               ? durable_at_.front().since_ms + timeout_ms_
               : -1;
  }

 private:
  struct Mark {
    core::Lsn durable;  // durable up to here...
    int64_t since_ms;   // ...since then
  };
  StandbyPolicy policy_;
  int64_t timeout_ms_;
  State state_;
  core::Lsn last_durable_{0};
  core::Lsn timed_out_at_{0};  // the durable LSN when the timeout struck
  std::deque<Mark> durable_at_;  // kWaiting: marks above `acked`, oldest first
};

}  // namespace werk::wal
