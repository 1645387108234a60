#include "net/manifest.h"

#include <sys/random.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <xxhash.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/time_format.h"
#include "net/durable_files.h"
#include "net/shard_storage.h"

namespace werk::net {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "werk-manifest";
constexpr size_t kManifestBytesMax = 1 << 20;

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Decimal, no sign, no leading zero (the one form EncodeManifest writes).
bool ParseU32(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 10 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = uint32_t(v);
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t from = 0;
  while (true) {
    const size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == s.npos ? s.npos : at - from));
    if (at == s.npos) return out;
    from = at + 1;
  }
}

bool IsHexId(std::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == s.npos;
}

bool IsTimestamp(std::string_view s) {
  return !s.empty() && s.size() <= 40 && core::ParseRfc3339(s).ok();
}

absl::Status Bad(const std::string& why) {
  return absl::DataLossError("the data directory's MANIFEST is damaged: " + why);
}

}  // namespace

std::string EncodeManifest(const Manifest& m) {
  std::string out;
  out += std::string(kMagic) + " " + std::to_string(Manifest::kFormat) + "\n";
  out += "cluster " + m.cluster_id + "\n";
  out += "shards " + std::to_string(m.shards) + "\n";
  out += "created " + m.created_at + "\n";
  for (const auto& r : m.history)
    out += "reshard " + std::to_string(r.from) + " " + std::to_string(r.to) + " " + r.at + "\n";
  out += "hash " + Hex64(XXH3_64bits(out.data(), out.size())) + "\n";
  return out;
}

absl::StatusOr<Manifest> DecodeManifest(std::string_view text) {
  if (text.size() > kManifestBytesMax) return Bad("over 1 MiB");
  const size_t hash_at = text.rfind("hash ");
  if (hash_at == text.npos || (hash_at > 0 && text[hash_at - 1] != '\n'))
    return Bad("no hash line");
  const std::string_view body = text.substr(0, hash_at);
  if (text.substr(hash_at) != "hash " + Hex64(XXH3_64bits(body.data(), body.size())) + "\n")
    return Bad("the hash does not match its contents");
  Manifest m;
  bool have_cluster = false, have_shards = false, have_created = false;
  std::vector<std::string_view> lines = Split(body, '\n');
  if (lines.empty() || !lines.back().empty()) return Bad("no final newline");
  lines.pop_back();
  if (lines.empty() || lines[0] != std::string(kMagic) + " " + std::to_string(Manifest::kFormat))
    return absl::FailedPreconditionError(
        "the data directory's MANIFEST is not a werk manifest of a known format (first line: '" +
        std::string(lines.empty() ? "" : lines[0].substr(0, 64)) + "')");
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string_view> f = Split(lines[i], ' ');
    if (f[0] == "cluster" && f.size() == 2 && !have_cluster && IsHexId(f[1])) {
      m.cluster_id = std::string(f[1]);
      have_cluster = true;
    } else if (f[0] == "shards" && f.size() == 2 && !have_shards && ParseU32(f[1], &m.shards) &&
               m.shards > 0 && m.shards <= core::kShardsMax) {
      have_shards = true;
    } else if (f[0] == "created" && f.size() == 2 && !have_created && IsTimestamp(f[1])) {
      m.created_at = std::string(f[1]);
      have_created = true;
    } else if (f[0] == "reshard" && f.size() == 4 && have_created) {
      Manifest::Reshard r;
      if (!ParseU32(f[1], &r.from) || !ParseU32(f[2], &r.to) || r.from == 0 || r.to == 0 ||
          r.from > core::kShardsMax || r.to > core::kShardsMax || !IsTimestamp(f[3]))
        return Bad("line " + std::to_string(i + 1) + " is not a valid reshard record");
      r.at = std::string(f[3]);
      m.history.push_back(std::move(r));
    } else {
      return Bad("line " + std::to_string(i + 1) + " is not understood");
    }
  }
  if (!have_cluster || !have_shards || !have_created) return Bad("a required line is missing");
  if (!m.history.empty() && m.history.back().to != m.shards)
    return Bad("the last reshard record disagrees with the shard count");
  return m;
}

std::string ManifestPath(const std::string& data_dir) { return data_dir + "/MANIFEST"; }

