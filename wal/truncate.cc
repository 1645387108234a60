// TruncateAfter (wal/truncate.h): read the log as recovery would, decide the
// cut, then make it in an order that a crash cannot turn into a log recovery
// refuses.
//
// The steps, each durable before the next begins:
//  1. Remove the checkpoints past keep_through, newest first. The log still
//     holds every record, and it reaches back to the cut log's start (the
//     newest checkpoint at or below keep_through, or LSN 1; checked before
//     anything is written), so recovery starts from whichever checkpoint is
//     left and replays the whole old log. (Recovery removes older checkpoints
//     when it loads the newest, so a crash here followed by a plain restart
//     can leave only one past keep_through: the next TruncateAfter then
//     refuses, and the caller bootstraps. Nothing is lost or refused.)
//     They go first because a checkpoint past the end of the log would bring
//     the dropped records' effects back at the next start, and the writer
//     would continue after it, leaving a gap in the log (R9).
//  2. Remove the files after the segment holding the cut, newest first: the
//     spare, then the segments. Each removal leaves a log that ends at a
//     segment boundary of the old one, which recovery reads to its clean end
//     (the newest segment left ends in zeros or a recycled file's stale
//     bytes). They go before any byte of a kept segment is touched: a segment
//     whose records stop short of the next segment's first LSN is a gap
//     (R9), and a write marker of a later segment stating a zeroed LSN
//     durable is corruption (R11).
//  3. Zero the cut segment from the first frame past keep_through (the
//     marker of the write holding keep_through+1, or that record's frame when
//     keep_through is inside a write) through the last frame valid under
//     its salt, one write at a time, the last write first. Each zeroing is
//     one Overwrite (pwrite + fdatasync). After it, the segment holds the old
//     frames up to a write boundary and zeros after: a clean end, or — for
//     the first range, cut inside a write — a write whose end never landed,
//     which recovery takes for a torn tail (R8) of zeros, holding no record.
//     A crash during it can damage only the write being zeroed: its marker
//     states only LSNs before the write durable, and every marker after it
//     is zero already, so no marker vouches for a damaged frame and recovery
//     takes the damage for a torn tail (R8) too. The records <= keep_through
//     sharing the first write's last sector are rewritten with the same
//     bytes, which the log's own O_DIRECT rewrites already rely on (a sector
//     is written whole or not at all).
// A crash therefore leaves the old log with a shorter tail — never one that
// lacks a record <= keep_through, never one recovery refuses — and a second
// TruncateAfter cuts the rest. Segments are removed rather than renamed
// `.free`: a diverged tail is rare, and the writer soon recycles covered
// segments of its own.

#include "wal/truncate.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "wal/checkpoint.h"
#include "wal/log_reader.h"
#include "wal/zero_range.h"

namespace werk::wal {
namespace {

std::string L(uint64_t lsn) { return std::to_string(lsn); }

absl::Status Unreadable(const std::string& name, uint64_t offset, const std::string& why) {
  return absl::DataLossError("cannot cut the log: " + name + " at byte " + std::to_string(offset) +
                             ": " + why + " (start werkd once so that recovery judges it, or "
                             "restore from the primary)");
}

// A frame of the segment that holds the cut.
struct FrameAt {
  uint64_t offset;
  uint64_t bytes;
  bool marker;
};

// What is read before anything is written.
struct Reading {
  Reading(Storage& storage, core::Lsn keep, const TruncateOptions& options)
      : storage(storage), keep(keep.value()), options(options) {}

  Storage& storage;
  const uint64_t keep;
  const TruncateOptions& options;
  std::map<uint64_t, std::string> segments;     // id -> name
  std::map<uint64_t, std::string> checkpoints;  // lsn -> name
  uint64_t tail_id = 0;  // the newest segment with a header of its own use
  uint64_t start = 0;    // the cut log's start: a checkpoint's LSN, or 0

  // Reading the segments in order (as recovery's R6–R12).
  uint64_t expected = 0;  // 0: the first segment decides
  uint64_t epoch = 0;
  uint64_t last_lsn = 0;
  // An older segment that ended on an invalid frame: stale bytes of a
  // recycled file if the next segment continues at `open_lsn`.
  std::string open_end;
  uint64_t open_lsn = 0;

