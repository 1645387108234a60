// The replication stream's framing and messages (wal/replication_protocol.h):
// every message survives a round trip in its one byte form, a stream split
// anywhere decodes to the same messages, each kind of bad input is named,
// and RECORDS carries the log's own frames untouched.

#include "wal/replication_protocol.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/byte_codec.h"
#include "core/mutation.h"
#include "tests/support/mem_storage.h"
#include "tests/wal/log_fixture.h"
#include "wal/log_follower.h"

namespace werk::wal {
namespace {

using Outcome = DecodeResult::Outcome;
using namespace std::string_literals;

const std::string kNonceA(kNonceBytes, 'a');
const std::string kNonceB(kNonceBytes, 'b');
const std::string kProofA(kProofBytes, 'P');

std::string Encode(const MessageBody& body, uint64_t epoch = 7) {
  std::string out;
  AppendMessage(out, core::Epoch(epoch), body);
  return out;
}

// A message with any envelope and payload, hashed correctly (or not).
std::string Raw(uint16_t type, std::string_view payload, uint16_t version = 1,
                bool good_hash = true) {
  std::string m(16, '\0');
  std::memcpy(m.data() + 4, &type, 2);
  std::memcpy(m.data() + 6, &version, 2);
  const uint64_t epoch = 3;
  std::memcpy(m.data() + 8, &epoch, 8);
  m.append(payload);
  uint64_t hash = XXH3_64bits(m.data() + 4, m.size() - 4);
  if (!good_hash) hash ^= 1;
  m.append(reinterpret_cast<const char*>(&hash), 8);
  const uint32_t length = uint32_t(m.size() - 4);
  std::memcpy(m.data(), &length, 4);
  return m;
}

std::string Varints(std::initializer_list<uint64_t> values) {
  std::string out;
  core::ByteWriter w(out);
  for (uint64_t v : values) w.U64(v);
  return out;
}

// Real record frames as the log's follower hands them out, grouped by salt.
struct FollowedFrames {
  uint64_t salt = 0;
  std::vector<std::string> frames;
  std::vector<uint64_t> lsns;
};

std::vector<FollowedFrames> FramesFromALog(int records, uint64_t segment_bytes) {
  testing::MemStorage storage;
  testing::LogFixture log(&storage, {.segment_bytes = segment_bytes, .batch_bytes_max = 512});
  EXPECT_TRUE(log.Open().ok());
  auto cursor = log.wal().Follow(core::Lsn(1), {});
  EXPECT_TRUE(cursor.ok());
  for (int i = 0; i < records; ++i) {
    EXPECT_NE(log.Push("job-" + std::to_string(100000 + i)), 0u);
    if (i % 3 == 0) log.Flush();
  }
  log.Flush();
  std::vector<FollowedFrames> out;
  auto n = (*cursor)->Read(SIZE_MAX, [&](const FollowedRecord& r) {
    if (out.empty() || out.back().salt != r.salt) out.push_back({.salt = r.salt});
    out.back().frames.emplace_back(r.frame);
    out.back().lsns.push_back(r.lsn.value());
    return true;
  });
  EXPECT_TRUE(n.ok());
  EXPECT_EQ(*n, size_t(records));
  return out;
}

std::vector<MessageBody> OneOfEach(const std::string& frames, uint64_t salt) {
  return {
      Hello{.cluster_id = "3f9c2a0e5b7d41c8a6e2f01d9b3c7e55",
            .shard = 2,
            .shard_count = 4,
            .nonce = kNonceA,
            .last_lsn = core::Lsn(123456),
            .last_epoch = core::Epoch(2),
            .highest_epoch = core::Epoch(3)},
      Hello{.cluster_id = "", .shard = 0, .shard_count = 1, .nonce = kNonceB},
      Hello{.cluster_id = "c",
            .shard = 0,
            .shard_count = 2,
            .nonce = kNonceA,
            .last_lsn = core::Lsn(300),
            .last_epoch = core::Epoch(2),
            .highest_epoch = core::Epoch(2),
            .epochs = std::vector<core::EpochStart>{{core::Epoch(1), core::Lsn(1), "", 0},
                                                    {core::Epoch(1), core::Lsn(90), "", 7},
                                                    {core::Epoch(2), core::Lsn(200), "", ~0ull}}},
      Hello{.cluster_id = "c",
            .shard = 0,
            .shard_count = 1,
            .nonce = kNonceB,
            .epochs = std::vector<core::EpochStart>{},
            .epochs_truncated = true},
      Challenge{.nonce = kNonceB, .cluster_id = "c1", .shard_count = 4},
      Proof{.proof = kProofA},
      Welcome{.proof = kProofA, .decision = WelcomeDecision::kContinue, .lsn = core::Lsn(9)},
      Welcome{.proof = kProofA,
              .decision = WelcomeDecision::kBootstrap,
              .lsn = core::Lsn(1000),
              .checkpoint_bytes = 228u << 20},
      Welcome{.proof = kProofA, .decision = WelcomeDecision::kDiverged, .lsn = core::Lsn(77)},
      Welcome{.proof = kProofA, .decision = WelcomeDecision::kRefused, .text = "shards 4 != 2"},
      CheckpointChunk{.offset = 1u << 20, .data = "checkpoint bytes", .last = false},
      CheckpointChunk{.offset = 0, .data = "", .last = true},
      Records{.primary_durable_lsn = core::Lsn(5), .salt = salt, .frames = frames},
      Records{.primary_durable_lsn = core::Lsn(6), .salt = 0, .frames = ""},
      Ack{.synced_lsn = core::Lsn(10), .applied_lsn = core::Lsn(11)},
      Heartbeat{.monotonic_ns = -5, .durable_lsn = core::Lsn(1), .appended_lsn = core::Lsn(2)},
      Heartbeat{.monotonic_ns = INT64_MAX, .durable_lsn = core::Lsn(UINT64_MAX)},
      EpochNotice{.epoch = core::Epoch(4), .address = "10.0.0.2:7420"},
      Error{.code = ErrorCode::kAuthentication, .text = "bad proof"},
      Error{.code = ErrorCode::kUnavailable, .text = ""},
  };
}

std::string SomeFrames(uint64_t salt, int n) {
  std::string frames;
  for (int i = 1; i <= n; ++i) {
    AppendFrame(frames, core::Lsn(i), core::Epoch(1), uint16_t(RecordType::kMutation),
                std::string(size_t(i * 10), char('a' + i)), salt);
  }
  return frames;
}

TEST(ReplicationProtocol, EveryMessageRoundTripsInItsOneForm) {
  const std::string frames = SomeFrames(0x5eed, 3);
  for (const MessageBody& body : OneOfEach(frames, 0x5eed)) {
    const std::string bytes = Encode(body, 42);
    const DecodeResult r = DecodeMessage(bytes);
    ASSERT_EQ(r.outcome, Outcome::kMessage) << ProtocolErrorName(r.error);
    EXPECT_EQ(r.bytes, bytes.size());
    EXPECT_EQ(r.message.sender_epoch, core::Epoch(42));
    EXPECT_EQ(r.message.body, body);
    EXPECT_EQ(Encode(r.message.body, 42), bytes);
    // Views point into the buffer: nothing was copied.
    if (const auto* rec = std::get_if<Records>(&r.message.body); rec && !rec->frames.empty()) {
      EXPECT_GE(rec->frames.data(), bytes.data());
      EXPECT_LE(rec->frames.data() + rec->frames.size(), bytes.data() + bytes.size());
    }
  }
}

TEST(ReplicationProtocol, MessageTypeFollowsTheBody) {
  Message m{core::Epoch(1), Ack{}};
  EXPECT_EQ(m.type(), MessageType::kAck);
  m.body = EpochNotice{};
  EXPECT_EQ(m.type(), MessageType::kEpochNotice);
}

TEST(ReplicationProtocol, EveryPrefixNeedsMoreAndSaysHowMuch) {
  const std::string frames = SomeFrames(9, 2);
  for (const MessageBody& body : OneOfEach(frames, 9)) {
    const std::string bytes = Encode(body);
    for (size_t k = 0; k < bytes.size(); ++k) {
      const DecodeResult r = DecodeMessage(std::string_view(bytes).substr(0, k));
      ASSERT_EQ(r.outcome, Outcome::kNeedMore) << k;
      EXPECT_GT(r.bytes, k);
      EXPECT_EQ(r.bytes, k < 4 ? 4 : bytes.size());
    }
  }
}

// A stream of every message, delivered in pieces of every size from 1 byte:
// the receiver's loop (append what arrived, decode while it can, drop what
// was decoded) gets the same messages in order.
TEST(ReplicationProtocol, AStreamSplitAnywhereDecodesTheSame) {
  const std::string frames = SomeFrames(9, 4);
  const auto bodies = OneOfEach(frames, 9);
  std::string stream;
  for (const auto& b : bodies) AppendMessage(stream, core::Epoch(1), b);
  for (size_t piece = 1; piece <= 97; piece += (piece < 24 ? 1 : 12)) {
    std::string buffer;
    std::vector<std::string> got;  // re-encoded, since views die with the buffer
    for (size_t at = 0; at < stream.size(); at += piece) {
      buffer.append(stream.substr(at, piece));
      for (;;) {
        const DecodeResult r = DecodeMessage(buffer);
        ASSERT_NE(r.outcome, Outcome::kError) << ProtocolErrorName(r.error);
        if (r.outcome == Outcome::kNeedMore) {
          EXPECT_GT(r.bytes, buffer.size());
          break;
        }
        got.push_back(Encode(r.message.body, r.message.sender_epoch.value()));
        buffer.erase(0, r.bytes);
      }
    }
    EXPECT_TRUE(buffer.empty());
    ASSERT_EQ(got.size(), bodies.size()) << piece;
    for (size_t i = 0; i < bodies.size(); ++i) EXPECT_EQ(got[i], Encode(bodies[i], 1));
  }
}

TEST(ReplicationProtocol, ALengthOutOfRangeIsRefusedBeforeTheRestArrives) {
  for (uint32_t length : {0u, 1u, 19u, kMessageBytesMax + 1, UINT32_MAX}) {
    std::string b(4, '\0');
    std::memcpy(b.data(), &length, 4);
    const DecodeResult r = DecodeMessage(b);
    EXPECT_EQ(r.outcome, Outcome::kError) << length;
    EXPECT_EQ(r.error, ProtocolError::kBadLength);
  }
  // The largest length is allowed: it needs more.
  std::string b(4, '\0');
  std::memcpy(b.data(), &kMessageBytesMax, 4);
  EXPECT_EQ(DecodeMessage(b).outcome, Outcome::kNeedMore);
  EXPECT_EQ(DecodeMessage(b).bytes, size_t(kMessageBytesMax) + 4);
}

TEST(ReplicationProtocol, AnyFlippedByteIsCaught) {
  const std::string frames = SomeFrames(3, 2);
  for (const MessageBody& body : OneOfEach(frames, 3)) {
    const std::string good = Encode(body);
    for (size_t i = 0; i < good.size(); ++i) {
      std::string bad = good;
      bad[i] ^= 0x20;
      const DecodeResult r = DecodeMessage(bad);
      ASSERT_NE(r.outcome, Outcome::kMessage) << i;
      // Past the length field, only the hash can tell.
      if (i >= 4) {
        EXPECT_EQ(r.outcome, Outcome::kError);
        EXPECT_EQ(r.error, ProtocolError::kBadHash) << i;
      }
    }
  }
}

TEST(ReplicationProtocol, NamesEachKindOfBadPayload) {
  struct Case {
    const char* what;
    std::string bytes;
    ProtocolError want;
  };
  std::string hello_fields;
  {
    core::ByteWriter w(hello_fields);
    w.Bytes("c");
    w.U64(0);
    w.U64(1);
    w.Bytes(kNonceA);
    w.U64(1);
    w.U64(1);
    w.U64(1);
  }
  auto with = [](std::initializer_list<std::string_view> parts) {
    std::string s;
    for (auto p : parts) s.append(p);
    return s;
  };
  auto bytes = [](std::string_view s) {
    std::string out;
    core::ByteWriter(out).Bytes(s);
    return out;
  };
  const std::string ack = Varints({1, 2});
  const std::vector<Case> cases = {
      {"bad hash", Raw(7, ack, 1, false), ProtocolError::kBadHash},
      {"version 0", Raw(7, ack, 0), ProtocolError::kUnknownVersion},
      {"version 2", Raw(7, ack, 2), ProtocolError::kUnknownVersion},
      {"type 0", Raw(0, ack), ProtocolError::kUnknownType},
      {"type 11", Raw(11, ack), ProtocolError::kUnknownType},
      {"type 65535", Raw(65535, ack), ProtocolError::kUnknownType},
      {"ack cut short", Raw(7, Varints({1})), ProtocolError::kTruncatedPayload},
      {"ack empty", Raw(7, ""), ProtocolError::kTruncatedPayload},
      {"varint cut", Raw(7, "\x01\x80"), ProtocolError::kTruncatedPayload},
      {"varint not minimal", Raw(7, "\x81\x00\x01"s), ProtocolError::kTruncatedPayload},
      {"ack trailing byte", Raw(7, ack + "x"), ProtocolError::kTrailingBytes},
      {"hello trailing byte", Raw(1, with({bytes("WERKREPL"), hello_fields, "\0\0x"s})),
       ProtocolError::kTrailingBytes},
      {"hello history cut", Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s})),
       ProtocolError::kTruncatedPayload},
      {"hello history flag 2", Raw(1, with({bytes("WERKREPL"), hello_fields, "\2\0"s})),
       ProtocolError::kBadEnum},
      {"hello history too long",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({kHelloEpochsMax + 1})})),
       ProtocolError::kBadField},
      {"hello history count past the end",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({2, 1, 1, 1})})),
       ProtocolError::kTruncatedPayload},
      {"hello history epoch 0",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({1, 0, 1, 1})})),
       ProtocolError::kBadField},
      {"hello history lsn 0",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({1, 1, 1, 0})})),
       ProtocolError::kBadField},
      {"hello history lsns not rising",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({2, 1, 1, 5, 1, 2, 5})})),
       ProtocolError::kBadField},
      {"hello history epoch falling",
       Raw(1, with({bytes("WERKREPL"), hello_fields, "\0"s, Varints({2, 2, 1, 5, 1, 2, 6})})),
       ProtocolError::kBadField},
      {"nonce cut", Raw(2, bytes(kNonceA)), ProtocolError::kTruncatedPayload},
      {"string past the end",
       Raw(10,
           "\x01\x05"
           "ab"),
       ProtocolError::kTruncatedPayload},
      {"welcome decision 0", Raw(4, with({bytes(kProofA), "\x00\x01"s})), ProtocolError::kBadEnum},
      {"welcome decision 5", Raw(4, with({bytes(kProofA), "\x05\x01"s})), ProtocolError::kBadEnum},
      {"chunk last 2", Raw(5, with({"\x00\x02"s, bytes("x")})), ProtocolError::kBadEnum},
      {"error code 0", Raw(10, with({"\x00"s, bytes("x")})), ProtocolError::kBadEnum},
      {"error code 4", Raw(10, with({"\x04", bytes("x")})), ProtocolError::kBadEnum},
      {"proof 31 bytes", Raw(3, bytes(std::string(31, 'p'))), ProtocolError::kBadField},
      {"proof 33 bytes", Raw(3, bytes(std::string(33, 'p'))), ProtocolError::kBadField},
      {"hello magic", Raw(1, with({bytes("WERKREPX"), hello_fields})), ProtocolError::kBadField},
      {"hello short magic", Raw(1, with({bytes("WERK"), hello_fields})), ProtocolError::kBadField},
      {"hello shard >= count",
       Raw(1, with({bytes("WERKREPL"), bytes("c"), Varints({1, 1}), bytes(kNonceA),
                    Varints({0, 0, 0})})),
       ProtocolError::kBadField},
      {"hello shard count 0",
       Raw(1, with({bytes("WERKREPL"), bytes("c"), Varints({0, 0}), bytes(kNonceA),
                    Varints({0, 0, 0})})),
       ProtocolError::kBadField},
      {"challenge cluster id too long",
       Raw(2,
           with({bytes(kNonceA), bytes(std::string(kClusterIdBytesMax + 1, 'c')), Varints({1})})),
       ProtocolError::kBadField},
      {"error text too long",
       Raw(10, with({"\x01", bytes(std::string(kMessageTextBytesMax + 1, 't'))})),
       ProtocolError::kBadField},
      {"chunk too big",
       Raw(5, with({"\x00\x00"s, bytes(std::string(kCheckpointChunkBytesMax + 1, 'k'))})),
       ProtocolError::kBadField},
      {"notice address too long",
       Raw(9, with({"\x01", bytes(std::string(kAddressBytesMax + 1, 'a'))})),
       ProtocolError::kBadField},
  };
  for (const Case& c : cases) {
    const DecodeResult r = DecodeMessage(c.bytes);
    EXPECT_EQ(r.outcome, Outcome::kError) << c.what;
    if (r.outcome != Outcome::kError) continue;
    EXPECT_EQ(r.error, c.want) << c.what << ": " << ProtocolErrorName(r.error);
    EXPECT_FALSE(ProtocolErrorName(r.error).empty());
  }
}

