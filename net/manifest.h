#pragma once
// The data directory knows its shape (docs/running.md, "The data
// directory"). `<data dir>/MANIFEST` records the format, a cluster id made
// when the directory was created, the shard count, and every change of shard
// count. It is written atomically (a synced temporary file renamed over it,
// the directory synced) at creation and at each re-partition, and checked at
// every start against what is on disk: a missing `wal/`, a missing or extra
// shard directory, or a manifest that does not verify refuses to start.
//
// Text, one `key value` per line, ending with a hash line so a damaged or
// hand-edited manifest is detected:
//
//   werk-manifest 1
//   cluster 3f9c2a0e5b7d41c8a6e2f01d9b3c7e55
//   shards 2
//   created 2026-12-01T22:50:00Z
//   reshard 1 2 2026-12-02T08:00:00Z      (one line per change of shard count)
//   hash 9b1c0e4f2a7d3e61                 (XXH3-64 of every byte before this line)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

namespace werk::net {

struct Manifest {
  static constexpr uint32_t kFormat = 1;
  std::string cluster_id;  // 32 hex digits
  uint32_t shards = 0;
  std::string created_at;  // RFC 3339, UTC
  struct Reshard {
    uint32_t from = 0, to = 0;
    std::string at;
    bool operator==(const Reshard&) const = default;
  };
  std::vector<Reshard> history;
  bool operator==(const Manifest&) const = default;
};

std::string EncodeManifest(const Manifest& m);
// Refuses anything but the exact form EncodeManifest writes.
absl::StatusOr<Manifest> DecodeManifest(std::string_view text);

std::string ManifestPath(const std::string& data_dir);
// nullopt when the data directory has no manifest.
absl::StatusOr<std::optional<Manifest>> ReadManifest(const std::string& data_dir);
absl::Status WriteManifest(const std::string& data_dir, const Manifest& m);
// A new manifest for a new data directory: a random cluster id, now.
Manifest NewManifest(uint32_t shards);

// The shard directories wal/shard-NNN under `data_dir`, sorted by number
// (other entries of wal/ are ignored). Empty if wal/ is missing.
std::vector<uint32_t> ListShardDirs(const std::string& data_dir);
// The same for a log directory other than wal/ (wal.new/ of a re-partition).
std::vector<uint32_t> ListShardDirsIn(const std::string& wal_dir);

// Brings the manifest and the directory into agreement at start, or refuses.
// With no manifest: a new data directory gets wal/, `shards` shard
// directories and a manifest; one made before manifests existed gets a
// manifest recording what is on disk (its shard directories must be numbered
// 0..n-1). With one: wal/ must exist and hold exactly shards 0..n-1. Returns
// the manifest in force (its shard count may differ from `shards`: the
// caller re-partitions). `notes` says what was done.
// `cluster_id`: what a new directory's manifest records (a new standby
// adopts its primary's); empty: a new random one.
absl::StatusOr<Manifest> CheckDataDir(const std::string& data_dir, uint32_t shards,
                                      std::vector<std::string>* notes,
                                      const std::string& cluster_id = {});

}  // namespace werk::net