  // The cut: the segment holding the first frame past `keep`.
  uint64_t cut_id = 0;
  std::string cut_data;
  SegmentHeader cut_header;
  std::vector<FrameAt> cut_frames;  // from the first frame past `keep` on
  uint64_t cut_log_end = 0;         // after the segment's last frame
  uint64_t cut_write_end = 0;       // the extent of its last write marker
  bool cut_keeps_records = false;   // records <= keep precede the cut in it
  uint64_t before_cut_lsn = 0;      // the last LSN of the segments before it

  std::set<uint64_t> epochs;
  TruncateReport report;
};

// The files: segments, checkpoints; recycled and temporary files are no
// part of the log (R1, R7a) and are left to recovery.
void SortFiles(Reading& r) {
  for (const std::string& name : r.storage.List()) {
    uint64_t v;
    if (ParseSegmentName(name, &v)) {
      r.segments[v] = name;
    } else if (ParseCheckpointName(name, &v)) {
      r.checkpoints[v] = name;
    }
  }
}

// The newest segment with a header of its own use; those after it must be
// spares (zero header, or a recycled file's old one), as recovery leaves
// them (R4). Anything else is for recovery to judge first.
absl::Status FindTail(Reading& r) {
  for (auto it = r.segments.rbegin(); it != r.segments.rend(); ++it) {
    auto data = r.storage.ReadAll(it->second);
    if (!data.ok()) return data.status();
    SegmentHeader h;
    const HeaderStatus hs = DecodeSegmentHeader(*data, &h);
    const bool stale = hs == HeaderStatus::kOk && h.shard == r.options.shard &&
                       h.segment_id < it->first;
    if (hs == HeaderStatus::kOk && !stale) {
      r.tail_id = it->first;
      return absl::OkStatus();
    }
    if (hs != HeaderStatus::kZero && !stale)
      return Unreadable(it->second, 0, "segment header invalid after the last segment");
  }
  return absl::OkStatus();
}

// The cut log's start, and whether it is consistent: every checkpoint past
// keep_through goes, so the newest one at or below it must load, and the
// log must reach back to it (checked as the segments are read).
absl::Status ChooseStart(Reading& r) {
  auto above = r.checkpoints.upper_bound(r.keep);
  for (auto it = r.checkpoints.begin(); it != above; ++it) r.start = it->first;
  if (above == r.checkpoints.end()) return absl::OkStatus();
  if (r.start != 0) {
    const std::string& name = r.checkpoints[r.start];
    auto image = r.storage.ReadAll(name);
    if (!image.ok()) return image.status();
    CheckpointHeader h;
    auto st = LoadCheckpoint(*image, r.options.shard, &h,
                             [](core::SnapshotItemType, std::string_view) { return true; });
    if (!st.ok()) {
      return absl::FailedPreconditionError(
          "cannot cut the log after LSN " + L(r.keep) + ": " + above->second +
          " is past it and the older " + name + " does not load (" + std::string(st.message()) +
          "); bootstrap from the primary instead");
    }
  }
  return absl::OkStatus();
}

// `gap`: what the log lacks (default: its start is past the cut log's).
absl::Status NoStart(const Reading& r, uint64_t log_from, std::string gap = {}) {
  const uint64_t newest = r.checkpoints.empty() ? 0 : r.checkpoints.rbegin()->first;
  std::string why = r.start == 0 ? "no checkpoint at or below it"
                                 : "checkpoint-" + L(r.start) + " is the newest at or below it";
  if (gap.empty())
    gap = "starts at LSN " + L(log_from) + ", not at or before LSN " + L(r.start + 1);
  return absl::FailedPreconditionError(
      "cannot cut the log after LSN " + L(r.keep) + ": the newest checkpoint is at LSN " +
      L(newest) + ", " + why + ", and the log " + gap +
      ": the cut log would have no consistent start; bootstrap from the primary instead");
}

// R12, R9 against the cut log's start: a segment continues the log, or
// starts at or before the start's next LSN (an older covered segment that
// outlived its successors).
absl::Status CheckContinues(Reading& r, const std::string& name, const SegmentHeader& h) {
  const bool covered = h.first_lsn <= r.start + 1;
  if (!r.open_end.empty() && h.first_lsn != r.open_lsn && !covered)
    return Unreadable(r.open_end, 0, "its records end at LSN " + L(r.open_lsn - 1) +
                                         " on an invalid frame, and " + name + " starts at LSN " +
                                         L(h.first_lsn));
  r.open_end.clear();
  if (r.expected == 0) {
    if (!covered) return NoStart(r, h.first_lsn);
  } else if (h.first_lsn != r.expected && !covered) {
    // A hole a checkpoint past keep_through covers: segments it released,
    // some of them only (a crash cut the release short). Recovery accepts
    // that log, from the checkpoint on; the cut log, without it, would
    // start before the hole.
    const uint64_t newest = r.checkpoints.empty() ? 0 : r.checkpoints.rbegin()->first;
    if (h.first_lsn > r.expected && h.first_lsn <= newest + 1)
      return NoStart(r, r.expected, "has no records from LSN " + L(r.expected) + " to " +
                                        L(h.first_lsn - 1) + " (released under that checkpoint)");
    return Unreadable(name, 0, "segment starts at LSN " + L(h.first_lsn) + ", " + L(r.expected) +
                                   " expected");
  }
  return absl::OkStatus();
}

// A frame past keep_through: counted, and kept for the cut if it lies in
// the cut segment (the first such frame decides which segment that is).
void NoteDropped(Reading& r, uint64_t id, const Frame& f, bool marker) {
  const uint64_t bytes = kFrameHeaderBytes + f.body.size();
  if (r.cut_id == 0) r.cut_id = id;
  if (r.cut_id == id) r.cut_frames.push_back({f.offset, bytes, marker});
  r.report.bytes_dropped += bytes;
  if (marker) return;
  if (r.options.on_dropped) r.options.on_dropped(core::Lsn(f.header.lsn), f.body);
  if (r.report.records_dropped++ == 0) r.report.first_dropped = core::Lsn(f.header.lsn);
  r.report.last_dropped = core::Lsn(f.header.lsn);
  r.epochs.insert(f.header.epoch);
}

// One segment's frames, as recovery reads them (R6–R11); the tail ends at
// its clean end or its torn tail (which recovery would cut there too).
absl::Status ReadSegment(Reading& r, uint64_t id, const std::string& name) {
  auto data = r.storage.ReadAll(name);
  if (!data.ok()) return data.status();
  SegmentHeader h;
  const HeaderStatus hs = DecodeSegmentHeader(*data, &h);
  if (hs != HeaderStatus::kOk) return Unreadable(name, 0, "segment header invalid");
  if (h.shard != r.options.shard || h.segment_id != id)
    return Unreadable(name, 0, "a segment of shard " + std::to_string(h.shard) + " as segment " +
                                   std::to_string(h.segment_id) + ": a misplaced file");
  if (auto st = CheckContinues(r, name, h); !st.ok()) return st;
  const uint64_t lsn_before = r.last_lsn;
  LogReader::Options ro;
  ro.expected_lsn = core::Lsn(h.first_lsn);
  ro.min_epoch = std::max(h.epoch, r.expected == 0 ? uint64_t(0) : r.epoch);
  ro.salt = h.salt;
  ro.newest = id == r.tail_id;
  ro.write_markers = h.version >= kFormatVersionMarkers;
  ro.torn_window_bytes = r.options.torn_window_bytes;
  LogReader reader(*data, ro);
  bool keeps_records = false;
  for (;;) {
    Frame f;
    const ReadOutcome out = reader.Next(&f);
    if (out == ReadOutcome::kEnd || out == ReadOutcome::kTornTail) break;
    if (out == ReadOutcome::kCorrupt) {
      if (!ro.newest && reader.invalid_frame()) {
        r.open_end = name;
        r.open_lsn = reader.expected_lsn().value();
        break;
      }
      return Unreadable(name, reader.offset(), reader.reason());
    }
    const bool marker = ro.write_markers && f.header.type == uint16_t(RecordType::kWrite);
    if (!marker && f.header.type != uint16_t(RecordType::kMutation))
      return Unreadable(name, f.offset, "unknown record type " + std::to_string(f.header.type));
    r.epoch = std::max(r.epoch, f.header.epoch);
    if (f.header.lsn > r.keep) {
      if (r.cut_id == 0) r.before_cut_lsn = lsn_before;
      NoteDropped(r, id, f, marker);
    } else if (!marker) {
      keeps_records = true;
    }
    if (marker && r.cut_id == id) r.cut_write_end = f.offset + reader.marker().write_bytes;
    if (!marker) r.last_lsn = f.header.lsn;
  }
  r.expected = reader.expected_lsn().value();
  if (r.cut_id == id) {
    r.cut_data = std::move(*data);
    r.cut_header = h;
    r.cut_log_end = reader.offset();
    r.cut_keeps_records = keeps_records;
  }
  return absl::OkStatus();
}

// Reads the whole log, then checks keep_through against it.
absl::Status ReadLog(Reading& r) {
  SortFiles(r);
  if (auto st = FindTail(r); !st.ok()) return st;
  if (auto st = ChooseStart(r); !st.ok()) return st;
  for (const auto& [id, name] : r.segments) {
    if (id > r.tail_id) break;
    if (auto st = ReadSegment(r, id, name); !st.ok()) return st;
  }
  // Past the log's last record, the state is a checkpoint's alone.
  const uint64_t newest = r.checkpoints.empty() ? 0 : r.checkpoints.rbegin()->first;
  r.last_lsn = std::max(r.last_lsn, newest);
  if (r.keep > r.last_lsn) {
    return absl::OutOfRangeError("cannot cut the log after LSN " + L(r.keep) +
                                 ": it ends at LSN " + L(r.last_lsn));
  }
  // No segment: nothing holds the records from the start to keep_through.
  if (r.expected == 0 && r.start != r.keep) return NoStart(r, newest + 1);
  return absl::OkStatus();
}

// Step 3's ranges, the last first: from the cut through the last frame
// valid under the salt, split where the writes begin (versions 1 and 2:
// into pieces well within the torn-tail window).
std::vector<std::pair<uint64_t, uint64_t>> ZeroRanges(const Reading& r, uint64_t cut) {
  const std::string_view data = r.cut_data;
  uint64_t end = std::max(r.cut_log_end, std::min<uint64_t>(r.cut_write_end, data.size()));
  const FrameScan scan = ScanFrames(data, cut, r.cut_header.salt);
  if (scan.last_header != UINT64_MAX) end = std::max(end, scan.last_header + kFrameHeaderBytes);
  std::vector<uint64_t> starts{cut};
  const bool markers = r.cut_header.version >= kFormatVersionMarkers;
  const uint64_t piece_max = std::max<uint64_t>(r.options.torn_window_bytes / 2, 1);
  for (const FrameAt& f : r.cut_frames) {
    if (f.offset <= starts.back()) continue;
    if (markers ? f.marker : f.offset + f.bytes - starts.back() > piece_max)
      starts.push_back(f.offset);
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (size_t i = starts.size(); i-- > 0;) {
    const uint64_t to = i + 1 < starts.size() ? starts[i + 1] : end;
    if (to > starts[i]) ranges.emplace_back(starts[i], to);
  }
  return ranges;
}

// The plan: what each step does, decided before the first one.
struct Plan {
  std::vector<std::string> checkpoints;  // newest first
  std::vector<std::string> files;        // newest first
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // the last first
};

Plan MakePlan(Reading& r) {
  Plan p;
  TruncateReport& rep = r.report;
  for (auto it = r.checkpoints.rbegin(); it != r.checkpoints.rend() && it->first > r.keep; ++it)
    p.checkpoints.push_back(it->second);
  if (r.cut_id == 0) return p;  // no frame past keep_through: checkpoints only
  // The cut segment goes whole when it holds no record to keep (a header
  // alone would name the epoch it was started in, which may be newer than
  // what the kept log carries). The segments before it then either end at
  // keep_through, and stay, or — the log being read contiguous from the
  // start — keep_through is the start checkpoint's LSN and they are covered
  // by it: they go too, before it, so that no step leaves a covered segment
  // as the newest, where the writer would continue after records older than
  // the checkpoint (recovery accepts a log starting at or before the
  // checkpoint's next LSN), and the cut log is the checkpoint alone.
  const bool whole = !r.cut_keeps_records;
  for (auto it = r.segments.rbegin(); it != r.segments.rend() && it->first > r.cut_id; ++it)
    p.files.push_back(it->second);
  if (whole) {
    if (r.before_cut_lsn != r.keep)
      for (auto it = r.segments.begin(); it != r.segments.end() && it->first < r.cut_id; ++it)
        p.files.push_back(it->second);
    p.files.push_back(r.segments[r.cut_id]);
  }
  if (!whole) {
    const uint64_t cut = r.cut_frames.front().offset;
    p.ranges = ZeroRanges(r, cut);
    rep.cut_segment = r.segments[r.cut_id];
    rep.cut_offset = cut;
  }
  rep.checkpoints_removed = p.checkpoints;
  rep.segments_removed = p.files;
  for (uint64_t e : r.epochs) rep.epochs_dropped.emplace_back(e);
  return p;
}

// A note on what a step did, or, in a dry run, would do.
void Note(TruncateReport& rep, const std::string& done, const std::string& would,
          const std::string& what) {
  rep.notes.push_back((rep.dry_run ? would : done) + " " + what);
}

// The steps, in the order the file's comment explains.
absl::Status Execute(Reading& r, const Plan& p) {
  TruncateReport& rep = r.report;
  for (const std::string& name : p.checkpoints) {  // 1
    if (!rep.dry_run)
      if (auto st = r.storage.Remove(name); !st.ok()) return st;
    Note(rep, "removed", "would remove", name + " (past LSN " + L(r.keep) + ")");
  }
  for (const std::string& name : p.files) {  // 2
    if (!rep.dry_run)
      if (auto st = r.storage.Remove(name); !st.ok()) return st;
    Note(rep, "removed", "would remove", name);
  }
  uint64_t zeroed = 0;
  for (const auto& [from, to] : p.ranges) {  // 3
    if (!rep.dry_run)
      if (auto st = ZeroRange(r.storage, rep.cut_segment, from, to); !st.ok()) return st;
    zeroed += to - from;
  }
  if (!p.ranges.empty()) {
    Note(rep, "zeroed", "would zero",
         rep.cut_segment + " from byte " + std::to_string(rep.cut_offset) + " (" +
             std::to_string(zeroed) + " bytes, " + std::to_string(p.ranges.size()) + " writes)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TruncateReport> TruncateAfter(Storage& storage, core::Lsn keep_through,
                                             const TruncateOptions& options) {
  Reading r(storage, keep_through, options);
  r.report.keep_through = keep_through;
  r.report.dry_run = options.dry_run;
  if (auto st = ReadLog(r); !st.ok()) return st;
  r.report.last_lsn = core::Lsn(r.last_lsn);
  r.report.start_lsn = core::Lsn(r.start);
  if (r.report.records_dropped == 0 && r.checkpoints.upper_bound(r.keep) == r.checkpoints.end()) {
    // Nothing past keep_through (a marker alone vouching for it at most).
    return std::move(r.report);
  }
  const Plan plan = MakePlan(r);
  if (auto st = Execute(r, plan); !st.ok()) {
    return absl::Status(st.code(), "cutting the log after LSN " + L(r.keep) + " (the log is "
                                   "sound; run TruncateAfter again): " +
                                       std::string(st.message()));
  }
  const TruncateReport& rep = r.report;
  std::string what = rep.records_dropped == 0
                         ? std::to_string(rep.checkpoints_removed.size()) + " checkpoints"
                         : "LSNs " + L(rep.first_dropped.value()) + ".." +
                               L(rep.last_dropped.value()) + " (" +
                               std::to_string(rep.records_dropped) + " records, " +
                               std::to_string(rep.bytes_dropped) + " bytes)";
  if (rep.dry_run) {
    spdlog::info("cutting the log after LSN {} would drop {}", r.keep, what);
  } else {
    spdlog::warn("cut the log after LSN {}: dropped {}", r.keep, what);
  }
  return std::move(r.report);
}

}  // namespace werk::wal
