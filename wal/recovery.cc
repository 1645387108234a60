#include "wal/recovery.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "core/replay.h"
#include "wal/checkpoint.h"
#include "wal/log_reader.h"
#include "wal/recovery_context.h"
#include "wal/zero_range.h"

namespace werk::wal {
namespace recovery {
namespace {

absl::Status Corrupt(const std::string& file, uint64_t offset, const std::string& why) {
  return absl::DataLossError("corruption in " + file + " at byte " + std::to_string(offset) +
                             ": " + why +
                             " (werk will not start on a log it cannot trust; see "
                             "docs/wal-format.md, or run with --repair to cut the log here)");
}

// R1: leftovers of an interrupted checkpoint write are removed; the other
// files are sorted into segments, checkpoints and recycled spares (R7a).
absl::Status SortFiles(Context& c) {
  for (const std::string& name : c.storage.List()) {
    uint64_t v;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
      if (auto st = c.storage.Remove(name); !st.ok()) return st;
      c.result.notes.push_back("removed " + name + " (an interrupted checkpoint)");
    } else if (ParseSegmentName(name, &v)) {
      c.segments[v] = name;
    } else if (ParseCheckpointName(name, &v)) {
      c.checkpoints[v] = name;
    } else if (ParseRecycledName(name, &v)) {
      c.result.position.recycled.push_back(name);
    }
  }
  return absl::OkStatus();
}

// R13: the newest checkpoint, which must load; older ones are removed.
absl::Status LoadNewestCheckpoint(Context& c) {
  if (c.checkpoints.empty()) return absl::OkStatus();
  const std::string& name = c.checkpoints.rbegin()->second;
  auto image = c.storage.ReadAll(name);
  if (!image.ok()) return image.status();
  CheckpointHeader h;
  auto st = LoadCheckpoint(*image, c.options.shard, &h, c.sinks.item);
  if (!st.ok()) {
    return absl::DataLossError(name + ": " + std::string(st.message()) +
                               " (the segments it covers are gone; restore from a backup or "
                               "a standby)");
  }
  // Older checkpoints are obsolete once the newest one loads (a crash can
  // leave one behind between writing a checkpoint and removing the last).
  for (const auto& [lsn, old] : c.checkpoints) {
    if (lsn == h.lsn) continue;
    if (auto rm = c.storage.Remove(old); !rm.ok()) return rm;
    c.result.notes.push_back("removed " + old + " (an older checkpoint)");
  }
  c.result.checkpoint_lsn = core::Lsn(h.lsn);
  c.result.checkpoint_items = h.item_count;
  c.result.checkpoint_bytes = image->size();
  c.result.epoch = core::Epoch(std::max<uint64_t>(h.epoch, 1));
  c.checkpoint_epoch = c.result.epoch;
  c.result.last_lsn = core::Lsn(h.lsn);
  return absl::OkStatus();
}

// R7: whether the segment after `next` (skipping unborn ones) starts at
// `lsn`, or at or before the checkpoint's LSN + 1.
bool NextContinues(Context& c, std::map<uint64_t, std::string>::iterator next, uint64_t lsn) {
  while (next != c.segments.end() && c.unborn.count(next->first)) ++next;
  if (next == c.segments.end()) return false;
  auto d = c.data_of.find(next->first);
  if (d == c.data_of.end()) {
    auto data = c.storage.ReadAll(next->second);
    if (!data.ok()) return false;
    d = c.data_of.emplace(next->first, std::move(*data)).first;
  }
  // A damaged header refused when it is read (R5) still gives the segment's
  // first LSN: the refusal then names that segment, not this one's stale end.
  if (auto b = c.bad_first.find(next->first); b != c.bad_first.end())
    return b->second == lsn || b->second <= c.result.checkpoint_lsn.value() + 1;
  SegmentHeader nh;
  if (DecodeSegmentHeader(d->second, &nh) != HeaderStatus::kOk) return false;
  return nh.first_lsn == lsn || nh.first_lsn <= c.result.checkpoint_lsn.value() + 1;
}

// A segment being read (R2–R12).
struct LoadedSegment {
  uint64_t id = 0;
  std::string name;
  std::string data;
  bool newest = false;  // the last segment written: only it can have a torn tail (R8)
  SegmentHeader h;      // once its header is read
};

// The segment's bytes: read once already if it was near the end of the log.
absl::Status LoadSegmentData(Context& c, LoadedSegment* s) {
  if (auto d = c.data_of.find(s->id); d != c.data_of.end()) {
    s->data = std::move(d->second);
    c.data_of.erase(d);
    return absl::OkStatus();
  }
  auto data = c.storage.ReadAll(s->name);
  if (!data.ok()) return data.status();
  s->data = std::move(*data);
  return absl::OkStatus();
}

// A cut for --repair: zero from `offset` to the end, drop later segments.
// `lost_from`, when known (the header read), is the first LSN lost; the
// records of this segment found after the cut (valid under `salt`) say how
// far the loss goes in it.
absl::Status RepairCut(Context& c, const LoadedSegment& s, uint64_t offset, const std::string& why,
                       uint64_t lost_from = 0, uint64_t salt = 0) {
  const size_t end = LastNonZero(s.data, offset);
  std::string lost;
  if (lost_from != 0) {
    const FrameScan scan = ScanFrames(s.data, offset, salt);
    lost = scan.max_lsn >= lost_from
               ? " holding LSNs " + std::to_string(lost_from) + ".." + std::to_string(scan.max_lsn)
               : " (from LSN " + std::to_string(lost_from) + ")";
  }
  if (auto st = ZeroRange(c.storage, s.name, offset, end); !st.ok()) return st;
  c.result.notes.push_back("REPAIR: cut " + s.name + " at byte " + std::to_string(offset) + " (" +
                           why + "), " + std::to_string(end - offset) + " bytes dropped" + lost +
                           "; every later record is lost");
  spdlog::error("{}", c.result.notes.back());
  c.cut = true;
  return absl::OkStatus();
}

// R2, R5, R3: whether the segment's header can be trusted. An error refuses
// even with --repair (R2, R3: not a segment of this log); a reason is
// corruption that --repair cuts (R5); empty: the header is sound.
absl::StatusOr<std::string> CheckSegmentHeader(Context& c, LoadedSegment* s) {
  const HeaderStatus hs = DecodeSegmentHeader(s->data, &s->h);
  if (hs == HeaderStatus::kBadMagic) return Corrupt(s->name, 0, "not a werk segment (bad magic)");
  if (hs == HeaderStatus::kBadVersion)
    return absl::FailedPreconditionError(s->name + ": unsupported segment format version " +
                                         std::to_string(s->h.version));
  if (hs != HeaderStatus::kOk || c.bad_header.count(s->id)) {
    // R5: an invalid header before the end of the log, or one at its end
    // with records of the segment behind it.
    return c.bad_header.count(s->id) ? c.bad_header[s->id] : std::string("segment header invalid");
  }
  // R3
  if (s->h.shard != c.options.shard || s->h.segment_id != s->id)
    return absl::FailedPreconditionError(s->name + " belongs to shard " +
                                         std::to_string(s->h.shard) + " as segment " +
                                         std::to_string(s->h.segment_id) + ": a misplaced file");
  return std::string();
}

// R12, R9: segments must continue the log without a gap; R10: nor go back
// in epoch. Why the segment does not continue the log, or empty.
std::string CheckSegmentContinues(const Context& c, const SegmentHeader& h) {
  if (c.expected_lsn == 0) {
    if (h.first_lsn > c.result.checkpoint_lsn.value() + 1) {
      return "log starts at LSN " + std::to_string(h.first_lsn) + " but the checkpoint ends at " +
             std::to_string(c.result.checkpoint_lsn.value());
    }
  } else if (h.first_lsn != c.expected_lsn && h.first_lsn <= c.result.checkpoint_lsn.value() + 1) {
    // Older segments the checkpoint covers may outlive some of their
    // successors (removals complete in any order): no gap that matters.
  } else if (h.first_lsn != c.expected_lsn) {
    return "segment starts at LSN " + std::to_string(h.first_lsn) + ", " +
           std::to_string(c.expected_lsn) + " expected";
  }
  if (core::Epoch(h.epoch) < c.log_epoch && c.expected_lsn != 0) {
    return "segment epoch " + std::to_string(h.epoch) + " is older than " +
           std::to_string(c.log_epoch.value());
  }
  return std::string();
}

// How the segment is read. The newest gets the strongest write marker of
// the candidates at the end of the log as evidence for its frames (R8/R11).
LogReader::Options ReaderOptions(const Context& c, const LoadedSegment& s) {
  LogReader::Options ro;
  ro.expected_lsn = core::Lsn(s.h.first_lsn);
  ro.min_epoch = std::max(s.h.epoch, c.expected_lsn == 0 ? uint64_t(0) : c.log_epoch.value());
  ro.newest = s.newest;
  ro.salt = s.h.salt;
  ro.write_markers = s.h.version >= kFormatVersionMarkers;
  ro.torn_window_bytes = c.options.torn_window_bytes;
  if (s.newest && !c.later_where.empty()) {
    ro.later_durable_lsn = core::Lsn(c.later_marker.durable_lsn);
    ro.later_evidence = "the write at " + c.later_where + " (write " +
                        std::to_string(c.later_marker.sequence) + ")";
  }
  return ro;
}

// A write marker (version 3): where the writer's numbering continues, and
// what it vouches for.
void NoteWriteMarker(Wal::Position& pos, const WriteMarker& marker) {
  pos.next_write_sequence = std::max(pos.next_write_sequence, marker.sequence + 1);
  pos.stated_durable_lsn = std::max(pos.stated_durable_lsn, core::Lsn(marker.durable_lsn));
}

// R6: replays a record the checkpoint does not cover; R14: an error from
// the sink stops recovery, naming the record.
absl::Status ReplayRecord(Context& c, const std::string& name, const Frame& f) {
  if (f.header.lsn > c.result.checkpoint_lsn.value()) {
    // R10 against the checkpoint: it was taken in its epoch, so every record
    // appended after it carries that epoch or a later one.
    if (auto st = core::CheckRecordPlace(f.body, core::Lsn(f.header.lsn),
                                         core::Epoch(f.header.epoch));
        !st.ok())
      return Corrupt(name, f.offset, std::string(st.message()));
    if (core::Epoch(f.header.epoch) < c.checkpoint_epoch)
      return Corrupt(name, f.offset,
                     "LSN " + std::to_string(f.header.lsn) + " of epoch " +
                         std::to_string(f.header.epoch) + " follows a checkpoint of epoch " +
                         std::to_string(c.checkpoint_epoch.value()));
    if (auto st = c.sinks.record(core::Lsn(f.header.lsn), f.body); !st.ok()) {
      return absl::Status(st.code(), name + " at byte " + std::to_string(f.offset) + ", LSN " +
                                         std::to_string(f.header.lsn) + ": " +
                                         std::string(st.message()));
    }
    ++c.result.records_replayed;
  }
  c.result.last_lsn = std::max(c.result.last_lsn, core::Lsn(f.header.lsn));
  c.result.epoch = std::max(c.result.epoch, core::Epoch(f.header.epoch));
  c.log_epoch = std::max(c.log_epoch, core::Epoch(f.header.epoch));
  return absl::OkStatus();
}

// R8 (version 3): no later write states the dropped LSNs durable. Names
// what is lost; loudly if it held records.
void NoteTornWrite(Context& c, const std::string& name, const LogReader& reader) {
  const uint64_t off = reader.offset();
  const bool records = reader.dropped_last_lsn() >= reader.dropped_first_lsn();
  const uint64_t m = reader.marker_offset();
  const bool inside = reader.marker().sequence != 0 && off < m + reader.marker().write_bytes;
  c.result.notes.push_back("torn tail of " + name + " at byte " + std::to_string(off) + ": " +
                           (inside ? "the write at byte " + std::to_string(m) + " (write " +
                                         std::to_string(reader.marker().sequence) + ", " +
                                         std::to_string(reader.marker().write_bytes) + " bytes)"
                                   : std::string("the write starting there")) +
                           " was cut by the crash (" + reader.reason() + "); " +
                           std::to_string(reader.torn_bytes()) + " bytes dropped holding " +
                           (records ? "LSNs " + std::to_string(reader.dropped_first_lsn().value()) + ".." +
                                          std::to_string(reader.dropped_last_lsn().value())
                                    : std::string("no complete record")) +
                           ", never acknowledged: no later write states them durable");
  if (records) {
    spdlog::error("{}", c.result.notes.back());
  } else {
    spdlog::warn("{}", c.result.notes.back());
  }
}

// R8: a write in flight at the crash was cut; it was never acknowledged.
// The writer never has writes in flight to two segments, so this is the
// last segment written. Its bytes are zeroed, and what was dropped noted.
absl::Status TruncateTornTail(Context& c, const std::string& name, const LogReader& reader,
                              bool write_markers) {
  const uint64_t off = reader.offset();
  if (auto st = ZeroRange(c.storage, name, off, off + reader.torn_bytes()); !st.ok()) return st;
  if (write_markers) {
    NoteTornWrite(c, name, reader);
  } else if (reader.cut_write()) {
    c.result.notes.push_back("torn tail of " + name + " truncated at byte " + std::to_string(off) +
                             ": " + std::to_string(reader.torn_bytes()) + " bytes dropped (" +
                             reader.reason() + ", never synced)");
    spdlog::warn("{}", c.result.notes.back());
  } else if (reader.torn_bytes() > 0) {
    // After a clean stop this is a recycled file's stale bytes.
    c.result.notes.push_back("unreadable bytes after the last record of " + name + " at byte " +
                             std::to_string(off) + ": " + std::to_string(reader.torn_bytes()) +
                             " bytes dropped (a write cut by a crash, or stale bytes of a "
                             "recycled segment; never acknowledged)");
    spdlog::info("{}", c.result.notes.back());
  }
  return absl::OkStatus();
}

// R6–R11: the segment's frames in order, up to its clean end (R7), its torn
// tail (R8) or corruption (R11; with --repair, the cut).
absl::Status ReplaySegment(Context& c, std::map<uint64_t, std::string>::iterator it,
                           const LoadedSegment& s, LogReader& reader, bool write_markers) {
  for (;;) {
    Frame f;
    switch (reader.Next(&f)) {
      case ReadOutcome::kRecord:
        if (write_markers && f.header.type == uint16_t(RecordType::kWrite)) {
          NoteWriteMarker(c.result.position, reader.marker());
          // A marker may be all a new epoch left (one written alone, after an
          // epoch change with no record yet): the log continues in it.
          c.log_epoch = std::max(c.log_epoch, core::Epoch(f.header.epoch));
          c.result.epoch = std::max(c.result.epoch, core::Epoch(f.header.epoch));
          break;
        }
        if (f.header.type != uint16_t(RecordType::kMutation)) {
          if (!c.options.repair) {
            return Corrupt(s.name, f.offset,
                           "unknown record type " + std::to_string(f.header.type));
          }
          return RepairCut(c, s, f.offset, "unknown record type");
        }
        if (auto st = ReplayRecord(c, s.name, f); !st.ok()) return st;
        break;
      case ReadOutcome::kEnd:
        return absl::OkStatus();
      case ReadOutcome::kTornTail:
        return TruncateTornTail(c, s.name, reader, write_markers);
      case ReadOutcome::kCorrupt:
        if (!s.newest && reader.invalid_frame() &&
            NextContinues(c, std::next(it), reader.expected_lsn().value())) {
          // The segment's records end where the next segment's begin: what
          // follows is a recycled file's stale bytes (or a covered
          // segment's, which nothing needs).
          return absl::OkStatus();
        }
        if (!c.options.repair) return Corrupt(s.name, reader.offset(), reader.reason());
        return RepairCut(c, s, reader.offset(), reader.reason(), reader.expected_lsn().value(),
                         s.h.salt);
    }
  }
}

// Where the writer continues: the newest segment read (or the one cut for
// --repair) is opened; a full, older one only sets the position, as the
// writer continues after the newest one.
absl::Status SetCurrent(Context& c, const LoadedSegment& s, uint64_t offset) {
  Wal::Position& pos = c.result.position;
  if (s.newest || c.cut) {
    auto file = c.storage.Open(s.name);
    if (!file.ok()) return file.status();
    pos.current = std::move(*file);
  }
  pos.current_id = s.id;
  pos.current_offset = offset;
  pos.current_salt = s.h.salt;
  pos.current_version = s.h.version;
  return absl::OkStatus();
}

// R2–R12 for one segment, in log order. Unborn segments were judged at the
// end of the log (R4); those after a --repair cut are removed.
absl::Status ReadSegment(Context& c, std::map<uint64_t, std::string>::iterator it) {
  LoadedSegment s;
  s.id = it->first;
  s.name = it->second;
  if (c.unborn.count(s.id)) return absl::OkStatus();
  s.newest = s.id == c.tail_id;
  if (c.cut) {
    if (auto st = c.storage.Remove(s.name); !st.ok()) return st;
    c.result.notes.push_back("REPAIR: removed " + s.name + " (after the cut)");
    return absl::OkStatus();
  }
  if (auto st = LoadSegmentData(c, &s); !st.ok()) return st;
  auto fault = CheckSegmentHeader(c, &s);
  if (!fault.ok()) return fault.status();
  const std::string why = !fault->empty() ? *fault : CheckSegmentContinues(c, s.h);
  if (!why.empty()) {
    if (!c.options.repair) return Corrupt(s.name, 0, why);
    return RepairCut(c, s, 0, why);
  }
  c.result.position.segments.emplace_back(s.id, s.h.first_lsn);
  const LogReader::Options ro = ReaderOptions(c, s);
  LogReader reader(s.data, ro);
  if (auto st = ReplaySegment(c, it, s, reader, ro.write_markers); !st.ok()) return st;
  c.expected_lsn = reader.expected_lsn().value();
  return SetCurrent(c, s, reader.offset());
}

// Only the newest segment with a header stays open as `current`; an older
// one left as current (the newest was a spare) is reopened here. What was
// read is then made durable before the writer's first marker states it so:
// a crash of the process (not of the machine) can leave written but
// unsynced data readable. Older segments were synced before the next began.
absl::Status ReopenCurrent(Context& c) {
  Wal::Position& pos = c.result.position;
  if (!pos.current && !pos.segments.empty()) {
    auto file = c.storage.Open(c.segments[pos.segments.back().first]);
    if (!file.ok()) return file.status();
    pos.current = std::move(*file);
    pos.current_id = pos.segments.back().first;
    // current_offset was set when that segment was read.
  }
  if (pos.current) {
    if (auto st = c.storage.Sync(c.segments[pos.current_id]); !st.ok()) return st;
  }
  return absl::OkStatus();
}

// Records the checkpoint covers that the log no longer reaches are missing
// (unless --repair cut the log short on purpose).
absl::Status CheckLogReachesCheckpoint(const Context& c) {
  if (!c.result.position.segments.empty() && c.result.last_lsn < c.result.checkpoint_lsn &&
      !c.cut) {
    return absl::DataLossError("the log ends at LSN " + std::to_string(c.result.last_lsn.value()) +
                               " before its checkpoint at " +
                               std::to_string(c.result.checkpoint_lsn.value()));
  }
  return absl::OkStatus();
}

// The steps in the order of the log's reading. A refusal returns before
// anything decided about the end of the log (R4) is done.
absl::Status Run(Context& c) {
  if (auto st = SortFiles(c); !st.ok()) return st;             // R1, R7a
  if (auto st = LoadNewestCheckpoint(c); !st.ok()) return st;  // R13
  if (c.sinks.items_done) c.sinks.items_done();
  Wal::Position& pos = c.result.position;
  pos.next_segment_id = c.segments.empty() ? 1 : c.segments.rbegin()->first + 1;
  if (auto st = FindTailAndCandidates(c); !st.ok()) return st;  // R4/R5
  DeriveCandidateSalts(c);
  JudgeCandidates(c);
  // The writer continues after the newest segment that holds records.
  for (const auto& [id, name] : c.segments)
    if (!c.unborn.count(id)) c.tail_id = id;
  for (auto it = c.segments.begin(); it != c.segments.end(); ++it)
    if (auto st = ReadSegment(c, it); !st.ok()) return st;     // R2, R3, R5–R12, R14
  if (auto st = FinishUnbornSegments(c); !st.ok()) return st;  // R4
  if (auto st = ReopenCurrent(c); !st.ok()) return st;
  if (auto st = CheckLogReachesCheckpoint(c); !st.ok()) return st;
  pos.next_lsn = std::max(c.result.last_lsn, c.result.checkpoint_lsn).next();
  return absl::OkStatus();
}

}  // namespace
}  // namespace recovery

absl::StatusOr<RecoveryResult> Recover(Storage& storage, const RecoveryOptions& options,
                                       const RecoverySinks& sinks) {
  recovery::Context c(storage, options, sinks);
  if (auto st = recovery::Run(c); !st.ok()) return st;
  return std::move(c.result);
}

}  // namespace werk::wal