absl::StatusOr<std::optional<Manifest>> ReadManifest(const std::string& data_dir) {
  const std::string path = ManifestPath(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Manifest>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = DecodeManifest(ss.str());
  if (!m.ok()) return absl::Status(m.status().code(), path + ": " + std::string(m.status().message()));
  return std::optional<Manifest>(std::move(*m));
}

absl::Status WriteManifest(const std::string& data_dir, const Manifest& m) {
  return ReplaceAtomically(ManifestPath(data_dir), EncodeManifest(m), data_dir);
}

Manifest NewManifest(uint32_t shards) {
  uint64_t id[2] = {0, 0};
  if (::getrandom(id, sizeof id, 0) != sizeof id) {
    id[0] = uint64_t(core::SystemClock::Instance().WallNow());
    id[1] = uint64_t(core::SystemClock::Instance().MonotonicNow());
  }
  Manifest m;
  m.cluster_id = Hex64(id[0]) + Hex64(id[1]);
  m.shards = shards;
  m.created_at = core::FormatRfc3339Nano(core::SystemClock::Instance().WallNow());
  return m;
}

std::vector<uint32_t> ListShardDirsIn(const std::string& wal_dir) {
  std::vector<uint32_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(wal_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("shard-", 0) != 0 || !e.is_directory(ec)) continue;
    std::string_view digits(name);
    digits.remove_prefix(6);
    while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    uint32_t n = 0;
    if (!ParseU32(digits, &n)) continue;
    // Only the form the server writes (shard-007): anything else is not a shard's log.
    if (fs::path(ShardLogDir("", n)).filename().string() == name) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint32_t> ListShardDirs(const std::string& data_dir) {
  return ListShardDirsIn(data_dir + "/wal");
}

namespace {

std::string ShardList(const std::vector<uint32_t>& ids) {
  std::string s;
  for (uint32_t id : ids) s += (s.empty() ? "" : ", ") + fs::path(ShardLogDir("", id)).filename().string();
  return s;
}

}  // namespace

absl::StatusOr<Manifest> CheckDataDir(const std::string& data_dir, uint32_t shards,
                                      std::vector<std::string>* notes,
                                      const std::string& cluster_id) {
  auto read = ReadManifest(data_dir);
  if (!read.ok()) return read.status();
  const std::vector<uint32_t> on_disk = ListShardDirs(data_dir);
  std::error_code ec;
  if (!read->has_value()) {
    if (on_disk.empty()) {
      // A new data directory: its shape exists on disk before the manifest
      // that records it, so a crash in between leaves a directory the next
      // start adopts.
      for (uint32_t i = 0; i < shards; ++i) {
        fs::create_directories(ShardLogDir(data_dir, i), ec);
        if (ec) return absl::InternalError("create " + ShardLogDir(data_dir, i) + ": " + ec.message());
      }
      if (auto st = SyncPath(data_dir + "/wal"); !st.ok()) return st;
      if (auto st = SyncPath(data_dir); !st.ok()) return st;
      Manifest m = NewManifest(shards);
      if (!cluster_id.empty()) m.cluster_id = cluster_id;
      if (auto st = WriteManifest(data_dir, m); !st.ok()) return st;
      notes->push_back("new data directory: cluster " + m.cluster_id + ", " +
                       std::to_string(shards) + " shards");
      return m;
    }
    for (uint32_t i = 0; i < on_disk.size(); ++i) {
      if (on_disk[i] != i)
        return absl::FailedPreconditionError(
            data_dir + "/wal holds " + ShardList(on_disk) + ": not shards 0 to " +
            std::to_string(on_disk.size() - 1) + " (a shard's log directory is missing), and "
            "there is no MANIFEST to say how many there were; werk does not start");
    }
    Manifest m = NewManifest(uint32_t(on_disk.size()));
    if (!cluster_id.empty()) m.cluster_id = cluster_id;
    if (auto st = WriteManifest(data_dir, m); !st.ok()) return st;
    notes->push_back("recorded the data directory's shape in a new MANIFEST: " +
                     std::to_string(on_disk.size()) + " shards, cluster " + m.cluster_id);
    return m;
  }
  Manifest m = std::move(**read);
  if (!fs::is_directory(data_dir + "/wal", ec))
    return absl::FailedPreconditionError(
        data_dir + "/wal is missing, but " + ManifestPath(data_dir) + " records a data directory of " +
        std::to_string(m.shards) + " shards (cluster " + m.cluster_id +
        "): its log is gone, so werk does not start. Restore wal/ from a backup, or move the "
        "data directory aside to start an empty server");
  std::vector<uint32_t> missing, extra;
  for (uint32_t i = 0; i < m.shards; ++i)
    if (!std::binary_search(on_disk.begin(), on_disk.end(), i)) missing.push_back(i);
  for (uint32_t id : on_disk)
    if (id >= m.shards) extra.push_back(id);
  if (!missing.empty() || !extra.empty()) {
    std::string why = data_dir + "/wal does not match " + ManifestPath(data_dir) + " (" +
                      std::to_string(m.shards) + " shards, cluster " + m.cluster_id + "):";
    if (!missing.empty()) why += " missing " + ShardList(missing) + ";";
    if (!extra.empty()) why += " not recorded " + ShardList(extra) + ";";
    why += " werk does not start on a log with a shard's jobs missing or unaccounted for";
    return absl::FailedPreconditionError(why);
  }
  return m;
}

}  // namespace werk::net
