#pragma once
// A MUTATE over a large set, cut into slices (issue: no command stalls the
// server). Each slice scans a bounded part of the set from a cursor and names
// what it matched in a record of its own — the same MUTATE, its filter
// replaced by the matched jids — which the shard logs and applies before the
// next slice; replay and a standby apply those records and never scan.
//
// Like Faktory's MUTATE (a ZSCAN over the sorted set), the whole is not one
// instant: every job in the set from the first slice to the last is acted on
// once; a job that enters the set meanwhile, or moves within it, may or may
// not be. The scan ends where the set ended when it began, so a job the
// mutation itself moves forward (a kill of dead jobs) is never met again.
// A filter of jids is walked through the list instead of the set.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/job_index.h"
#include "core/mutate_filter.h"
#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {

class MutateSlicer {
 public:
  explicit MutateSlicer(MutateSetRecord op);
  MutateSlicer(const MutateSlicer&) = delete;
  MutateSlicer& operator=(const MutateSlicer&) = delete;

  // Scans up to `max_scan` more jobs (or listed jids) and adds those that
  // match to `slice`, at most `max_matched` in it (the slice record: start
  // it with Slice()). Call again, with the same or a new slice, until done().
  void Scan(const StateMachine& sm, size_t max_scan, size_t max_matched, MutateSetRecord* slice);
  bool done() const { return done_; }

  // An empty slice record: the operation with an empty list of jids (a
  // `clear` becomes a `discard` of the listed jobs).
  MutateSetRecord Slice() const;
  // How many jids a slice holds.
  static size_t Matched(const MutateSetRecord& slice) { return slice.filter->jids.size(); }

 private:
  void ScanSet(const StateMachine& sm, size_t max_scan, size_t max_matched,
               MutateSetRecord* slice);
  void ScanJids(const StateMachine& sm, size_t max_scan, size_t max_matched,
                MutateSetRecord* slice);

  const MutateSetRecord op_;
  MutateMatcher matcher_;
  const bool everything_;
  bool started_ = false;
  bool done_ = false;
  std::optional<SetPosition> last_;  // the last job scanned
  SetPosition end_;                  // the set's last job when the scan began
  std::vector<std::string> jids_;    // a filter's jids, each once, in order
  size_t next_jid_ = 0;
};

}  // namespace werk::core
