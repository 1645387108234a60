#pragma once
// The data directory's record that its server was promoted from standby to
// primary (docs/replication.md "Promotion"): a file, PROMOTED, written
// durably when a promotion begins, before the new epoch is logged. A server
// started with --replica-of on a promoted data directory follows only a
// primary of a newer epoch than the promotion's (docs/replication.md
// "Rejoin"): its log holds writes of its own, and a primary of the same
// epoch number (an old primary restarted, which keeps its number, or a
// second server promoted from the same epoch) is not its successor; its
// records would otherwise be appended after them unnoticed.
//
// Blocking file-system calls: at start, and on the promotion's thread.

#include <cstdint>
#include <optional>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace werk::net {

std::string PromotionMarkerPath(const std::string& data_dir);
// Written atomically and synced, with the directory: the epoch the
// promotion starts, the primary it was the standby of, and when.
absl::Status WritePromotionMarker(const std::string& data_dir, uint64_t epoch,
                                  const std::string& was_standby_of, const std::string& when);
// The epoch a marker's text names, or nullopt if it names none.
std::optional<uint64_t> PromotionMarkerEpoch(const std::string& text);
// The marker's text, or nullopt without one.
absl::StatusOr<std::optional<std::string>> ReadPromotionMarker(const std::string& data_dir);

}  // namespace werk::net
