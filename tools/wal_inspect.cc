// Read-only inspection of a shard's write-ahead log, for incidents
// (tools/wal_inspect.h; behind `werkctl wal dump|verify` and werk-wal-dump).
// Lists segments and checkpoints, verifies every checksum, LSN and epoch,
// and prints the first bad byte; replays the log after the newest
// checkpoint into a state machine, as recovery would, and names every record
// that does not apply; with `records`, every record; with `lsn`, one.
//
//   werk-wal-dump werk-data                 (every shard under data/wal)
//   werk-wal-dump werk-data/wal/shard-000 --records
//   werk-wal-dump werk-data/wal/shard-001 --lsn 42
//   werk-wal-dump werk-data --cut-after 41234   (what a rejoin's cut would drop)
//
// Exit status: 0 all verified, 1 corruption found, 2 usage or I/O error; with
// --cut-after, 0 if every cut would proceed, 1 if one would be refused.
// It never modifies anything (recovery at start does the truncating).
//
// A directory a running werkd holds (net/data_dir_lock.h) can be read: the
// tool says so, and the newest segments' end — where the writer may be in
// the middle of a write — is shown as the live end, not judged as damage.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tools/wal_inspect.h"

#include "core/job_json.h"
#include "core/mutation.h"
#include "core/replay.h"
#include "core/time_format.h"
#include "net/data_dir_lock.h"
#include "wal/checkpoint.h"
#include "wal/log_reader.h"
#include "wal/truncate.h"
#include "wal/uring_storage.h"

namespace fs = std::filesystem;
using namespace werk;
using werk::tools::WalInspectOptions;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct DumpOptions : WalInspectOptions {
  bool live = false;  // a werkd holds the directory and writes to it
};

// The shard a log directory belongs to, from its name (shard-007); 0 for a
// directory named otherwise (a log copied out for inspection).
uint32_t ShardOf(const fs::path& dir) {
  const std::string name = dir.filename().string();
  uint32_t id = 0;
  if (name.rfind("shard-", 0) == 0 && name.size() > 6 &&
      name.find_first_not_of("0123456789", 6) == std::string::npos)
    id = uint32_t(std::stoul(name.substr(6)));
  return id;
}

