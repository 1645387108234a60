#include "core/graveyard.h"

#include <algorithm>
#include <limits>

#include "core/check.h"

namespace werk::core {

namespace {

// Frees up to `budget` entries of an ordered set, from the front.
bool ShrinkSet(JobSet& set, size_t& budget) {
  while (!set.empty() && budget > 0) {
    const size_t n = std::min(budget, set.size());
    auto end = set.begin();
    std::advance(end, n);
    set.erase(set.begin(), end);
    budget -= n;
  }
  return set.empty();
}

}  // namespace

Graveyard::~Graveyard() {
  // The owner reclaims before its own index goes (a queue grave erases from
  // it); what is left here only refers to indexes of flushed graves.
  Reclaim(std::numeric_limits<size_t>::max(), nullptr);
}

void Graveyard::BuryQueue(std::unique_ptr<Queue> q, JobIndex* live) {
  WERK_DCHECK(q->removed());
  pending_jobs_ += q->size();
  graves_.push_back(Grave{.queue = std::move(q), .index = live});
}

void Graveyard::BuryFlushed(std::unique_ptr<FlushedState> f, const JobIndex* live,
                            size_t doomed) {
  // Queues removed before the flush have their jobs' entries in the flushed
  // index now; they are freed before it (oldest first), and erase them.
  for (Grave& g : graves_)
    if (g.queue && g.index == live) g.index = &f->jobs;
  WERK_CHECK(doomed <= f->jobs.size());
  pending_jobs_ += f->jobs.size() - doomed;
  graves_.push_back(Grave{.flushed = std::move(f)});
}

size_t Graveyard::Reclaim(size_t max_jobs, JobIndex* live) {
  size_t budget = std::max<size_t>(max_jobs, 1);
  size_t erased = 0;
  while (!graves_.empty() && budget > 0) {
    Grave& g = graves_.front();
    const bool done = g.queue ? ReclaimQueue(g, budget, live, &erased) : ReclaimFlushed(g, budget);
    if (!done) break;
    graves_.pop_front();
  }
  return erased;
}

bool Graveyard::ReclaimQueue(Grave& g, size_t& budget, JobIndex* live, size_t* erased) {
  while (budget > 0) {
    Job* j = g.queue->PopFront();
    if (!j) return true;
    // The entry may be gone already: a push of the same jid replaced it.
    auto it = g.index->find(j->jid());
    if (it != g.index->end() && *it == j) {
      g.index->erase(it);
      if (g.index == live) ++*erased;
    }
    Job::Ptr owned(j);
    --pending_jobs_;
    --budget;
  }
  return g.queue->empty();
}

bool Graveyard::ReclaimFlushed(Grave& g, size_t& budget) {
  FlushedState& f = *g.flushed;
  if (!g.started) {
    g.started = true;
    g.job_it = f.jobs.begin();
    g.queue_it = f.queues.begin();
  }
  // Jobs first (their hooks point into the queues and the wheel, which are
  // never touched again), then the containers, a slice at a time.
  for (; g.job_it != f.jobs.end() && budget > 0; ++g.job_it, --budget) {
    Job::Ptr owned(*g.job_it);
    WERK_DCHECK(pending_jobs_ > 0);
    --pending_jobs_;
  }
  if (g.job_it != f.jobs.end()) return false;
  for (JobSet* set : {&f.scheduled, &f.retries, &f.dead})
    if (!ShrinkSet(*set, budget)) return false;
  for (; g.queue_it != f.queues.end() && budget > 0; --budget) f.queues.erase(g.queue_it++);
  if (g.queue_it != f.queues.end()) return false;
  // The index's own array and the wheel's slots are freed in one go.
  return true;
}

}  // namespace werk::core
