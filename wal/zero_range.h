#pragma once
// How a cut makes frames unreadable: their bytes are overwritten with zeros
// and synced (pwrite + fdatasync, Storage::Overwrite), so a crash afterwards
// cannot bring them back. Recovery's cuts (R4, R8, --repair) and
// TruncateAfter share it. Zeros are what the reader takes for the end of a
// segment (preallocated space never written), and a frame header cannot be
// all zero (its version field is not), so no frame starts inside them.

#include <cstdint>
#include <string>

#include <absl/status/status.h>

#include "wal/storage.h"

namespace werk::wal {

// Zeroes [begin, end) of `name` durably; nothing to do if end <= begin.
inline absl::Status ZeroRange(Storage& storage, const std::string& name, uint64_t begin,
                              uint64_t end) {
  if (end <= begin) return absl::OkStatus();
  return storage.Overwrite(name, begin, std::string(end - begin, '\0'));
}

}  // namespace werk::wal
