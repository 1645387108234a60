#pragma once
// The replication stream's messages and their framing (docs/replication.md,
// "Protocol"): what a primary and a standby say to each other over one
// shard's link. Pure encoding and decoding, no I/O: the link (net/) reads
// bytes into a buffer, asks DecodeMessage what the buffer starts with, and
// writes what the encoders append.
//
// Framing, little-endian like the log:
//
//   u32 length        of everything after it, the hash included
//   u16 type          MessageType
//   u16 version       kReplicationProtocolVersion
//   u64 sender epoch  the sender's epoch when it sent the message
//   ... payload       the message's fields (below)
//   u64 XXH3-64       of type .. payload (seed 0)
//
// Payload fields are written with core/byte_codec.h: integers as minimal
// LEB128 varints, byte strings length-prefixed. Each message therefore has
// exactly one byte form, which the fuzzer checks (decode, encode, compare).
//
// The decoder is total (design I7): any bytes yield need-more, one message,
// or a named error, never a crash or a read past the buffer. An error is
// final for the link: the receiver sends ERROR and closes, because after a
// framing error it cannot know where the next message starts.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/epoch_history.h"
#include "core/types.h"
#include "wal/log_format.h"

namespace werk::wal {

inline constexpr uint16_t kReplicationProtocolVersion = 1;
inline constexpr std::string_view kReplicationMagic = "WERKREPL";

// type + version + epoch + hash: the smallest a length can be.
inline constexpr size_t kMessageOverheadBytes = 2 + 2 + 8 + 8;
inline constexpr size_t kMessageLengthBytes = 4;
// The largest length: one record of the largest body, with its frame header,
// fits in one RECORDS message with room to spare (plan §1.2).
inline constexpr uint32_t kMessageBytesMax = (256u << 20) + (2u << 20);
static_assert(kRecordBodyBytesMax + kFrameHeaderBytes + kMessageOverheadBytes + 32 <
              kMessageBytesMax);

inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;  // HMAC-SHA256
inline constexpr size_t kCheckpointChunkBytesMax = 1u << 20;
// Cluster ids are 32 hex digits today (net/manifest.h); the bound leaves
// room without letting a peer make us hold much.
inline constexpr size_t kClusterIdBytesMax = 64;
inline constexpr size_t kAddressBytesMax = 256;       // EPOCH_NOTICE's host:port
inline constexpr size_t kMessageTextBytesMax = 4096;  // REFUSED and ERROR text
inline constexpr uint32_t kReplicationShardsMax = 1024;
// HELLO's epoch history: one entry per promotion or primary start, so
// years of them fit; at most ~1.5 MiB.
inline constexpr size_t kHelloEpochsMax = 1u << 16;

enum class MessageType : uint16_t {
  kHello = 1,
  kChallenge = 2,
  kProof = 3,
  kWelcome = 4,
  kCheckpointChunk = 5,
  kRecords = 6,
  kAck = 7,
  kHeartbeat = 8,
  kEpochNotice = 9,
  kError = 10,
};

// Every string_view below points into the buffer the message was decoded
// from (or, when encoding, into the caller's memory): valid as long as that.

// S→P, first message: who the standby is and where its log ends.
struct Hello {
  static constexpr MessageType kType = MessageType::kHello;
  std::string_view cluster_id;  // empty: a fresh standby without a MANIFEST
  uint32_t shard = 0;           // < shard_count
  uint32_t shard_count = 0;     // 1..kReplicationShardsMax
  std::string_view nonce;       // kNonceBytes
  core::Lsn last_lsn;           // the standby's last record (0: none)
  core::Epoch last_epoch;       // that record's epoch
  core::Epoch highest_epoch;    // the highest epoch the standby has seen
  // The standby's epoch history (core/epoch_history.h), oldest first, the
  // nodes left out; only the newest kHelloEpochsMax entries, with
  // `epochs_truncated`, if it has more. The primary finds where the two
  // logs part from it. Absent (nullopt) from a standby of a version before
  // it: the primary then judges by `last_epoch` alone.
  std::optional<std::vector<core::EpochStart>> epochs;
  bool epochs_truncated = false;
  bool operator==(const Hello&) const = default;
};

// P→S: the primary's nonce and identity. The primary's epoch is the
// envelope's sender epoch.
struct Challenge {
  static constexpr MessageType kType = MessageType::kChallenge;
  std::string_view nonce;  // kNonceBytes
  std::string_view cluster_id;
  uint32_t shard_count = 0;  // 1..kReplicationShardsMax
  bool operator==(const Challenge&) const = default;
};

// S→P: the standby's proof (net/replication_auth.h).
struct Proof {
  static constexpr MessageType kType = MessageType::kProof;
  std::string_view proof;  // kProofBytes
  bool operator==(const Proof&) const = default;
};

enum class WelcomeDecision : uint8_t {
  kContinue = 1,   // records follow from `lsn`
  kBootstrap = 2,  // a checkpoint at `lsn` of `checkpoint_bytes` follows, then records
  kDiverged = 3,   // the standby's log forked at `lsn` (the first LSN not shared)
  kRefused = 4,    // `text` says why; the primary closes
};

// P→S: the primary's proof and what happens next. A primary that could not
// verify the standby's proof sends ERROR instead: WELCOME always carries a
// proof, so a standby can trust even a refusal.
struct Welcome {
  static constexpr MessageType kType = MessageType::kWelcome;
  std::string_view proof;  // kProofBytes
  WelcomeDecision decision = WelcomeDecision::kContinue;
  core::Lsn lsn;                  // kContinue, kBootstrap, kDiverged
  uint64_t checkpoint_bytes = 0;  // kBootstrap only
  std::string_view text;          // kRefused only, <= kMessageTextBytesMax
  bool operator==(const Welcome&) const = default;
};

// P→S: a piece of the checkpoint file, in order from offset 0.
struct CheckpointChunk {
  static constexpr MessageType kType = MessageType::kCheckpointChunk;
  uint64_t offset = 0;
  std::string_view data;  // <= kCheckpointChunkBytesMax
  bool last = false;
  bool operator==(const CheckpointChunk&) const = default;
};

// P→S: whole log frames, byte for byte as the primary's log holds them
// (wal/log_follower.h FollowedRecord::frame), all hashed under `salt`.
// The decoder has checked that `frames` is a sequence of whole record
// frames (type kMutation) whose header and body hashes verify under `salt`;
// LSN contiguity and epoch order against the receiver's log are the
// receiver's to check.
struct Records {
  static constexpr MessageType kType = MessageType::kRecords;
  core::Lsn primary_durable_lsn;  // durable on the primary when sent
  uint64_t salt = 0;              // of the segment these frames were written for
  std::string_view frames;        // the rest of the payload; may be empty
  bool operator==(const Records&) const = default;
};

// S→P: how far the standby is.
struct Ack {
  static constexpr MessageType kType = MessageType::kAck;
  core::Lsn synced_lsn;   // durable in the standby's log
  core::Lsn applied_lsn;  // applied to the standby's state
  bool operator==(const Ack&) const = default;
};

// Both ways, when idle.
struct Heartbeat {
  static constexpr MessageType kType = MessageType::kHeartbeat;
  int64_t monotonic_ns = 0;  // the sender's clock (for round trips, not comparison)
  core::Lsn durable_lsn;
  core::Lsn appended_lsn;
  bool operator==(const Heartbeat&) const = default;
};

// Both ways: the sender knows of `epoch`, held by the node at `address`.
struct EpochNotice {
  static constexpr MessageType kType = MessageType::kEpochNotice;
  core::Epoch epoch;
  std::string_view address;  // <= kAddressBytesMax
  bool operator==(const EpochNotice&) const = default;
};

enum class ErrorCode : uint8_t {
  kProtocol = 1,        // the peer sent something undecodable or out of order
  kAuthentication = 2,  // a proof did not verify: do not retry blindly
  kUnavailable = 3,     // the sender cannot serve now (stopping, log failed): retry later
};

// Both ways: why the sender is about to close.
struct Error {
  static constexpr MessageType kType = MessageType::kError;
  ErrorCode code = ErrorCode::kProtocol;
  std::string_view text;  // <= kMessageTextBytesMax
  bool operator==(const Error&) const = default;
};

using MessageBody = std::variant<Hello, Challenge, Proof, Welcome, CheckpointChunk, Records, Ack,
                                 Heartbeat, EpochNotice, Error>;

struct Message {
  core::Epoch sender_epoch;
  MessageBody body;
  MessageType type() const;
  bool operator==(const Message&) const = default;
};

// --- Encoding -----------------------------------------------------------------
// Each appends one whole message to `out`. The fields must respect the limits
// above (checked: a violation is a bug in the caller, not bad input).
void AppendMessage(std::string& out, core::Epoch sender_epoch, const MessageBody& body);

// Builds a RECORDS message in place, so frames go from the log's cursor into
// the send buffer with one copy:
//
//   RecordsEncoder enc(out, epoch, durable, salt);
//   cursor.Read(budget, [&](const FollowedRecord& r) {
//     if (r.salt != salt) return false;  // one salt per message
//     enc.AddFrame(r.frame);
//     return true;
//   });
//   enc.Finish();
//
// Until Finish, `out` holds a partial message; nothing else may append to it.
// The frames of one message share one salt, so a batch that crosses into a
// new segment is sent as two messages.
class RecordsEncoder {
 public:
  RecordsEncoder(std::string& out, core::Epoch sender_epoch, core::Lsn primary_durable_lsn,
                 uint64_t salt);
  RecordsEncoder(const RecordsEncoder&) = delete;
  RecordsEncoder& operator=(const RecordsEncoder&) = delete;
  ~RecordsEncoder();

