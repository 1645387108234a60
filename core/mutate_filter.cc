#include "core/mutate_filter.h"

#include "core/job_json.h"

namespace werk::core {

MutateMatcher::MutateMatcher(const std::optional<MutateFilter>& f) : f_(f) {
  if (!f_) return;
  jids_.insert(f_->jids.begin(), f_->jids.end());
  if (f_->jids.empty() && !f_->regexp.empty()) glob_.emplace(f_->regexp);
}

bool MutateMatcher::Matches(const Job& job) {
  if (!f_) return true;
  if (!f_->jids.empty()) return jids_.contains(job.jid());
  if (glob_) {
    if (!f_->jobtype.empty() && job.jobtype() != f_->jobtype) return false;
    scratch_.clear();
    AppendJobJson(scratch_, job);
    return glob_->Match(scratch_);
  }
  if (!f_->jobtype.empty()) return job.jobtype() == f_->jobtype;
  return true;
}

bool MutatesEverything(const MutateSetRecord& r) {
  return r.cmd == MutateCmd::kClear || (r.cmd == MutateCmd::kDiscard && !r.filter);
}

JobState SetState(SetTarget t) {
  switch (t) {
    case SetTarget::kRetries: return JobState::kRetry;
    case SetTarget::kScheduled: return JobState::kScheduled;
    case SetTarget::kDead: return JobState::kDead;
  }
  return JobState::kDead;
}

}  // namespace werk::core
