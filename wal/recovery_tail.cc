// The end of the log (docs/wal-format.md, R4/R5): the segments after the
// last one with a header of its own use are judged unborn (never synced:
// dropped, the newest kept as the spare) or corrupt (refused when read).
#include <cstring>

#include <spdlog/spdlog.h>

#include "wal/log_reader.h"
#include "wal/recovery_context.h"
#include "wal/zero_range.h"

namespace werk::wal::recovery {

// R4/R5: reads the segments from the newest back to the tail, the newest
// with a header of its own use (or of an unknown version, which R2 refuses
// when it is read); those after the tail are the unborn candidates.
absl::Status FindTailAndCandidates(Context& c) {
  for (auto it = c.segments.rbegin(); it != c.segments.rend(); ++it) {
    auto data = c.storage.ReadAll(it->second);
    if (!data.ok()) return data.status();
    SegmentHeader h;
    const HeaderStatus hs = DecodeSegmentHeader(*data, &h);
    const bool stale_header =
        hs == HeaderStatus::kOk && h.shard == c.options.shard && h.segment_id < it->first;
    if ((hs == HeaderStatus::kOk && !stale_header) || hs == HeaderStatus::kBadVersion) {
      c.tail_id = it->first;
      c.tail_salt = h.salt;
      c.data_of[it->first] = std::move(*data);
      break;
    }
    c.candidates.push_back(it->first);
    c.data_of[it->first] = std::move(*data);
  }
  return absl::OkStatus();
}

namespace {

// R4/R5: the salt and first LSN of a candidate with no predecessor here,
// from its own header: repaired if exactly one byte differs from a valid
// header (a recycled file's old header, valid, is never taken: its salt is
// that of its earlier use).
void SaltFromOwnHeader(Context& c, uint64_t id) {
  const std::string& data = c.data_of[id];
  SegmentHeader h;
  size_t byte = 0;
  c.first_of[id] = 0;
  if (RepairSegmentHeader(data, &h, &byte)) {
    c.salt_of[id] = h.salt;
    c.first_of[id] = h.first_lsn;
    c.header_note[id] = "byte " + std::to_string(byte) + " of it differs from a valid header";
  } else if (DecodeSegmentHeader(data, &h) == HeaderStatus::kOk) {
    c.salt_of[id] = 0;  // an old header: this use's salt is unknown
  } else {
    uint64_t stored = 0;
    if (data.size() >= kSegmentHeaderBytes) std::memcpy(&stored, data.data() + 48, 8);
    c.salt_of[id] = stored;
  }
}

}  // namespace

// R4/R5: a candidate's salt follows from the segment before it (NextSalt)
// when that one is here: the tail, or another candidate. Otherwise — the
// first segment of what is left of the log, or one whose predecessors were
// released under a checkpoint — it is only in the candidate's own header.
// The same goes for the candidate's first LSN: where the tail ends
// (candidates hold no durable record), else the header's, else the lowest
// LSN among its frames.
void DeriveCandidateSalts(Context& c) {
  for (auto it = c.candidates.rbegin(); it != c.candidates.rend(); ++it) {
    const uint64_t id = *it;
    if (c.tail_id != 0 && id - 1 == c.tail_id) {
      c.salt_of[id] = NextSalt(c.tail_salt, id);
      c.first_of[id] = kTailEnd;
      continue;
    }
    if (c.salt_of.count(id - 1)) {
      c.salt_of[id] = NextSalt(c.salt_of[id - 1], id);
      c.first_of[id] = c.first_of[id - 1];
      continue;
    }
    SaltFromOwnHeader(c, id);
  }
}

namespace {

// Where the tail's records end, and whether it reads cleanly to there
// (c.tail_clean). A candidate's first write is issued only once every write
// to the tail completed, so a candidate with frames of its own after a tail
// that does not read cleanly proves the tail damaged, not cut.
uint64_t TailEndLsn(Context& c) {
  if (!c.tail_end) {
    const std::string& data = c.data_of[c.tail_id];
    SegmentHeader h;
    DecodeSegmentHeader(data, &h);
    LogReader::Options ro;
    ro.expected_lsn = core::Lsn(h.first_lsn);
    ro.salt = h.salt;
    ro.write_markers = h.version >= kFormatVersionMarkers;
    ro.newest = true;  // read as the last segment written: stale bytes end it
    ro.torn_window_bytes = c.options.torn_window_bytes;
    LogReader reader(data, ro);
    Frame f;
    ReadOutcome out;
    while ((out = reader.Next(&f)) == ReadOutcome::kRecord) {
    }
    c.tail_end = reader.expected_lsn().value();
    c.tail_clean = out == ReadOutcome::kEnd;
  }
  return *c.tail_end;
}

// The strongest marker among the candidates that follow the tail is
// evidence for the tail's frames (R8/R11). (Only those: one after released
// segments says nothing about the tail's writes.)
void NoteLaterMarker(Context& c, uint64_t id, const FrameScan& scan) {
  if (scan.markers > 0 && c.first_of[id] == kTailEnd &&
      scan.strongest_marker.durable_lsn >= c.later_marker.durable_lsn) {
    c.later_marker = scan.strongest_marker;
    c.later_where = "byte " + std::to_string(scan.strongest) + " of " + c.segments[id];
  }
}

// R4/R5 in version 3: the segment's first write was complete if a write
// marker of the segment states its first LSN durable — the header went out
// in that write. Then the header was damaged after it was synced (R5:
// false, the reason in c.bad_header). (After a tail that does not read
// cleanly, the tail is what is damaged, and its reading finds these markers
// as evidence.) Else its first write was cut (R4: true): everything of it,
// through the last frame header valid under its salt, goes.
bool JudgeByMarkers(Context& c, uint64_t id, const FrameScan& scan, Context::UnbornAction* action) {
  const bool judge_by_tail = c.first_of[id] == kTailEnd;
  const uint64_t first = judge_by_tail         ? TailEndLsn(c)
                         : c.first_of[id] != 0 ? c.first_of[id]
                                               : scan.min_lsn;
  if ((!judge_by_tail || c.tail_clean) && scan.strongest_marker.durable_lsn >= first) {
    c.bad_first[id] = first;
    c.bad_header[id] =
        "segment header invalid" +
        (c.header_note.count(id) ? " (" + c.header_note[id] + ")" : std::string()) +
        "; the segment had been synced: the write at byte " + std::to_string(scan.strongest) +
        " (write " + std::to_string(scan.strongest_marker.sequence) + ") states every LSN up to " +
        std::to_string(scan.strongest_marker.durable_lsn) +
        " durable, and the segment starts at LSN " + std::to_string(first);
    return false;
  }
  action->drop = scan.last_header + kFrameHeaderBytes;
  action->lost = scan.max_lsn >= first
                     ? ", LSNs " + std::to_string(first) + ".." + std::to_string(scan.max_lsn)
                     : ", no complete record";
  return true;
}

// R4/R5 in versions 1 and 2 (or with a salt that cannot be known): more
// than one write's worth of data is a recycled file's stale bytes, unless
// records of this use lie beyond the first write — those validate under its
// salt, stale ones never do. Without a tail the file cannot be a recycled
// one (the segment current at recycling is never released), so the data is
// records behind a damaged header (R5: false).
bool JudgeBySize(Context& c, uint64_t id, const FrameScan& scan, Context::UnbornAction* action) {
  if (action->drop <= c.options.torn_window_bytes + kSegmentHeaderBytes) return true;
  const uint64_t last = c.tail_id == 0 ? UINT64_MAX : scan.last_header;
  if (c.tail_id == 0 ||
      (last != UINT64_MAX && last - kSegmentHeaderBytes >= c.options.torn_window_bytes)) {
    c.bad_header[id] = "segment header invalid";
    return false;
  }
  // No frame of this use: a recycled file's stale bytes, kept as they are
  // behind its earlier use's header, but a header that does not decode (the
  // new one's write torn) is zeroed: what reads the log after recovery
  // (wal::TruncateAfter) takes any other header for damage.
  SegmentHeader h;
  const bool torn_header = DecodeSegmentHeader(c.data_of[id], &h) != HeaderStatus::kOk;
  action->drop = last != UINT64_MAX ? last + kFrameHeaderBytes
                 : torn_header      ? kSegmentHeaderBytes
                                    : 0;
  return true;
}

// R4 or R5 for one candidate: true if it is unborn (what to do with it is
// recorded), false if it is corruption (refused when it is read).
bool JudgeCandidate(Context& c, uint64_t id) {
  const std::string& data = c.data_of[id];
  // Bytes from 0 that may hold frames of this use: zeroed before reuse.
  Context::UnbornAction action{id, LastNonZero(data, 0), std::string()};
  const FrameScan scan = ScanFrames(data, kSegmentHeaderBytes, c.salt_of[id]);
  NoteLaterMarker(c, id, scan);
  const bool unborn =
      scan.markers > 0 ? JudgeByMarkers(c, id, scan, &action) : JudgeBySize(c, id, scan, &action);
  if (!unborn) return false;
  c.unborn.insert(id);
  c.unborn_actions.push_back(std::move(action));
  return true;
}

}  // namespace

// R4/R5, oldest first: a candidate after one that is refused is not judged
// (its first LSN would follow from records that are not read).
void JudgeCandidates(Context& c) {
  for (auto it = c.candidates.rbegin(); it != c.candidates.rend(); ++it)
    if (!JudgeCandidate(c, *it)) break;
}

namespace {

// R4, once the rest of the log was read without a refusal: an older unborn
// segment is removed.
absl::Status RemoveUnborn(Context& c, const Context::UnbornAction& u) {
  const std::string& name = c.segments[u.id];
  if (auto st = c.storage.Remove(name); !st.ok()) return st;
  c.result.notes.push_back("removed " + name + " (started but never synced" + u.lost + ")");
  spdlog::warn("{}", c.result.notes.back());
  return absl::OkStatus();
}

// R4: the newest unborn segment, its cut first write zeroed, becomes the
// spare.
absl::Status KeepAsSpare(Context& c, const Context::UnbornAction& u) {
  const std::string& name = c.segments[u.id];
  if (u.drop > 0) {
    if (auto st = ZeroRange(c.storage, name, 0, u.drop); !st.ok()) return st;
    c.result.notes.push_back("torn first write of " + name + ": " + std::to_string(u.drop) +
                             " bytes dropped (never synced" + u.lost + ")");
    spdlog::warn("{}", c.result.notes.back());
  }
  auto file = c.storage.Open(name);
  if (!file.ok()) return file.status();
  c.result.position.spare = std::move(*file);
  c.result.position.spare_id = u.id;
  return absl::OkStatus();
}

}  // namespace

// R4: what was decided about the unborn segments at the end, done now that
// the log is known to be sound.
absl::Status FinishUnbornSegments(Context& c) {
  for (const Context::UnbornAction& u : c.unborn_actions) {
    const absl::Status st = u.id != c.candidates.front() ? RemoveUnborn(c, u) : KeepAsSpare(c, u);
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace werk::wal::recovery
