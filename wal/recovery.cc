#include "wal/recovery.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "wal/checkpoint.h"
#include "wal/log_reader.h"

namespace werk::wal {
namespace {

absl::Status Corrupt(const std::string& file, uint64_t offset, const std::string& why) {
  return absl::DataLossError("corruption in " + file + " at byte " + std::to_string(offset) +
                             ": " + why +
                             " (werk will not start on a log it cannot trust; see "
                             "docs/wal-format.md, or run with --repair to cut the log here)");
}

size_t LastNonZero(std::string_view data, size_t from) {
  for (size_t i = data.size(); i > from; --i)
    if (data[i - 1] != 0) return i;
  return from;
}

}  // namespace

absl::StatusOr<RecoveryResult> Recover(Storage& storage, const RecoveryOptions& options,
                                       const RecoverySinks& sinks) {
  RecoveryResult result;
  const std::vector<std::string> names = storage.List();

  // R1: leftovers of an interrupted checkpoint write.
  std::map<uint64_t, std::string> segments;     // id -> name
  std::map<uint64_t, std::string> checkpoints;  // lsn -> name
  for (const std::string& name : names) {
    uint64_t v;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      if (auto st = storage.Remove(name); !st.ok()) return st;
      result.notes.push_back("removed " + name + " (an interrupted checkpoint)");
    } else if (ParseSegmentName(name, &v)) {
      segments[v] = name;
    } else if (ParseCheckpointName(name, &v)) {
      checkpoints[v] = name;
    } else if (ParseRecycledName(name, &v)) {
      result.position.recycled.push_back(name);
    }
  }

  // The newest checkpoint (R13).
  if (!checkpoints.empty()) {
    const std::string& name = checkpoints.rbegin()->second;
    auto image = storage.ReadAll(name);
    if (!image.ok()) return image.status();
    CheckpointHeader h;
    auto st = LoadCheckpoint(*image, options.shard, &h, sinks.item);
    if (!st.ok()) {
      return absl::DataLossError(name + ": " + std::string(st.message()) +
                                 " (the segments it covers are gone; restore from a backup or "
                                 "a standby)");
    }
    // Older checkpoints are obsolete once the newest one loads (a crash can
    // leave one behind between writing a checkpoint and removing the last).
    for (const auto& [lsn, old] : checkpoints) {
      if (lsn == h.lsn) continue;
      if (auto rm = storage.Remove(old); !rm.ok()) return rm;
      result.notes.push_back("removed " + old + " (an older checkpoint)");
    }
    result.checkpoint_lsn = h.lsn;
    result.checkpoint_items = h.item_count;
    result.checkpoint_bytes = image->size();
    result.epoch = std::max<uint64_t>(h.epoch, 1);
    result.last_lsn = h.lsn;
  }

  Wal::Position& pos = result.position;
  pos.next_segment_id = segments.empty() ? 1 : segments.rbegin()->first + 1;
  uint64_t expected_lsn = 0;  // 0: the first segment with records decides
  bool cut = false;           // --repair cut the log: later segments are dropped

