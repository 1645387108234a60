#pragma once
// Which jobs of a set a MUTATE acts on (reference §2.10): every job, the
// listed jids, or those whose JSON matches a glob (and, optionally, of one
// jobtype). Shared by Apply and by the slicer that cuts a long MUTATE into
// bounded records (core/mutate_slicer.h).

#include <optional>
#include <string>
#include <string_view>

#include <absl/container/flat_hash_set.h>

#include "core/glob.h"
#include "core/job.h"
#include "core/mutation.h"

namespace werk::core {

// Faktory's filter, with exact field comparison for `jids` and `jobtype`
// instead of substring search over the JSON text. Holds a reference to the
// filter it was built from.
class MutateMatcher {
 public:
  explicit MutateMatcher(const std::optional<MutateFilter>& f);
  MutateMatcher(const MutateMatcher&) = delete;
  MutateMatcher& operator=(const MutateMatcher&) = delete;

  bool Matches(const Job& job);

 private:
  const std::optional<MutateFilter>& f_;
  absl::flat_hash_set<std::string_view> jids_;
  std::optional<Glob> glob_;
  std::string scratch_;
};

// True if `cmd` acts on every job of the set whatever the filter says
// (Faktory's `clear`, and `discard` without a filter).
bool MutatesEverything(const MutateSetRecord& r);

// The job state a set holds.
JobState SetState(SetTarget t);

}  // namespace werk::core