  // `frame` must be one whole record frame hashed under the salt.
  void AddFrame(std::string_view frame);
  size_t frame_count() const { return frame_count_; }
  size_t frames_bytes() const { return out_.size() - frames_at_; }
  // Writes the length and the hash. Call exactly once; an encoder destroyed
  // without it takes its partial message back out of `out`.
  void Finish();

 private:
  std::string& out_;
  size_t start_;          // where the message's length field is
  size_t frames_at_ = 0;  // where the first frame goes
  uint64_t salt_;
  size_t frame_count_ = 0;
  bool finished_ = false;
};

// --- Decoding -----------------------------------------------------------------

enum class ProtocolError : uint8_t {
  kBadLength = 1,         // length below the overhead, or above kMessageBytesMax
  kBadHash = 2,           // the message hash does not match
  kUnknownVersion = 3,    // a version other than kReplicationProtocolVersion
  kUnknownType = 4,       // a type not in MessageType
  kTruncatedPayload = 5,  // a field runs past the payload's end (or is a non-minimal varint)
  kTrailingBytes = 6,     // bytes after the last field of the payload
  kBadEnum = 7,           // a decision, flag or error code out of range
  kBadField = 8,          // a field of the wrong size or beyond its limit, or a bad magic
  kBadFrame = 9,          // RECORDS frames that do not split or verify under the salt
};
std::string_view ProtocolErrorName(ProtocolError e);

struct DecodeResult {
  enum class Outcome : uint8_t { kNeedMore, kMessage, kError };
  Outcome outcome = Outcome::kNeedMore;
  // kNeedMore: the buffer must hold at least this many bytes before the next
  // call can say more (4, then the whole message once its length is known).
  // kMessage: the bytes the message took; drop them from the buffer.
  size_t bytes = 0;
  ProtocolError error = ProtocolError::kBadLength;  // kError only
  Message message;                                  // kMessage only
};

// What `buffer` starts with. Views in the message point into `buffer`.
DecodeResult DecodeMessage(std::string_view buffer);

// The frames of a decoded RECORDS message, in order. Only for frames the
// decoder has accepted (it relies on their lengths).
class RecordFrames {
 public:
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;
    Iterator() = default;
    explicit Iterator(std::string_view rest) : rest_(rest) { Load(); }
    std::string_view operator*() const { return frame_; }
    Iterator& operator++() {
      rest_.remove_prefix(frame_.size());
      Load();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const Iterator& o) const { return rest_.data() == o.rest_.data(); }

   private:
    void Load();
    std::string_view rest_;
    std::string_view frame_;
  };
  explicit RecordFrames(const Records& r) : frames_(r.frames) {}
  Iterator begin() const { return Iterator(frames_); }
  Iterator end() const { return Iterator(frames_.substr(frames_.size())); }

 private:
  std::string_view frames_;
};

}  // namespace werk::wal
