#include "core/job.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "core/limits.h"

namespace werk::core {

Job::Ptr Job::Create(const JobSpec& spec, uint64_t seq) {
  JobView v{spec.jid,        spec.jobtype,    spec.queue,  spec.args_json,
            spec.custom_json, spec.created_at, spec.at,     spec.retry,
            spec.reserve_for, spec.backtrace,  spec.failure ? &*spec.failure : nullptr};
  return Create(v, seq);
}

Job::Ptr Job::Create(const JobView& spec, uint64_t seq) {
  const std::string_view parts[kStrings] = {spec.jid,        spec.jobtype,     spec.queue,
                                            spec.args_json,  spec.custom_json, spec.created_at,
                                            spec.at};
  size_t total = 0;
  for (auto p : parts) total += p.size();
  WERK_CHECK(total < UINT32_MAX);
  void* mem = ::operator new(sizeof(Job) + total, std::align_val_t(alignof(Job)));
  Job* job = new (mem) Job();
  char* base = reinterpret_cast<char*>(job + 1);
  uint32_t off = 0;
  for (int i = 0; i < kStrings; ++i) {
    job->offsets_[i] = off;
    if (!parts[i].empty()) std::memcpy(base + off, parts[i].data(), parts[i].size());
    off += uint32_t(parts[i].size());
  }
  job->offsets_[kStrings] = off;
  job->retry_ = spec.retry;
  auto clamp32 = [](int64_t v) {
    return int32_t(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
  };
  job->reserve_for_ = clamp32(spec.reserve_for);
  job->backtrace_ = clamp32(spec.backtrace);
  job->seq_ = seq;
  if (spec.failure) job->failure = std::make_unique<Failure>(*spec.failure);
  return Ptr(job);
}

void Job::Destroy(Job* j) {
  j->~Job();
  ::operator delete(j, std::align_val_t(alignof(Job)));
}

size_t Job::footprint_bytes() const { return sizeof(Job) + offsets_[kStrings]; }

JobSpec Job::ToSpec() const {
  JobSpec s;
  s.jid = jid();
  s.jobtype = jobtype();
  s.queue = queue_name();
  s.args_json = args_json();
  s.custom_json = custom_json();
  s.created_at = created_at();
  s.at = at();
  s.retry = retry_;
  s.reserve_for = reserve_for_;
  s.backtrace = backtrace_;
  if (failure) s.failure = *failure;
  return s;
}

int64_t EffectiveReserveSeconds(int64_t reserve_for, int64_t min_seconds) {
  if (reserve_for == 0) return kReserveForSecondsDefault;
  if (reserve_for < min_seconds) return min_seconds;
  if (reserve_for > kReserveForSecondsMax) return kReserveForSecondsMax;
  return reserve_for;
}

}  // namespace werk::core