TEST(ReplicationProtocol, RecordsMustBeWholeFramesValidUnderTheSalt) {
  const uint64_t salt = 0xabcdef;
  const std::string frames = SomeFrames(salt, 3);
  auto records = [](uint64_t s, std::string_view f) {
    return Raw(6, Varints({5, s}) + std::string(f));
  };
  EXPECT_EQ(DecodeMessage(records(salt, frames)).outcome, Outcome::kMessage);
  std::string marker(kWriteMarkerFrameBytes, '\0');
  EncodeWriteMarker({.sequence = 1, .durable_lsn = 0, .write_bytes = 64}, core::Lsn(1),
                    core::Epoch(1), salt, marker.data());
  std::string body_flipped = frames;
  body_flipped.back() ^= 1;
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"another salt", records(salt + 1, frames)},
      {"cut in a header", records(salt, frames.substr(0, frames.size() - 12 - 30 - 5))},
      {"cut in a body", records(salt, frames.substr(0, frames.size() - 1))},
      {"bytes after the frames", records(salt, frames + "z")},
      {"a body flipped", records(salt, body_flipped)},
      {"a write marker", records(salt, marker)},
      {"salt missing", Raw(6, Varints({5}))},
  };
  for (const auto& [what, bytes] : bad) {
    const DecodeResult r = DecodeMessage(bytes);
    ASSERT_EQ(r.outcome, Outcome::kError) << what;
    EXPECT_EQ(r.error, std::string_view(what) == "salt missing" ? ProtocolError::kTruncatedPayload
                                                                : ProtocolError::kBadFrame)
        << what;
  }
}

