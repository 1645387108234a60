#pragma once
// Blocking file-system steps with their durability made explicit, for the
// data directory's layout (manifest, re-partitioning) at start, before any
// shard runs: every write is fsynced, every rename and removal is followed
// by an fsync of the parent directory.

#include <string>
#include <string_view>

#include <absl/status/status.h>

namespace werk::net {

absl::Status SyncPath(const std::string& path);
// Creates or truncates `path` with `data`, fsynced (not the directory).
absl::Status WriteSynced(const std::string& path, std::string_view data);
// rename(2), then fsync of `parent`.
absl::Status Rename(const std::string& from, const std::string& to, const std::string& parent);
// Removes a tree, then fsyncs `parent`.
absl::Status RemoveTree(const std::string& path, const std::string& parent);
// Writes `path` atomically: `path`.tmp written and fsynced, renamed over
// `path`, and `parent` fsynced.
absl::Status ReplaceAtomically(const std::string& path, std::string_view data,
                               const std::string& parent);

}  // namespace werk::net
