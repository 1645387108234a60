#pragma once
// The data directory's record that its server was deposed
// (docs/replication.md "Fencing"): a file, DEPOSED, written durably once
// the server learns of a newer epoch. A deposed server must not serve as a
// primary again — it would take writes at an epoch the new primary may use
// too, and its log holds records the new primary never had — so a start
// without --replica-of refuses a marked directory, naming the new primary
// and how to rejoin. A start with --replica-of (the rejoin as the new
// primary's standby) is allowed and keeps the marker; a promotion of that
// standby removes it, the one way such a directory serves as a primary
// again.
//
// The file is a few "key value" lines (epoch, primary, when), so the
// refusal can name them.
//
// Blocking file-system calls: at start, and where a server is deposed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace werk::net {

struct DeposedMarker {
  uint64_t epoch = 0;   // the newer epoch that deposed the server
  std::string primary;  // the new primary's replication address (may be empty)
  std::string when;     // RFC 3339
  bool operator==(const DeposedMarker&) const = default;
};

std::string DeposedMarkerPath(const std::string& data_dir);
// The marker's text, and its parse (nullopt: not a marker's text).
std::string FormatDeposedMarker(const DeposedMarker& m);
std::optional<DeposedMarker> ParseDeposedMarker(std::string_view text);
// Written atomically and synced, with the directory.
absl::Status WriteDeposedMarker(const std::string& data_dir, const DeposedMarker& m);
// The marker, or nullopt without one; an error if it cannot be read or
// parsed (a server that cannot tell must not start as a primary).
absl::StatusOr<std::optional<DeposedMarker>> ReadDeposedMarker(const std::string& data_dir);
absl::Status RemoveDeposedMarker(const std::string& data_dir);
// Why a deposed data directory does not start as a primary.
std::string DeposedStartRefusal(const std::string& data_dir, const DeposedMarker& m);

}  // namespace werk::net
