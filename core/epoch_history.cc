#include "core/epoch_history.h"

#include <absl/status/status.h>

namespace werk::core {

// Codes only, as every outcome of Apply (core/replay.cc describes them).
OpStatus EpochHistory::Begin(EpochStart start) {
  if (start.epoch.value() == 0 || start.first_lsn.value() == 0)
    return absl::InvalidArgumentError({});
  if (!entries_.empty()) {
    const EpochStart& last = entries_.back();
    if (start.epoch <= last.epoch || start.first_lsn <= last.first_lsn)
      return absl::FailedPreconditionError({});
  }
  entries_.push_back(std::move(start));
  return OkStatus();
}

std::optional<Lsn> EpochHistory::ForkAfter(Epoch epoch) const {
  for (const EpochStart& e : entries_)
    if (e.epoch > epoch) return e.first_lsn;
  return std::nullopt;
}

}  // namespace werk::core
