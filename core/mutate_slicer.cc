#include "core/mutate_slicer.h"

#include <string_view>
#include <utility>

#include <absl/container/flat_hash_set.h>

namespace werk::core {

MutateSlicer::MutateSlicer(MutateSetRecord op)
    : op_(std::move(op)), matcher_(op_.filter), everything_(MutatesEverything(op_)) {
  if (everything_ || !op_.filter) return;
  absl::flat_hash_set<std::string_view> seen;
  for (const auto& jid : op_.filter->jids)
    if (seen.insert(jid).second) jids_.push_back(jid);
}

MutateSetRecord MutateSlicer::Slice() const {
  MutateSetRecord s;
  s.cmd = op_.cmd == MutateCmd::kClear ? MutateCmd::kDiscard : op_.cmd;
  s.target = op_.target;
  s.filter.emplace();
  return s;
}

void MutateSlicer::Scan(const StateMachine& sm, size_t max_scan, size_t max_matched,
                        MutateSetRecord* slice) {
  if (done_) return;
  if (!jids_.empty())
    ScanJids(sm, max_scan, max_matched, slice);
  else
    ScanSet(sm, max_scan, max_matched, slice);
}

void MutateSlicer::ScanSet(const StateMachine& sm, size_t max_scan, size_t max_matched,
                           MutateSetRecord* slice) {
  const JobSet& set = sm.Set(op_.target);
  if (!started_) {
    started_ = true;
    if (set.empty()) {
      done_ = true;
      return;
    }
    end_ = SetPosition::Of(*set.rbegin());
  }
  auto it = last_ ? set.upper_bound(*last_) : set.begin();
  for (size_t scanned = 0; scanned < max_scan && Matched(*slice) < max_matched; ++scanned, ++it) {
    if (it == set.end() || SetPosition::Of(*it) > end_) {
      done_ = true;
      return;
    }
    const Job* job = *it;
    last_ = SetPosition::Of(job);
    if (everything_ || matcher_.Matches(*job)) slice->filter->jids.emplace_back(job->jid());
  }
  // Stopped on a budget with nothing left after the last job scanned.
  if (it == set.end() || SetPosition::Of(*it) > end_) done_ = true;
}

void MutateSlicer::ScanJids(const StateMachine& sm, size_t max_scan, size_t max_matched,
                            MutateSetRecord* slice) {
  const auto& jids = jids_;
  const JobState state = SetState(op_.target);
  for (size_t scanned = 0; scanned < max_scan && Matched(*slice) < max_matched &&
                           next_jid_ < jids.size();
       ++scanned, ++next_jid_) {
    const Job* job = sm.FindJob(jids[next_jid_]);
    if (job && job->state == state) slice->filter->jids.push_back(jids[next_jid_]);
  }
  if (next_jid_ == jids.size()) done_ = true;
}

}  // namespace werk::core
