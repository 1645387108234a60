#include "wal/replication_protocol.h"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <optional>

#include "core/byte_codec.h"
#include "core/check.h"

namespace werk::wal {
namespace {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");

template <typename T>
void Put(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <typename T>
T Get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Offsets within a message, from its first byte (the length field).
constexpr size_t kTypeAt = 4;
constexpr size_t kVersionAt = 6;
constexpr size_t kEpochAt = 8;
constexpr size_t kPayloadAt = 16;
static_assert(kPayloadAt == kMessageLengthBytes + kMessageOverheadBytes - 8);

// Starts a message at the end of `out`: a placeholder length, then the
// envelope. Returns where it starts.
size_t BeginMessage(std::string& out, MessageType type, core::Epoch epoch) {
  const size_t start = out.size();
  out.resize(start + kPayloadAt);
  char* p = out.data() + start;
  Put<uint16_t>(p + kTypeAt, uint16_t(type));
  Put<uint16_t>(p + kVersionAt, kReplicationProtocolVersion);
  Put<uint64_t>(p + kEpochAt, epoch.value());
  return start;
}

// Appends the hash of type..payload and fills in the length.
void FinishMessage(std::string& out, size_t start) {
  const size_t hashed = out.size() - start - kMessageLengthBytes;
  const uint64_t hash = XXH3_64bits(out.data() + start + kMessageLengthBytes, hashed);
  const size_t length = hashed + 8;
  WERK_CHECK_MSG(length <= kMessageBytesMax, "replication message over kMessageBytesMax");
  char h[8];
  Put<uint64_t>(h, hash);
  out.append(h, 8);
  Put<uint32_t>(out.data() + start, uint32_t(length));
}

// --- Payload encoders (one per message) ---------------------------------------

void EncodePayload(core::ByteWriter& w, const Hello& m) {
  WERK_CHECK(m.cluster_id.size() <= kClusterIdBytesMax && m.nonce.size() == kNonceBytes);
  WERK_CHECK(m.shard_count >= 1 && m.shard_count <= kReplicationShardsMax &&
             m.shard < m.shard_count);
  w.Bytes(kReplicationMagic);
  w.Bytes(m.cluster_id);
  w.U64(m.shard);
  w.U64(m.shard_count);
  w.Bytes(m.nonce);
  w.U64(m.last_lsn.value());
  w.U64(m.last_epoch.value());
  w.U64(m.highest_epoch.value());
  if (m.epochs) {
    WERK_CHECK(m.epochs->size() <= kHelloEpochsMax);
    w.U8(m.epochs_truncated ? 1 : 0);
    w.U64(m.epochs->size());
    for (const core::EpochStart& e : *m.epochs) {
      w.U64(e.epoch.value());
      w.U64(e.id);
      w.U64(e.first_lsn.value());
    }
  } else {
    WERK_CHECK(!m.epochs_truncated);
  }
}

void EncodePayload(core::ByteWriter& w, const Challenge& m) {
  WERK_CHECK(m.nonce.size() == kNonceBytes && m.cluster_id.size() <= kClusterIdBytesMax);
  WERK_CHECK(m.shard_count >= 1 && m.shard_count <= kReplicationShardsMax);
  w.Bytes(m.nonce);
  w.Bytes(m.cluster_id);
  w.U64(m.shard_count);
}

void EncodePayload(core::ByteWriter& w, const Proof& m) {
  WERK_CHECK(m.proof.size() == kProofBytes);
  w.Bytes(m.proof);
}

// Only the fields of the decision are written, so the form stays unique.
void EncodePayload(core::ByteWriter& w, const Welcome& m) {
  WERK_CHECK(m.proof.size() == kProofBytes);
  w.Bytes(m.proof);
  w.U8(uint8_t(m.decision));
  switch (m.decision) {
    case WelcomeDecision::kContinue:
    case WelcomeDecision::kDiverged:
      w.U64(m.lsn.value());
      return;
    case WelcomeDecision::kBootstrap:
      w.U64(m.lsn.value());
      w.U64(m.checkpoint_bytes);
      return;
    case WelcomeDecision::kRefused:
      WERK_CHECK(m.text.size() <= kMessageTextBytesMax);
      w.Bytes(m.text);
      return;
  }
  WERK_UNREACHABLE();
}

void EncodePayload(core::ByteWriter& w, const CheckpointChunk& m) {
  WERK_CHECK(m.data.size() <= kCheckpointChunkBytesMax);
  w.U64(m.offset);
  w.U8(m.last ? 1 : 0);
  w.Bytes(m.data);
}

void EncodePayload(core::ByteWriter&, const Records&) {
  WERK_UNREACHABLE();  // AppendMessage uses RecordsEncoder
}

void EncodePayload(core::ByteWriter& w, const Ack& m) {
  w.U64(m.synced_lsn.value());
  w.U64(m.applied_lsn.value());
}

void EncodePayload(core::ByteWriter& w, const Heartbeat& m) {
  w.I64(m.monotonic_ns);
  w.U64(m.durable_lsn.value());
  w.U64(m.appended_lsn.value());
}

void EncodePayload(core::ByteWriter& w, const EpochNotice& m) {
  WERK_CHECK(m.address.size() <= kAddressBytesMax);
  w.U64(m.epoch.value());
  w.Bytes(m.address);
}

void EncodePayload(core::ByteWriter& w, const Error& m) {
  WERK_CHECK(m.text.size() <= kMessageTextBytesMax);
  w.U8(uint8_t(m.code));
  w.Bytes(m.text);
}

// --- Payload decoding -----------------------------------------------------------

// A ByteReader that remembers the first thing wrong with the payload; once
// something is wrong, every later read returns a zero value.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view payload) : r_(payload) {}

  std::optional<ProtocolError> error() const {
    if (error_) return error_;
    if (!r_.ok()) return ProtocolError::kTruncatedPayload;
    return std::nullopt;
  }
  // Call after the last field.
  std::optional<ProtocolError> Finish() {
    if (!error() && !r_.at_end()) error_ = ProtocolError::kTrailingBytes;
    return error();
  }

  uint64_t U64() { return r_.U64(); }
  int64_t I64() { return r_.I64(); }
  uint32_t U32In(uint32_t lo, uint32_t hi) {
    const uint64_t v = r_.U64();
    if (r_.ok() && (v < lo || v > hi)) Bad(ProtocolError::kBadField);
    return uint32_t(v);
  }
  std::string_view BytesMax(size_t max) {
    const std::string_view s = r_.Bytes();
    if (r_.ok() && s.size() > max) Bad(ProtocolError::kBadField);
    return s;
  }
  std::string_view BytesExactly(size_t n) {
    const std::string_view s = r_.Bytes();
    if (r_.ok() && s.size() != n) Bad(ProtocolError::kBadField);
    return s;
  }
  uint8_t EnumIn(uint8_t lo, uint8_t hi) {
    const uint8_t v = r_.U8();
    if (r_.ok() && (v < lo || v > hi)) Bad(ProtocolError::kBadEnum);
    return v;
  }
  std::string_view Rest() const { return r_.rest(); }
  bool AtEnd() const { return r_.at_end(); }
  // Something wrong that the reads above cannot see (a field's value
  // against another's); a truncation found earlier still wins.
  void Bad(ProtocolError e) {
    if (!error_ && r_.ok()) error_ = e;
  }

 private:
  core::ByteReader r_;
  std::optional<ProtocolError> error_;
};

void DecodePayload(PayloadReader& r, Hello* m) {
  if (r.BytesExactly(kReplicationMagic.size()) != kReplicationMagic)
    r.Bad(ProtocolError::kBadField);
  m->cluster_id = r.BytesMax(kClusterIdBytesMax);
  m->shard = r.U32In(0, kReplicationShardsMax - 1);
  m->shard_count = r.U32In(1, kReplicationShardsMax);
  m->nonce = r.BytesExactly(kNonceBytes);
  m->last_lsn = core::Lsn(r.U64());
  m->last_epoch = core::Epoch(r.U64());
  m->highest_epoch = core::Epoch(r.U64());
  // The shard must lie in the group: a standby cannot be shard 5 of 2.
  if (m->shard >= m->shard_count) r.Bad(ProtocolError::kBadField);
  if (r.AtEnd()) return;  // a standby from before epoch histories
  m->epochs_truncated = r.EnumIn(0, 1) == 1;
  const uint64_t n = r.U64();
  if (n > kHelloEpochsMax) r.Bad(ProtocolError::kBadField);
  // Each entry takes at least 3 bytes: a count beyond what is left is
  // refused before anything is reserved for it.
  if (n > r.Rest().size() / 3) r.Bad(ProtocolError::kTruncatedPayload);
  if (r.error()) return;
  m->epochs.emplace();
  m->epochs->reserve(n);
  for (uint64_t i = 0; i < n && !r.error(); ++i) {
    core::EpochStart e;
    e.epoch = core::Epoch(r.U64());
    e.id = r.U64();
    e.first_lsn = core::Lsn(r.U64());
    // The history as Begin accepts it: no epoch or LSN 0, LSNs rising,
    // epochs never falling.
    const core::EpochStart* last = m->epochs->empty() ? nullptr : &m->epochs->back();
    if (e.epoch.value() == 0 || e.first_lsn.value() == 0 ||
        (last && (e.epoch < last->epoch || e.first_lsn <= last->first_lsn)))
      r.Bad(ProtocolError::kBadField);
    m->epochs->push_back(e);
  }
}

void DecodePayload(PayloadReader& r, Challenge* m) {
  m->nonce = r.BytesExactly(kNonceBytes);
  m->cluster_id = r.BytesMax(kClusterIdBytesMax);
  m->shard_count = r.U32In(1, kReplicationShardsMax);
}

void DecodePayload(PayloadReader& r, Proof* m) { m->proof = r.BytesExactly(kProofBytes); }

void DecodePayload(PayloadReader& r, Welcome* m) {
  m->proof = r.BytesExactly(kProofBytes);
  m->decision = WelcomeDecision(r.EnumIn(1, 4));
  if (r.error()) return;
  switch (m->decision) {
    case WelcomeDecision::kContinue:
    case WelcomeDecision::kDiverged:
      m->lsn = core::Lsn(r.U64());
      return;
    case WelcomeDecision::kBootstrap:
      m->lsn = core::Lsn(r.U64());
      m->checkpoint_bytes = r.U64();
      return;
    case WelcomeDecision::kRefused:
      m->text = r.BytesMax(kMessageTextBytesMax);
      return;
  }
}

void DecodePayload(PayloadReader& r, CheckpointChunk* m) {
  m->offset = r.U64();
  m->last = r.EnumIn(0, 1) == 1;
  m->data = r.BytesMax(kCheckpointChunkBytesMax);
}

// Whole frames, each verified under the salt, and nothing else.
bool FramesValid(std::string_view frames, uint64_t salt) {
  while (!frames.empty()) {
    FrameHeader h;
    if (!DecodeFrameHeader(frames, &h, salt)) return false;  // also: fewer than 40 bytes
    if (h.type != uint16_t(RecordType::kMutation) || h.version != kFrameVersion) return false;
    if (h.body_bytes > kRecordBodyBytesMax || h.body_bytes > frames.size() - kFrameHeaderBytes)
      return false;
    const std::string_view body = frames.substr(kFrameHeaderBytes, h.body_bytes);
    if (BodyHash(body) != StoredBodyHash(frames)) return false;
    frames.remove_prefix(kFrameHeaderBytes + h.body_bytes);
  }
  return true;
}

void DecodePayload(PayloadReader& r, Records* m) {
  m->primary_durable_lsn = core::Lsn(r.U64());
  m->salt = r.U64();
  if (r.error()) return;
  m->frames = r.Rest();
}

void DecodePayload(PayloadReader& r, Ack* m) {
  m->synced_lsn = core::Lsn(r.U64());
  m->applied_lsn = core::Lsn(r.U64());
}

void DecodePayload(PayloadReader& r, Heartbeat* m) {
  m->monotonic_ns = r.I64();
  m->durable_lsn = core::Lsn(r.U64());
  m->appended_lsn = core::Lsn(r.U64());
}

void DecodePayload(PayloadReader& r, EpochNotice* m) {
  m->epoch = core::Epoch(r.U64());
  m->address = r.BytesMax(kAddressBytesMax);
}

void DecodePayload(PayloadReader& r, Error* m) {
  m->code = ErrorCode(r.EnumIn(1, 3));
  m->text = r.BytesMax(kMessageTextBytesMax);
}

template <typename T>
std::optional<ProtocolError> DecodeBody(std::string_view payload, MessageBody* body) {
  PayloadReader r(payload);
  T m;
  DecodePayload(r, &m);
  if constexpr (std::is_same_v<T, Records>) {
    // The frames are the rest of the payload: nothing can trail them.
    if (auto e = r.error()) return e;
    if (!FramesValid(m.frames, m.salt)) return ProtocolError::kBadFrame;
  } else {
    if (auto e = r.Finish()) return e;
  }
  *body = m;
  return std::nullopt;
}

std::optional<ProtocolError> DecodeBodyOf(MessageType type, std::string_view payload,
                                          MessageBody* body) {
  switch (type) {
    case MessageType::kHello:
      return DecodeBody<Hello>(payload, body);
    case MessageType::kChallenge:
      return DecodeBody<Challenge>(payload, body);
    case MessageType::kProof:
      return DecodeBody<Proof>(payload, body);
    case MessageType::kWelcome:
      return DecodeBody<Welcome>(payload, body);
    case MessageType::kCheckpointChunk:
      return DecodeBody<CheckpointChunk>(payload, body);
    case MessageType::kRecords:
      return DecodeBody<Records>(payload, body);
    case MessageType::kAck:
      return DecodeBody<Ack>(payload, body);
    case MessageType::kHeartbeat:
      return DecodeBody<Heartbeat>(payload, body);
    case MessageType::kEpochNotice:
      return DecodeBody<EpochNotice>(payload, body);
    case MessageType::kError:
      return DecodeBody<Error>(payload, body);
  }
  return ProtocolError::kUnknownType;
}

DecodeResult Fail(ProtocolError e) {
  DecodeResult r;
  r.outcome = DecodeResult::Outcome::kError;
  r.error = e;
  return r;
}

DecodeResult NeedMore(size_t bytes) {
  DecodeResult r;
  r.outcome = DecodeResult::Outcome::kNeedMore;
  r.bytes = bytes;
  return r;
}

}  // namespace

MessageType Message::type() const {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, body);
}

