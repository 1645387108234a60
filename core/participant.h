#pragma once
// A component that takes part in a shard's loop (core/shard_runtime.h says
// when each hook runs). Every hook runs on the shard's thread.

#include <cstdint>
#include <limits>

#include "core/types.h"

namespace werk::core {

class ShardRuntime;

// No deadline: the participant waits for nothing in particular.
inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

class Participant {
 public:
  virtual ~Participant() = default;
  // After the I/O completions ran; `late_ms`: how much later than it meant
  // to the loop woke (a stopped process, a starved thread).
  virtual void OnWake(int64_t /*late_ms*/) {}
  // After the tasks other shards sent ran, before the journal commits.
  virtual void OnTurn() {}
  // After the commit, unless the journal failed: what is durable now.
  virtual void OnDurable(Lsn /*durable*/) {}
  // Once, when the journal failed: nothing appended since can be durable.
  virtual void OnLogFailed() {}
  // Once, when the shard (or its group) starts stopping.
  virtual void OnStop() {}
  // After the loop ended (not after a log failure); may drive the reactor.
  virtual void OnStopped(ShardRuntime& /*runtime*/) {}
  // How long the loop may sleep as far as this participant is concerned.
  virtual int64_t WaitBudgetNs() { return kNoDeadline; }
  // Stopping: nothing of its own is left to finish.
  virtual bool Quiescent() const { return true; }
  // None of its requests is in flight in the ring.
  virtual bool IoIdle() const { return true; }
};

}  // namespace werk::core
