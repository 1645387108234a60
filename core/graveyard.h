#pragma once
// What FLUSH and QUEUE REMOVE take out of a state machine, freed a slice at a
// time (like Redis's lazy free). Applying either record only detaches — a
// flush swaps the state's containers for empty ones, a removed queue leaves
// the queue map — so the record applies in O(1) (O(queues) for `*`), and the
// jobs themselves are deleted here over the loop iterations that follow.
//
// A removed queue's jobs stay in the state's job index until reclaimed; the
// state machine treats them as absent ("doomed": queued in a removed queue),
// and a push of the same jid replaces the doomed entry. Graves are reclaimed
// oldest first, which keeps one rule simple: a queue removed before a flush
// finds its jobs' index entries in that flush's grave, never freed under it.
//
// Not part of the state: a checkpoint, a digest or a replica never sees it,
// and how far reclamation has come changes nothing observable.
// Single-threaded, owned by the state machine.

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include <absl/container/node_hash_map.h>

#include "core/job_index.h"
#include "core/queue.h"
#include "core/timer_wheel.h"

namespace werk::core {

using QueueMap = absl::node_hash_map<std::string, std::unique_ptr<Queue>, StringHash, StringEq>;

// A flushed state: every container the flush swapped out.
struct FlushedState {
  JobIndex jobs;
  QueueMap queues;
  JobSet scheduled, retries, dead;
  std::unique_ptr<TimerWheel> wheel;  // the jobs' timer hooks still point into it
};

class Graveyard {
 public:
  Graveyard() = default;
  // Frees whatever is left; the owner must have reclaimed every removed
  // queue whose jobs are entries of its live index before that index goes.
  ~Graveyard();
  Graveyard(const Graveyard&) = delete;
  Graveyard& operator=(const Graveyard&) = delete;

  // A removed, marked queue whose jobs are still entries of `live`.
  void BuryQueue(std::unique_ptr<Queue> q, JobIndex* live);
  // Everything a flush swapped out of the state whose job index is `live`;
  // `doomed` of the index's entries are jobs of removed queues (buried
  // already, freed by their queue's grave).
  void BuryFlushed(std::unique_ptr<FlushedState> f, const JobIndex* live, size_t doomed);

  // Frees up to about `max_jobs` jobs (and the containers that held them).
  // Returns how many entries of `live` it erased: doomed jobs of removed
  // queues, which the state machine counts.
  size_t Reclaim(size_t max_jobs, JobIndex* live);

  bool empty() const { return graves_.empty(); }
  // Jobs not yet freed (for tests and INFO).
  size_t pending_jobs() const { return pending_jobs_; }

 private:
  struct Grave {
    // A removed queue, or (queue == nullptr) a flushed state.
    std::unique_ptr<Queue> queue;
    JobIndex* index = nullptr;  // where a removed queue's jobs have entries
    std::unique_ptr<FlushedState> flushed;
    bool started = false;
    JobIndex::iterator job_it;
    QueueMap::iterator queue_it;
  };
  // Frees up to `budget` units of `g`; true when nothing of it is left.
  bool ReclaimQueue(Grave& g, size_t& budget, JobIndex* live, size_t* erased);
  bool ReclaimFlushed(Grave& g, size_t& budget);

  std::deque<Grave> graves_;
  size_t pending_jobs_ = 0;
};

}  // namespace werk::core
