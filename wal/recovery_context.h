#pragma once
// Internal to wal/: what the steps of Recover share, and the steps that
// judge the end of the log (wal/recovery_tail.cc) for the ones that read it
// (wal/recovery.cc).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>

#include "wal/log_format.h"
#include "wal/recovery.h"
#include "wal/storage.h"

namespace werk::wal::recovery {

// What the steps of recovery share. They run in the order of Recover
// (wal/recovery.cc); each names the rows of the decision table
// (docs/wal-format.md) it decides.
struct Context {
  Context(Storage& storage, const RecoveryOptions& options, const RecoverySinks& sinks)
      : storage(storage), options(options), sinks(sinks) {}

  Storage& storage;
  const RecoveryOptions& options;
  const RecoverySinks& sinks;
  RecoveryResult result;
  std::map<uint64_t, std::string> segments;     // id -> name
  std::map<uint64_t, std::string> checkpoints;  // lsn -> name

  // Reading the segments in order (R6–R12).
  uint64_t expected_lsn = 0;  // 0: the first segment with records decides
  // The highest epoch of the frames read so far (R10: it never goes down).
  // Not the checkpoint's: frames the checkpoint covers may carry an older
  // epoch than the one it was taken in (an epoch change with no record after
  // it, then a checkpoint).
  core::Epoch log_epoch{0};
  // The checkpoint's epoch: records after it carry it or a later one.
  core::Epoch checkpoint_epoch{0};
  bool cut = false;           // --repair cut the log: later segments are dropped

  // The end of the log (R4/R5). Segments at the end that were never synced
  // ("unborn"): an unused spare (zero, or a recycled file still carrying the
  // header of its earlier use), or a segment whose first write (header and
  // first batch together) was cut by a crash. Nothing in them was ever
  // acknowledged: the first write must complete before any record of a
  // segment is durable. The newest becomes the spare; older unborn ones are
  // removed. A torn tail is possible only in the last segment with a valid
  // header before them (the tail).
  std::map<uint64_t, std::string> data_of;  // read once: unborn candidates, the tail
  std::vector<uint64_t> candidates;         // newest first
  uint64_t tail_id = 0, tail_salt = 0;
  std::map<uint64_t, uint64_t> salt_of;
  std::map<uint64_t, uint64_t> first_of;        // 0: unknown; kTailEnd: where the tail ends
  std::map<uint64_t, std::string> header_note;  // what is wrong with a damaged header
  // Where the tail's records end (read once, when a candidate needs it), and
  // whether the tail reads cleanly to there.
  std::optional<uint64_t> tail_end;
  bool tail_clean = false;
  // What is decided about candidates is done only once the log is known to
  // be sound (FinishUnbornSegments): a refusal leaves every segment as it was.
  struct UnbornAction {
    uint64_t id;
    uint64_t drop;     // bytes from 0 to zero (the newest only)
    std::string lost;  // the LSNs dropped, when known
  };
  std::vector<UnbornAction> unborn_actions;
  std::set<uint64_t> unborn;
  std::map<uint64_t, std::string> bad_header;  // id -> why it is corruption (R5)
  std::map<uint64_t, uint64_t> bad_first;      // id -> the first LSN it was judged by
  // The strongest marker of the candidates: evidence for the tail's frames.
  WriteMarker later_marker;
  std::string later_where;
};

// first_of: a candidate that starts where the tail's records end.
constexpr uint64_t kTailEnd = UINT64_MAX;

// Where the non-zero bytes of `data` end, from `from` on (`from` if none).
inline size_t LastNonZero(std::string_view data, size_t from) {
  for (size_t i = data.size(); i > from; --i)
    if (data[i - 1] != 0) return i;
  return from;
}

// R4/R5: reads the segments from the newest back to the tail; those after it
// are the unborn candidates.
absl::Status FindTailAndCandidates(Context& c);
// R4/R5: each candidate's salt and first LSN.
void DeriveCandidateSalts(Context& c);
// R4/R5: which candidates are unborn (R4) and which one is corruption (R5).
void JudgeCandidates(Context& c);
// R4: removes the older unborn segments and keeps the newest as the spare.
absl::Status FinishUnbornSegments(Context& c);

}  // namespace werk::wal::recovery