void AppendMessage(std::string& out, core::Epoch sender_epoch, const MessageBody& body) {
  if (const auto* records = std::get_if<Records>(&body)) {
    RecordsEncoder enc(out, sender_epoch, records->primary_durable_lsn, records->salt);
    for (std::string_view frame : RecordFrames(*records)) enc.AddFrame(frame);
    enc.Finish();
    return;
  }
  std::visit(
      [&](const auto& m) {
        const size_t start = BeginMessage(out, std::decay_t<decltype(m)>::kType, sender_epoch);
        core::ByteWriter w(out);
        EncodePayload(w, m);
        FinishMessage(out, start);
      },
      body);
}

RecordsEncoder::RecordsEncoder(std::string& out, core::Epoch sender_epoch,
                               core::Lsn primary_durable_lsn, uint64_t salt)
    : out_(out), start_(BeginMessage(out, MessageType::kRecords, sender_epoch)), salt_(salt) {
  core::ByteWriter w(out_);
  w.U64(primary_durable_lsn.value());
  w.U64(salt);
  frames_at_ = out_.size();
}

RecordsEncoder::~RecordsEncoder() {
  // Abandoned: take the partial message back out, so `out` stays a
  // sequence of whole messages.
  if (!finished_) out_.resize(start_);
}

void RecordsEncoder::AddFrame(std::string_view frame) {
  WERK_CHECK(!finished_);
  WERK_CHECK(frame.size() >= kFrameHeaderBytes);
  // A frame under another salt would fail the standby's check and end the
  // session: the caller must start a new message when the salt changes.
  FrameHeader h;
  WERK_DCHECK(DecodeFrameHeader(frame, &h, salt_) && h.type == uint16_t(RecordType::kMutation) &&
              h.body_bytes == frame.size() - kFrameHeaderBytes);
  out_.append(frame);
  ++frame_count_;
}