  // Segments at the end of the log that were never synced ("unborn"): an
  // unused spare (zero, or a recycled file still carrying the header of its
  // earlier use), or a segment whose first write (header and first batch
  // together) was cut by a crash. Nothing in them was ever acknowledged: the
  // first write must complete before any record of a segment is durable. The
  // newest becomes the spare; older unborn ones are removed. A torn tail is
  // possible only in the last segment with a valid header before them.
  std::map<uint64_t, std::string> data_of;  // read once: unborn candidates, the tail
  std::vector<uint64_t> candidates;          // newest first
  uint64_t tail_id = 0, tail_salt = 0;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    auto data = storage.ReadAll(it->second);
    if (!data.ok()) return data.status();
    SegmentHeader h;
    const HeaderStatus hs = DecodeSegmentHeader(*data, &h);
    const bool stale_header =
        hs == HeaderStatus::kOk && h.shard == options.shard && h.segment_id < it->first;
    if ((hs == HeaderStatus::kOk && !stale_header) || hs == HeaderStatus::kBadVersion) {
      tail_id = it->first;
      tail_salt = h.salt;
      data_of[it->first] = std::move(*data);
      break;
    }
    candidates.push_back(it->first);
    data_of[it->first] = std::move(*data);
  }
  // A candidate's salt follows its predecessor's (NextSalt), from the tail's.
  // Without a tail, the oldest candidate is the first segment of what is
  // left of the log, and its salt is only in its own header: read from it,
  // repaired if exactly one byte differs from a valid header.
  std::map<uint64_t, uint64_t> salt_of;
  std::map<uint64_t, std::string> header_note;  // what the damaged header was
  uint64_t repaired_first_lsn = 0;              // of that oldest candidate
  for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) {
    if (!salt_of.empty() || tail_id != 0) {
      salt_of[*it] = NextSalt(salt_of.empty() ? tail_salt : salt_of.rbegin()->second, *it);
      continue;
    }
    const std::string& data = data_of[*it];
    SegmentHeader h;
    size_t byte = 0;
    if (RepairSegmentHeader(data, &h, &byte)) {
      salt_of[*it] = h.salt;
      repaired_first_lsn = h.first_lsn;
      header_note[*it] = "byte " + std::to_string(byte) + " of it differs from a valid header";
    } else {
      uint64_t stored = 0;
      if (data.size() >= kSegmentHeaderBytes) std::memcpy(&stored, data.data() + 48, 8);
      salt_of[*it] = stored;
    }
  }
  // Where the tail's records end: a candidate's first LSN.
  std::optional<uint64_t> tail_end;
  auto tail_end_lsn = [&]() -> uint64_t {
    if (!tail_end) {
      const std::string& data = data_of[tail_id];
      SegmentHeader h;
      DecodeSegmentHeader(data, &h);
      LogReader::Options ro;
      ro.expected_lsn = h.first_lsn;
      ro.salt = h.salt;
      ro.write_markers = h.version >= kFormatVersionMarkers;
      LogReader reader(data, ro);
      Frame f;
      while (reader.Next(&f) == ReadOutcome::kRecord) {
      }
      tail_end = reader.expected_lsn();
    }
    return *tail_end;
  };
  std::set<uint64_t> unborn;
  std::map<uint64_t, std::string> bad_header;  // id -> why it is corruption (R5)
  for (const uint64_t id : candidates) {
    const std::string& name = segments[id];
    const std::string& data = data_of[id];
    // Bytes from 0 that may hold frames of this use: zeroed before reuse.
    uint64_t drop = LastNonZero(data, 0);
    std::string lost;  // the LSNs dropped with them, when known
    const FrameScan scan = ScanFrames(data, kSegmentHeaderBytes, salt_of[id]);
    if (scan.markers > 0) {
      // Version 3: the segment's first write was complete if a write marker
      // of the segment states its first LSN durable — the header went out
      // in that write. Then the header was damaged after it was synced.
      const uint64_t first = tail_id != 0            ? tail_end_lsn()
                             : repaired_first_lsn != 0 ? repaired_first_lsn
                                                       : scan.min_lsn;
      if (scan.strongest_marker.durable_lsn >= first) {
        bad_header[id] = "segment header invalid" +
                         (header_note.count(id) ? " (" + header_note[id] + ")" : std::string()) +
                         "; the segment had been synced: the write at byte " +
                         std::to_string(scan.strongest) + " (write " +
                         std::to_string(scan.strongest_marker.sequence) +
                         ") states every LSN up to " +
                         std::to_string(scan.strongest_marker.durable_lsn) +
                         " durable, and the segment starts at LSN " + std::to_string(first);
        break;  // corruption (R5), below
      }
      // Its first write was cut: everything of it, through the last frame
      // header valid under its salt, goes.
      drop = scan.last_header + kFrameHeaderBytes;
      lost = scan.max_lsn >= first ? ", LSNs " + std::to_string(first) + ".." +
                                         std::to_string(scan.max_lsn)
                                   : ", no complete record";
    } else if (drop > options.torn_window_bytes + kSegmentHeaderBytes) {
      // Versions 1 and 2 (or a salt that cannot be known): more than one
      // write's worth of data is a recycled file's stale bytes, unless
      // records of this use lie beyond the first write — those validate
      // under its salt, stale ones never do. Without a tail the file cannot
      // be a recycled one (the segment current at recycling is never
      // released), so the data is records behind a damaged header.
      const uint64_t last = tail_id == 0 ? UINT64_MAX : scan.last_header;
      if (tail_id == 0 ||
          (last != UINT64_MAX && last - kSegmentHeaderBytes >= options.torn_window_bytes)) {
        bad_header[id] = "segment header invalid";
        break;  // corruption (R5), below
      }
      drop = last == UINT64_MAX ? 0 : last + kFrameHeaderBytes;
    }
    unborn.insert(id);
    if (id != candidates.front()) {
      if (auto st = storage.Remove(name); !st.ok()) return st;
      result.notes.push_back("removed " + name + " (started but never synced" + lost + ")");
      spdlog::warn("{}", result.notes.back());
      continue;
    }
    if (drop > 0) {
      if (auto st = storage.Overwrite(name, 0, std::string(drop, '\0')); !st.ok()) return st;
      result.notes.push_back("torn first write of " + name + ": " + std::to_string(drop) +
                             " bytes dropped (never synced" + lost + ")");
      spdlog::warn("{}", result.notes.back());
    }
    auto file = storage.Open(name);
    if (!file.ok()) return file.status();
    pos.spare = std::move(*file);
    pos.spare_id = id;
  }
  // The writer continues after the newest segment that holds records.
  for (const auto& [id, name] : segments)
    if (!unborn.count(id)) tail_id = id;

  // Whether the segment after `next` (skipping unborn ones) starts at
  // `lsn`, or at or before the checkpoint's LSN + 1.
  auto next_continues = [&](std::map<uint64_t, std::string>::iterator next,
                            uint64_t lsn) -> bool {
    while (next != segments.end() && unborn.count(next->first)) ++next;
    if (next == segments.end()) return false;
    auto d = data_of.find(next->first);
    if (d == data_of.end()) {
      auto data = storage.ReadAll(next->second);
      if (!data.ok()) return false;
      d = data_of.emplace(next->first, std::move(*data)).first;
    }
    SegmentHeader nh;
    if (DecodeSegmentHeader(d->second, &nh) != HeaderStatus::kOk) return false;
    return nh.first_lsn == lsn || nh.first_lsn <= result.checkpoint_lsn + 1;
  };

  for (auto it = segments.begin(); it != segments.end(); ++it) {
    const uint64_t id = it->first;
    const std::string name = it->second;
    if (unborn.count(id)) continue;
    const bool newest = id == tail_id;
    if (cut) {
      if (auto st = storage.Remove(name); !st.ok()) return st;
      result.notes.push_back("REPAIR: removed " + name + " (after the cut)");
      continue;
    }
    std::string data;
    if (auto c = data_of.find(id); c != data_of.end()) {
      data = std::move(c->second);
      data_of.erase(c);
    } else {
      auto data_or = storage.ReadAll(name);
      if (!data_or.ok()) return data_or.status();
      data = std::move(*data_or);
    }

    // A cut for --repair: zero from `offset` to the end, drop later segments.
    auto repair_cut = [&](uint64_t offset, const std::string& why) -> absl::Status {
      const size_t end = LastNonZero(data, offset);
      if (end > offset) {
        if (auto st = storage.Overwrite(name, offset, std::string(end - offset, '\0')); !st.ok())
          return st;
      }
      result.notes.push_back("REPAIR: cut " + name + " at byte " + std::to_string(offset) + " (" +
                             why + "), " + std::to_string(end - offset) +
                             " bytes dropped; every later record is lost");
      spdlog::error("{}", result.notes.back());
      cut = true;
      return absl::OkStatus();
    };

    SegmentHeader h;
    const HeaderStatus hs = DecodeSegmentHeader(data, &h);
    if (hs == HeaderStatus::kBadMagic) return Corrupt(name, 0, "not a werk segment (bad magic)");
    if (hs == HeaderStatus::kBadVersion)
      return absl::FailedPreconditionError(name + ": unsupported segment format version " +
                                           std::to_string(h.version));
    if (hs != HeaderStatus::kOk || bad_header.count(id)) {
      // R5: an invalid header before the end of the log, or one at its end
      // with records of the segment behind it.
      const std::string why =
          bad_header.count(id) ? bad_header[id] : std::string("segment header invalid");
      if (!options.repair) return Corrupt(name, 0, why);
      if (auto st = repair_cut(0, why); !st.ok()) return st;
      continue;
    }
    // R3
    if (h.shard != options.shard || h.segment_id != id)
      return absl::FailedPreconditionError(
          name + " belongs to shard " + std::to_string(h.shard) + " as segment " +
          std::to_string(h.segment_id) + ": a misplaced file");
    // R9 / R12: segments must continue the log without a gap.
    if (expected_lsn == 0) {
      if (h.first_lsn > result.checkpoint_lsn + 1) {
        const std::string why = "log starts at LSN " + std::to_string(h.first_lsn) +
                                " but the checkpoint ends at " +
                                std::to_string(result.checkpoint_lsn);
        if (!options.repair) return Corrupt(name, 0, why);
        if (auto st = repair_cut(0, why); !st.ok()) return st;
        continue;
      }
    } else if (h.first_lsn != expected_lsn && h.first_lsn <= result.checkpoint_lsn + 1) {
      // Older segments the checkpoint covers may outlive some of their
      // successors (removals complete in any order): no gap that matters.
    } else if (h.first_lsn != expected_lsn) {
      const std::string why = "segment starts at LSN " + std::to_string(h.first_lsn) + ", " +
                              std::to_string(expected_lsn) + " expected";
      if (!options.repair) return Corrupt(name, 0, why);
      if (auto st = repair_cut(0, why); !st.ok()) return st;
      continue;
    }
    if (h.epoch < result.epoch && expected_lsn != 0) {
      const std::string why = "segment epoch " + std::to_string(h.epoch) + " is older than " +
                              std::to_string(result.epoch);
      if (!options.repair) return Corrupt(name, 0, why);
      if (auto st = repair_cut(0, why); !st.ok()) return st;
      continue;
    }
    pos.segments.emplace_back(id, h.first_lsn);

    LogReader::Options ro;
    ro.expected_lsn = h.first_lsn;
    ro.min_epoch = std::max(h.epoch, expected_lsn == 0 ? uint64_t(0) : result.epoch);
    ro.newest = newest;
    ro.salt = h.salt;
    ro.write_markers = h.version >= kFormatVersionMarkers;
    ro.torn_window_bytes = options.torn_window_bytes;
    LogReader reader(data, ro);
    bool done = false;
    while (!done) {
      Frame f;
      switch (reader.Next(&f)) {
        case ReadOutcome::kRecord:
          if (ro.write_markers && f.header.type == uint16_t(RecordType::kWrite)) {
            pos.next_write_sequence =
                std::max(pos.next_write_sequence, reader.marker().sequence + 1);
            break;
          }
          if (f.header.type != uint16_t(RecordType::kMutation)) {
            if (!options.repair)
              return Corrupt(name, f.offset, "unknown record type " + std::to_string(f.header.type));
            if (auto st = repair_cut(f.offset, "unknown record type"); !st.ok()) return st;
            done = true;
            break;
          }
          if (f.header.lsn > result.checkpoint_lsn) {
            if (auto st = sinks.record(f.header.lsn, f.body); !st.ok()) {
              return absl::Status(st.code(), name + " at byte " + std::to_string(f.offset) +
                                                 ", LSN " + std::to_string(f.header.lsn) + ": " +
                                                 std::string(st.message()));
            }
            ++result.records_replayed;
          }
          result.last_lsn = std::max(result.last_lsn, f.header.lsn);
          result.epoch = std::max(result.epoch, f.header.epoch);
          break;
        case ReadOutcome::kEnd:
          done = true;
          break;
        case ReadOutcome::kTornTail: {
          // R8: a write in flight at the crash was cut; it was never
          // acknowledged. The writer never has writes in flight to two
          // segments, so this is the last segment written.
          const uint64_t off = reader.offset();
          if (reader.torn_bytes() > 0) {
            if (auto st = storage.Overwrite(name, off, std::string(reader.torn_bytes(), '\0'));
                !st.ok())
              return st;
          }
          if (ro.write_markers) {
            // R8 (version 3): no later write states these LSNs durable.
            // Name what is lost; loudly if it held records.
            const bool records = reader.dropped_last_lsn() >= reader.dropped_first_lsn();
            const uint64_t m = reader.marker_offset();
            const bool inside = reader.marker().sequence != 0 &&
                                off < m + reader.marker().write_bytes;
            result.notes.push_back(
                "torn tail of " + name + " at byte " + std::to_string(off) + ": " +
                (inside ? "the write at byte " + std::to_string(m) + " (write " +
                              std::to_string(reader.marker().sequence) + ", " +
                              std::to_string(reader.marker().write_bytes) + " bytes)"
                        : std::string("the write starting there")) +
                " was cut by the crash (" + reader.reason() + "); " +
                std::to_string(reader.torn_bytes()) + " bytes dropped holding " +
                (records ? "LSNs " + std::to_string(reader.dropped_first_lsn()) + ".." +
                               std::to_string(reader.dropped_last_lsn())
                         : std::string("no complete record")) +
                ", never acknowledged: no later write states them durable");
            if (records) {
              spdlog::error("{}", result.notes.back());
            } else {
              spdlog::warn("{}", result.notes.back());
            }
          } else if (reader.cut_write()) {
            result.notes.push_back("torn tail of " + name + " truncated at byte " +
                                   std::to_string(off) + ": " +
                                   std::to_string(reader.torn_bytes()) + " bytes dropped (" +
                                   reader.reason() + ", never synced)");
            spdlog::warn("{}", result.notes.back());
          } else if (reader.torn_bytes() > 0) {
            // After a clean stop this is a recycled file's stale bytes.
            result.notes.push_back("unreadable bytes after the last record of " + name +
                                   " at byte " + std::to_string(off) + ": " +
                                   std::to_string(reader.torn_bytes()) +
                                   " bytes dropped (a write cut by a crash, or stale bytes of a "
                                   "recycled segment; never acknowledged)");
            spdlog::info("{}", result.notes.back());
          }
          done = true;
          break;
        }
        case ReadOutcome::kCorrupt:
          if (!newest && reader.invalid_frame() && next_continues(std::next(it), reader.expected_lsn())) {
            // The segment's records end where the next segment's begin: what
            // follows is a recycled file's stale bytes (or a covered
            // segment's, which nothing needs).
            done = true;
            break;
          }
          if (!options.repair) return Corrupt(name, reader.offset(), reader.reason());
          if (auto st = repair_cut(reader.offset(), reader.reason()); !st.ok()) return st;
          done = true;
          break;
      }
    }
    expected_lsn = reader.expected_lsn();
    if (newest || cut) {
      auto file = storage.Open(name);
      if (!file.ok()) return file.status();
      pos.current = std::move(*file);
      pos.current_id = id;
      pos.current_offset = reader.offset();
      pos.current_salt = h.salt;
      pos.current_version = h.version;
    } else if (!newest) {
      // A full, older segment; the writer continues after the newest one.
      pos.current_id = id;
      pos.current_offset = reader.offset();
      pos.current_salt = h.salt;
      pos.current_version = h.version;
    }
  }
  // Only the newest segment with a header stays open as `current`; an older
  // one left as current (the newest was a spare) is reopened here.
  if (!pos.current && !pos.segments.empty()) {
    auto file = storage.Open(segments[pos.segments.back().first]);
    if (!file.ok()) return file.status();
    pos.current = std::move(*file);
    pos.current_id = pos.segments.back().first;
    // current_offset was set when that segment was read.
  }
  if (!pos.segments.empty() && result.last_lsn < result.checkpoint_lsn && !cut) {
    return absl::DataLossError("the log ends at LSN " + std::to_string(result.last_lsn) +
                               " before its checkpoint at " +
                               std::to_string(result.checkpoint_lsn));
  }
  pos.next_lsn = std::max(result.last_lsn, result.checkpoint_lsn) + 1;
  return result;
}

}  // namespace werk::wal