// Returns false if anything in `dir` is corrupt or does not replay.
bool DumpShard(const fs::path& dir, const DumpOptions& opts) {
  std::map<uint64_t, fs::path> segments, checkpoints;
  size_t recycled = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    uint64_t v;
    const std::string name = e.path().filename().string();
    if (wal::ParseSegmentName(name, &v)) segments[v] = e.path();
    else if (wal::ParseCheckpointName(name, &v)) checkpoints[v] = e.path();
    else if (wal::ParseRecycledName(name, &v)) ++recycled;
    else std::printf("%s: other file %s\n", dir.c_str(), name.c_str());
  }
  bool ok = true;
  std::printf("%s: %zu segments, %zu checkpoints, %zu kept for reuse\n", dir.c_str(),
              segments.size(), checkpoints.size(), recycled);
  // Each checkpoint names its shard; replay applies records as that shard.
  const uint32_t shard = ShardOf(dir);
  // A live werkd replaces checkpoints and recycles segments as it goes.
  auto vanished = [&](const fs::path& p) {
    std::error_code ec;
    if (!opts.live || fs::exists(p, ec)) return false;
    std::printf("  %s: removed while being read (the server moved on)\n", p.filename().c_str());
    return true;
  };
  // The state replay starts from: the newest valid checkpoint's.
  auto replay = std::make_unique<core::StateMachine>(shard);
  uint64_t replay_from = 0;
  for (const auto& [lsn, path] : checkpoints) {
    const std::string image = ReadFile(path);
    auto loaded = std::make_unique<core::StateMachine>(shard);
    core::StateMachine& sm = *loaded;
    wal::CheckpointHeader h;
    auto st = wal::LoadCheckpoint(image, shard, &h, [&](core::SnapshotItemType t, std::string_view b) {
      return sm.RestoreItem(t, b);
    });
    if (st.ok()) sm.FinishRestore();
    if (!st.ok() && vanished(path)) continue;
    if (st.ok()) {
      replay = std::move(loaded);
      replay_from = h.lsn;
      std::printf("  %s: LSN %llu, %llu items, %zu bytes, %zu jobs (%zu queued, %zu scheduled, "
                  "%zu retries, %zu dead, %zu reserved): OK\n",
                  path.filename().c_str(), (unsigned long long)h.lsn,
                  (unsigned long long)h.item_count, image.size(), sm.job_count(),
                  sm.queued_total(), sm.scheduled_size(), sm.retries_size(), sm.dead_size(),
                  sm.reserved_size());
    } else {
      std::printf("  %s: BAD: %s\n", path.filename().c_str(), std::string(st.message()).c_str());
      ok = false;
    }
  }
  uint64_t expected = 0, not_applied = 0;
  for (auto it = segments.begin(); it != segments.end(); ++it) {
    const auto& [id, path] = *it;
    const bool newest = std::next(it) == segments.end();
    const std::string data = ReadFile(path);
    if (vanished(path)) continue;
    wal::SegmentHeader h;
    const auto hs = wal::DecodeSegmentHeader(data, &h);
    if (hs == wal::HeaderStatus::kZero) {
      std::printf("  %s: %zu bytes, unused (preallocated spare)\n", path.filename().c_str(),
                  data.size());
      continue;
    }
    if (newest && hs == wal::HeaderStatus::kOk && h.segment_id < id) {
      std::printf("  %s: %zu bytes, unused (recycled spare, was segment %llu)\n",
                  path.filename().c_str(), data.size(), (unsigned long long)h.segment_id);
      continue;
    }
    if (hs != wal::HeaderStatus::kOk) {
      std::printf("  %s: BAD header at byte 0 (%s)\n", path.filename().c_str(),
                  hs == wal::HeaderStatus::kBadMagic     ? "bad magic"
                  : hs == wal::HeaderStatus::kBadVersion ? "unknown version"
                                                         : "checksum mismatch");
      ok = false;
      continue;
    }
    if (expected != 0 && h.first_lsn != expected) {
      std::printf("  %s: BAD: starts at LSN %llu, %llu expected (a gap)\n",
                  path.filename().c_str(), (unsigned long long)h.first_lsn,
                  (unsigned long long)expected);
      ok = false;
    }
    wal::LogReader::Options o;
    o.expected_lsn = core::Lsn(h.first_lsn);
    o.min_epoch = h.epoch;
    o.salt = h.salt;
    o.write_markers = h.version >= wal::kFormatVersionMarkers;
    o.newest = newest || (std::next(it) != segments.end() && std::next(it, 2) == segments.end());
    wal::LogReader reader(data, o);
    uint64_t count = 0, first = 0, last = 0, writes = 0;
    wal::Frame f;
    wal::ReadOutcome out;
    while ((out = reader.Next(&f)) == wal::ReadOutcome::kRecord) {
      if (o.write_markers && f.header.type == uint16_t(wal::RecordType::kWrite)) {
        // The marker that begins each write (version 3).
        ++writes;
        if (opts.records) {
          const wal::WriteMarker& m = reader.marker();
          std::printf("    write %llu @%llu: %llu bytes from LSN %llu, issued with LSN %llu durable\n",
                      (unsigned long long)m.sequence, (unsigned long long)f.offset,
                      (unsigned long long)m.write_bytes, (unsigned long long)f.header.lsn,
                      (unsigned long long)m.durable_lsn);
        }
        continue;
      }
      if (!first) first = f.header.lsn;
      last = f.header.lsn;
      ++count;
      if (opts.records || opts.lsn == f.header.lsn) {
        auto m = core::DecodeMutation(f.body);
        std::printf("    %llu @%llu epoch %llu, %u bytes: %s\n", (unsigned long long)f.header.lsn,
                    (unsigned long long)f.offset, (unsigned long long)f.header.epoch,
                    f.header.body_bytes,
                    m ? core::DescribeMutation(*m).c_str() : "UNDECODABLE BODY");
        if (!m) ok = false;
      }
      if (f.header.lsn > replay_from) {
        auto st = core::ReplayRecord(*replay, f.body);
        if (!st.ok()) {
          ok = false;
          if (not_applied++ < 10)
            std::printf("    %llu @%llu: DOES NOT APPLY: %s\n", (unsigned long long)f.header.lsn,
                        (unsigned long long)f.offset, std::string(st.message()).c_str());
        }
      }
    }
    std::printf("  %s: %zu bytes, version %u, epoch %llu, %llu records (LSN %llu..%llu), ",
                path.filename().c_str(), data.size(), h.version, (unsigned long long)h.epoch,
                (unsigned long long)count, (unsigned long long)first, (unsigned long long)last);
    if (o.write_markers)
      std::printf("%llu writes (the last: write %llu at byte %llu), ", (unsigned long long)writes,
                  (unsigned long long)reader.marker().sequence,
                  (unsigned long long)reader.marker_offset());
    if (opts.live && o.newest && out != wal::ReadOutcome::kEnd) {
      std::printf("live end at byte %llu (the server may be writing there: not judged)\n",
                  (unsigned long long)reader.offset());
      expected = reader.expected_lsn().value();
      continue;
    }
    switch (out) {
      case wal::ReadOutcome::kEnd:
        std::printf("ends cleanly at byte %llu\n", (unsigned long long)reader.offset());
        break;
      case wal::ReadOutcome::kTornTail:
        std::printf("torn tail at byte %llu (%llu bytes; recovery would truncate it): %s\n",
                    (unsigned long long)reader.offset(), (unsigned long long)reader.torn_bytes(),
                    reader.reason().c_str());
        if (o.write_markers) {
          if (reader.dropped_last_lsn() >= reader.dropped_first_lsn())
            std::printf("    it holds LSNs %llu..%llu, which no later write states durable\n",
                        (unsigned long long)reader.dropped_first_lsn().value(),
                        (unsigned long long)reader.dropped_last_lsn().value());
          else
            std::printf("    it holds no complete record\n");
        }
        break;
      default:
        std::printf("CORRUPT at byte %llu: %s\n", (unsigned long long)reader.offset(),
                    reader.reason().c_str());
        ok = false;
    }
    expected = reader.expected_lsn().value();
  }
  if (not_applied > 0)
    std::printf("  %llu records do not apply to the state replayed before them\n",
                (unsigned long long)not_applied);
  return ok;
}