void RecordsEncoder::Finish() {
  WERK_CHECK(!finished_);
  FinishMessage(out_, start_);
  finished_ = true;
}

void RecordFrames::Iterator::Load() {
  if (rest_.size() < kFrameHeaderBytes) {
    frame_ = rest_.substr(0, 0);
    return;
  }
  const uint32_t body_bytes = Get<uint32_t>(rest_.data() + 32);
  frame_ = rest_.substr(0, kFrameHeaderBytes + body_bytes);
}

std::string_view ProtocolErrorName(ProtocolError e) {
  switch (e) {
    case ProtocolError::kBadLength:
      return "message length out of range";
    case ProtocolError::kBadHash:
      return "message hash mismatch";
    case ProtocolError::kUnknownVersion:
      return "unknown protocol version";
    case ProtocolError::kUnknownType:
      return "unknown message type";
    case ProtocolError::kTruncatedPayload:
      return "truncated or malformed payload field";
    case ProtocolError::kTrailingBytes:
      return "trailing bytes after the payload";
    case ProtocolError::kBadEnum:
      return "enum value out of range";
    case ProtocolError::kBadField:
      return "field of the wrong size or over its limit";
    case ProtocolError::kBadFrame:
      return "records that are not whole frames valid under the salt";
  }
  return "unknown protocol error";
}