// The point of RECORDS: the log's frames, byte for byte, through the
// encoder the sender uses, with the salt they were hashed under; a batch
// crossing segments becomes one message per salt.
TEST(ReplicationProtocol, RecordsCarryTheLogsOwnFramesUntouched) {
  const auto groups = FramesFromALog(60, 2048);
  ASSERT_GT(groups.size(), 2u);  // the records span several segments (salts)
  std::string stream;
  uint64_t lsn = 0;
  for (const auto& g : groups) {
    RecordsEncoder enc(stream, core::Epoch(1), core::Lsn(g.lsns.back()), g.salt);
    for (const auto& f : g.frames) enc.AddFrame(f);
    EXPECT_EQ(enc.frame_count(), g.frames.size());
    enc.Finish();
  }
  std::string_view rest = stream;
  for (const auto& g : groups) {
    const DecodeResult r = DecodeMessage(rest);
    ASSERT_EQ(r.outcome, Outcome::kMessage) << ProtocolErrorName(r.error);
    const auto& rec = std::get<Records>(r.message.body);
    EXPECT_EQ(rec.salt, g.salt);
    EXPECT_EQ(rec.primary_durable_lsn, core::Lsn(g.lsns.back()));
    size_t i = 0;
    for (std::string_view frame : RecordFrames(rec)) {
      ASSERT_LT(i, g.frames.size());
      EXPECT_EQ(frame, g.frames[i]);
      FrameHeader h;
      ASSERT_TRUE(DecodeFrameHeader(frame, &h, rec.salt));
      EXPECT_EQ(h.lsn, ++lsn);
      auto m = core::DecodeMutation(frame.substr(kFrameHeaderBytes));
      ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->type, core::MutationType::kPush);
      ++i;
    }
    EXPECT_EQ(i, g.frames.size());
    rest.remove_prefix(r.bytes);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(lsn, 60u);
}

TEST(ReplicationProtocol, AnAbandonedRecordsEncoderLeavesTheBufferAsItWas) {
  std::string out;
  AppendMessage(out, core::Epoch(1), Ack{core::Lsn(1), core::Lsn(1)});
  const std::string before = out;
  {
    RecordsEncoder enc(out, core::Epoch(1), core::Lsn(1), 5);
    enc.AddFrame(SomeFrames(5, 1));
    EXPECT_GT(enc.frames_bytes(), 0u);
  }
  EXPECT_EQ(out, before);
}

TEST(ReplicationProtocol, GarbageNeverDecodesAndNeverReadsOutOfBounds) {
  // Random bytes with a plausible length: decoding each prefix terminates
  // with need-more or an error (ASan checks the reads).
  uint64_t x = 88172645463325252ull;
  for (int round = 0; round < 2000; ++round) {
    std::string b(size_t(4 + round % 200), '\0');
    for (char& c : b) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      c = char(x);
    }
    const uint32_t length = uint32_t(b.size() - 4);
    std::memcpy(b.data(), &length, 4);
    const DecodeResult r = DecodeMessage(b);
    EXPECT_NE(r.outcome, Outcome::kMessage);
  }
}

}  // namespace
}  // namespace werk::wal
