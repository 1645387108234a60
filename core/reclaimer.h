#pragma once
// Frees what a FLUSH or QUEUE REMOVE took out of a state machine (its
// graveyard, core/graveyard.h) a slice at a time, as a participant of the
// shard's loop: a quarter of a millisecond per iteration
// (kReclaimNanosPerIteration). Freeing costs more than it seems: glibc sorts
// the chunks freed into its bins at the next malloc, which takes about twice
// as long again (1M jobs: ~0.45 s over ~780 iterations per shard,
// docs/benchmarks.md).

#include "core/clock.h"
#include "core/limits.h"
#include "core/participant.h"
#include "core/state_machine.h"

namespace werk::core {

class Reclaimer final : public Participant {
 public:
  Reclaimer(StateMachine* sm, const Clock& clock) : sm_(sm), clock_(clock) {}

  void OnTurn() override {
    if (!sm_->has_garbage()) return;
    const int64_t deadline = clock_.MonotonicNow() + kReclaimNanosPerIteration;
    do {
      sm_->Reclaim(kReclaimJobsPerSlice);
    } while (sm_->has_garbage() && clock_.MonotonicNow() < deadline);
  }
  // More to free: come back soon, but leave the core to others for as long
  // as a slice takes (anything that arrives ends the wait at once).
  int64_t WaitBudgetNs() override {
    return sm_->has_garbage() ? kReclaimNanosPerIteration : kNoDeadline;
  }

 private:
  StateMachine* sm_;
  const Clock& clock_;
};

}  // namespace werk::core
