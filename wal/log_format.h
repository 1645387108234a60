#pragma once
// The constants and fixed layouts shared by the log writer, the reader,
// recovery, checkpoints and the dump tool (docs/wal-format.md is the
// contract; the two change in the same commit).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/types.h"

namespace werk::wal {

inline constexpr std::string_view kSegmentMagic = "WERK-WAL";
inline constexpr std::string_view kCheckpointMagic = "WERKCKPT";
// Segments: version 2 adds the salt (bytes 48-55 of the header, zero in
// version 1); version 3 begins every write with a write marker frame
// (RecordType::kWrite). Checkpoints: version 2 adds queue positions (the
// counters item ends with the next one, a queued job's key is its position).
// Readers accept every version; the writer writes only the newest.
inline constexpr uint32_t kFormatVersion = 3;
inline constexpr uint32_t kFormatVersionMarkers = 3;  // the first with write markers
inline constexpr uint32_t kCheckpointFormatVersion = 2;
inline constexpr uint16_t kFrameVersion = 1;

inline constexpr size_t kSegmentHeaderBytes = 64;
inline constexpr size_t kCheckpointHeaderBytes = 64;
inline constexpr size_t kFrameHeaderBytes = 40;
inline constexpr uint32_t kRecordBodyBytesMax = (256u << 20) + (64u << 10);
inline constexpr size_t kBatchBytesMax = 4u << 20;
// At most this many batch writes are in flight at once, so a crash can cut
// at most this many writes.
inline constexpr int kWritesInFlightMax = 2;
// Version 1 and 2 segments have no write markers: there, a torn tail is
// recognised by its size, at most the writes in flight (the torn-tail
// window). Version 3 segments need it only for a first segment whose header
// is too damaged to give its salt (docs/wal-format.md, R4/R5).
inline constexpr size_t kTornWindowBytes = kWritesInFlightMax * kBatchBytesMax;
// Each shard keeps its current segment and a preallocated spare: with 8 MiB
// an idle 8-shard server holds 64–128 MiB of log, and a busy one switches
// segments a few times a second (a switch waits for the writes in flight,
// ~0.1 ms). A record longer than a segment still fits: a write never
// splits, the segment grows past its size.
inline constexpr uint64_t kSegmentBytesDefault = 8u << 20;
// A quiet log writes a marker alone this long after its last write, so that
// the last write is vouched for too (wal::Wal::WriteIdleMarkerIfDue).
inline constexpr int64_t kIdleMarkerNs = 100'000'000;

static_assert(kBatchBytesMax < kSegmentBytesDefault);

// Covered segments kept for reuse instead of being deleted: a recycled
// file's blocks are already written, so log writes into it need no extent
// conversion (docs/wal-format.md). A busy log keeps as many as a checkpoint
// interval writes (wal::Wal::Options::recycled_segments_max), so in steady
// state every write goes to reused blocks; once the log has been quiet for
// kRecycledTrimIdleNs it gives back all but kRecycledSegmentsMax.
inline constexpr size_t kRecycledSegmentsMax = 2;
inline constexpr int64_t kRecycledTrimIdleNs = 60'000'000'000;

// Frame types. Log records are 1; checkpoint items reuse the frame with
// their own types (core::SnapshotItemType values) and end with kEnd.
enum class RecordType : uint16_t {
  kMutation = 1,
  kWrite = 2,  // write marker: begins every write of a version 3 segment
  kEnd = 199,
};

// The body of a write marker frame. The frame's LSN is that of the write's
// first record (the next LSN if it has none); a marker takes no LSN.
struct WriteMarker {
  uint64_t sequence = 0;     // of this write in the log, from 1, +1 per write
  uint64_t durable_lsn = 0;  // every LSN <= it was durable when the write was issued
  uint64_t write_bytes = 0;  // this write's frames, from the marker's first byte
};
inline constexpr size_t kWriteMarkerBodyBytes = 24;
inline constexpr size_t kWriteMarkerFrameBytes = kFrameHeaderBytes + kWriteMarkerBodyBytes;

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint32_t shard = 0;
  uint64_t segment_id = 0;
  uint64_t first_lsn = 0;
  uint64_t epoch = 0;
  int64_t created_at = 0;
  // Seeds the hash of every frame header in the segment, so frames left
  // over from a recycled file's earlier use never validate. 0 in version 1.
  uint64_t salt = 0;
};

struct CheckpointHeader {
  uint32_t version = kCheckpointFormatVersion;
  uint32_t shard = 0;
  uint64_t lsn = 0;
  uint64_t epoch = 0;
  int64_t created_at = 0;
  uint64_t item_count = 0;
};

struct FrameHeader {
  uint64_t lsn = 0;
  uint64_t epoch = 0;
  uint32_t body_bytes = 0;
  uint16_t type = 0;
  uint16_t version = kFrameVersion;
};

enum class HeaderStatus : uint8_t { kOk, kZero, kBadMagic, kBadVersion, kBadHash };

void EncodeSegmentHeader(const SegmentHeader& h, char out[kSegmentHeaderBytes]);
HeaderStatus DecodeSegmentHeader(std::string_view in, SegmentHeader* h);
// A segment header with a bad hash whose bytes differ from a valid header
// in exactly one byte: that header, and the offset of the byte. Recovery
// uses it only to learn the salt of a damaged first segment of a log, to look
// for evidence of what was synced in it (docs/wal-format.md, R5); nothing is
// replayed on its word.
bool RepairSegmentHeader(std::string_view in, SegmentHeader* h, size_t* byte);
void EncodeCheckpointHeader(const CheckpointHeader& h, char out[kCheckpointHeaderBytes]);
HeaderStatus DecodeCheckpointHeader(std::string_view in, CheckpointHeader* h);

// Appends one frame (header with both hashes, then the body) to `out`; the
// header hash is seeded with `salt` (the segment's; 0 in checkpoints).
void AppendFrame(std::string& out, core::Lsn lsn, core::Epoch epoch, uint16_t type,
                 std::string_view body, uint64_t salt = 0);
// Writes a write marker frame over out[0, kWriteMarkerFrameBytes).
void EncodeWriteMarker(const WriteMarker& m, core::Lsn lsn, core::Epoch epoch, uint64_t salt,
                       char* out);
// Parses a write marker's body (exactly kWriteMarkerBodyBytes).
bool DecodeWriteMarker(std::string_view body, WriteMarker* m);
// Parses and verifies a frame header (its own hash only, seeded with `salt`).
bool DecodeFrameHeader(std::string_view in, FrameHeader* h, uint64_t salt = 0);
// The salt of the segment that follows one salted `prev` as segment `id`:
// derived, so recovery can check a successor whose header a crash cut.
uint64_t NextSalt(uint64_t prev, uint64_t id);
// A random salt for the first segment of a new log (never 0).
uint64_t FreshSalt();
uint64_t BodyHash(std::string_view body);
uint64_t StoredBodyHash(std::string_view frame_header);

std::string SegmentName(uint64_t segment_id);
std::string CheckpointName(uint64_t lsn);
// "<20 digits>.free": a covered segment kept for reuse (its old id).
std::string RecycledName(uint64_t segment_id);
bool ParseRecycledName(std::string_view name, uint64_t* id);
// Parses "<20 digits>.wal"; false for anything else.
bool ParseSegmentName(std::string_view name, uint64_t* id);
bool ParseCheckpointName(std::string_view name, uint64_t* lsn);

}  // namespace werk::wal