DecodeResult DecodeMessage(std::string_view buffer) {
  if (buffer.size() < kMessageLengthBytes) return NeedMore(kMessageLengthBytes);
  const uint32_t length = Get<uint32_t>(buffer.data());
  // Judged before the rest arrives, so a bad length never makes us wait for
  // (or buffer) up to 4 GiB.
  if (length < kMessageOverheadBytes || length > kMessageBytesMax)
    return Fail(ProtocolError::kBadLength);
  const size_t total = kMessageLengthBytes + size_t(length);
  if (buffer.size() < total) return NeedMore(total);

  const char* p = buffer.data();
  const size_t hashed = length - 8;
  if (Get<uint64_t>(p + kMessageLengthBytes + hashed) !=
      XXH3_64bits(p + kMessageLengthBytes, hashed))
    return Fail(ProtocolError::kBadHash);
  if (Get<uint16_t>(p + kVersionAt) != kReplicationProtocolVersion)
    return Fail(ProtocolError::kUnknownVersion);

  DecodeResult r;
  r.message.sender_epoch = core::Epoch(Get<uint64_t>(p + kEpochAt));
  const std::string_view payload(p + kPayloadAt, total - kPayloadAt - 8);
  if (auto e = DecodeBodyOf(MessageType(Get<uint16_t>(p + kTypeAt)), payload, &r.message.body))
    return Fail(*e);
  r.outcome = DecodeResult::Outcome::kMessage;
  r.bytes = total;
  return r;
}

}  // namespace werk::wal