// What wal::TruncateAfter would drop from `dir` (a dry run: nothing is
// written). Returns false if it would refuse.
bool PrintCut(const fs::path& dir, uint64_t keep_through) {
  auto storage = wal::UringStorage::Open(dir.string(), nullptr, {});
  if (!storage.ok()) {
    std::printf("%s: %s\n", dir.c_str(), std::string(storage.status().message()).c_str());
    return false;
  }
  wal::TruncateOptions o;
  o.shard = ShardOf(dir);
  o.dry_run = true;
  auto r = wal::TruncateAfter(**storage, core::Lsn(keep_through), o);
  if (!r.ok()) {
    std::printf("%s: the cut would be refused: %s\n", dir.c_str(),
                std::string(r.status().message()).c_str());
    return false;
  }
  if (r->records_dropped == 0 && r->notes.empty()) {
    std::printf("%s: nothing after LSN %llu to cut\n", dir.c_str(),
                (unsigned long long)keep_through);
    return true;
  }
  std::string epochs;
  for (core::Epoch e : r->epochs_dropped)
    epochs += (epochs.empty() ? "" : ", ") + std::to_string(e.value());
  std::printf("%s: cutting after LSN %llu would drop %llu records (LSN %llu..%llu, %llu bytes, "
              "epochs %s)\n",
              dir.c_str(), (unsigned long long)keep_through,
              (unsigned long long)r->records_dropped,
              (unsigned long long)r->first_dropped.value(),
              (unsigned long long)r->last_dropped.value(),
              (unsigned long long)r->bytes_dropped, epochs.empty() ? "none" : epochs.c_str());
  for (const std::string& note : r->notes) std::printf("  %s\n", note.c_str());
  return true;
}

}  // namespace

namespace werk::tools {

int InspectWal(const std::string& path, const WalInspectOptions& options, const char* program) {
  DumpOptions opts;
  static_cast<WalInspectOptions&>(opts) = options;
  std::vector<fs::path> shards;
  std::error_code ec;
  fs::path data_dir;
  if (fs::is_directory(fs::path(path) / "wal", ec)) {
    data_dir = path;
    for (const auto& e : fs::directory_iterator(fs::path(path) / "wal"))
      if (e.is_directory()) shards.push_back(e.path());
    std::sort(shards.begin(), shards.end());
  } else if (fs::is_directory(path, ec)) {
    shards.push_back(path);
    data_dir = fs::absolute(path, ec).lexically_normal().parent_path().parent_path();
  } else {
    std::fprintf(stderr, "%s: %s is not a directory\n", program, path.c_str());
    return 2;
  }
  if (auto holder = net::DataDirLockHolder(data_dir.string())) {
    opts.live = true;
    const std::string pid = *holder > 0 ? " (pid " + std::to_string(*holder) + ")" : "";
    std::printf("%s is in use by a running werkd%s: reading a live log (its newest writes may "
                "be in flight; their end is not judged)\n",
                data_dir.c_str(), pid.c_str());
  }
  bool ok = true;
  if (opts.cut_after >= 0) {
    for (const auto& s : shards) ok = PrintCut(s, uint64_t(opts.cut_after)) && ok;
    return ok ? 0 : 1;
  }
  for (const auto& s : shards) ok = DumpShard(s, opts) && ok;
  std::printf("%s%s\n", ok ? "verified: OK" : "verification FAILED",
              opts.live ? " (a live directory: up to the writer's end)" : "");
  return ok ? 0 : 1;
}

}  // namespace werk::tools
