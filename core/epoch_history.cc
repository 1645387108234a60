#include "core/epoch_history.h"

#include <cstdio>

#include <absl/status/status.h>

namespace werk::core {

std::string EpochRunName(uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

// Codes only, as every outcome of Apply (core/replay.cc describes them).
OpStatus EpochHistory::Begin(EpochStart start) {
  if (start.epoch.value() == 0 || start.first_lsn.value() == 0)
    return absl::InvalidArgumentError({});
  if (!entries_.empty()) {
    const EpochStart& last = entries_.back();
    if (start.epoch < last.epoch || start.first_lsn <= last.first_lsn)
      return absl::FailedPreconditionError({});
    // A new run of the same epoch is told from the last one only by its id.
    if (start.epoch == last.epoch && (start.id == 0 || start.id == last.id))
      return absl::FailedPreconditionError({});
  }
  entries_.push_back(std::move(start));
  return OkStatus();
}

std::optional<Lsn> EpochHistory::ForkOf(std::span<const EpochStart> other, bool other_truncated,
                                        Lsn other_last) const {
  // Line the two histories up: from their first entries, or, for a
  // truncated one, from where its oldest entry is in this one.
  size_t mine = 0;
  if (other_truncated && !other.empty()) {
    while (mine < entries_.size() && !entries_[mine].SameRun(other.front())) ++mine;
    if (mine == entries_.size()) {
      const Lsn first = other.front().first_lsn;
      return other_last >= first ? std::optional<Lsn>(first) : std::nullopt;
    }
  }
  size_t theirs = 0;
  while (mine < entries_.size() && theirs < other.size() &&
         entries_[mine].SameRun(other[theirs])) {
    ++mine;
    ++theirs;
  }
  // Both logs hold the last shared run (or neither has begun one: the
  // records before any epoch record, of a new log) up to where either
  // begins a run the other lacks.
  std::optional<Lsn> fork;
  if (mine < entries_.size()) fork = entries_[mine].first_lsn;
  if (theirs < other.size() && (!fork || other[theirs].first_lsn < *fork))
    fork = other[theirs].first_lsn;
  if (fork && other_last >= *fork) return fork;
  return std::nullopt;
}

std::optional<Lsn> EpochHistory::ForkAfter(Epoch epoch) const {
  for (const EpochStart& e : entries_)
    if (e.epoch > epoch) return e.first_lsn;
  return std::nullopt;
}

}  // namespace werk::core
