// One test per edge of the on-disk format (docs/wal-format.md).

#include "wal/log_reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include <xxhash.h>

#include "tests/wal/segment_builder.h"

namespace werk::wal {
namespace {

using testing::SegmentBuilder;

// A version 2 segment: records without write markers, read by the rules of
// versions 1 and 2 (the torn-tail window).
std::string Segment(uint64_t first_lsn, int records, uint64_t epoch = 1, size_t pad_zeros = 0,
                    uint64_t salt = 0) {
  std::string s(kSegmentHeaderBytes, '\0');
  SegmentHeader h;
  h.version = 2;
  h.segment_id = 1;
  h.first_lsn = first_lsn;
  h.epoch = epoch;
  h.salt = salt;
  EncodeSegmentHeader(h, s.data());
  for (int i = 0; i < records; ++i)
    AppendFrame(s, core::Lsn(first_lsn + uint64_t(i)), core::Epoch(epoch), 1,
                "body-" + std::to_string(i), salt);
  s.append(pad_zeros, '\0');
  return s;
}

std::vector<std::string> ReadAll(std::string_view data, LogReader::Options o, ReadOutcome* last,
                                 LogReader** out_reader = nullptr) {
  static LogReader* keep = nullptr;
  delete keep;
  keep = new LogReader(data, o);
  std::vector<std::string> bodies;
  Frame f;
  while ((*last = keep->Next(&f)) == ReadOutcome::kRecord) bodies.emplace_back(f.body);
  if (out_reader) *out_reader = keep;
  return bodies;
}

TEST(LogFormat, FrameRoundTrip) {
  std::string s;
  AppendFrame(s, core::Lsn(7), core::Epoch(3), 1, "hello");
  ASSERT_EQ(s.size(), kFrameHeaderBytes + 5);
  FrameHeader h;
  ASSERT_TRUE(DecodeFrameHeader(s, &h));
  EXPECT_EQ(h.lsn, 7u);
  EXPECT_EQ(h.epoch, 3u);
  EXPECT_EQ(h.body_bytes, 5u);
  EXPECT_EQ(h.type, 1);
  EXPECT_EQ(StoredBodyHash(s), BodyHash("hello"));
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) {  // every header bit is protected
    std::string bad = s;
    bad[i] ^= 0x10;
    EXPECT_FALSE(DecodeFrameHeader(bad, &h) && StoredBodyHash(bad) == BodyHash("hello") &&
                 h.lsn == 7 && h.epoch == 3 && h.body_bytes == 5)
        << "flip at " << i;
  }
}

TEST(LogFormat, SegmentHeader) {
  char buf[kSegmentHeaderBytes];
  SegmentHeader h;
  h.shard = 2;
  h.segment_id = 9;
  h.first_lsn = 100;
  h.epoch = 4;
  EncodeSegmentHeader(h, buf);
  SegmentHeader back;
  ASSERT_EQ(DecodeSegmentHeader({buf, sizeof buf}, &back), HeaderStatus::kOk);
  EXPECT_EQ(back.segment_id, 9u);
  EXPECT_EQ(back.first_lsn, 100u);
  std::string zero(kSegmentHeaderBytes, '\0');
  EXPECT_EQ(DecodeSegmentHeader(zero, &back), HeaderStatus::kZero);
  std::string bad(buf, sizeof buf);
  bad[0] = 'X';
  EXPECT_EQ(DecodeSegmentHeader(bad, &back), HeaderStatus::kBadMagic);  // wrong magic
  bad.assign(buf, sizeof buf);
  bad[20] ^= 1;
  EXPECT_EQ(DecodeSegmentHeader(bad, &back), HeaderStatus::kBadHash);
  h.version = kFormatVersion + 1;  // a future format version
  EncodeSegmentHeader(h, buf);
  EXPECT_EQ(DecodeSegmentHeader({buf, sizeof buf}, &back), HeaderStatus::kBadVersion);
}

TEST(LogFormat, Names) {
  EXPECT_EQ(SegmentName(7), "00000000000000000007.wal");
  EXPECT_EQ(RecycledName(7), "00000000000000000007.free");
  uint64_t id = 0;
  EXPECT_TRUE(ParseRecycledName("00000000000000000007.free", &id));
  EXPECT_EQ(id, 7u);
  EXPECT_FALSE(ParseRecycledName("00000000000000000007.wal", &id));
  EXPECT_FALSE(ParseSegmentName("00000000000000000007.free", &id));
  uint64_t v;
  ASSERT_TRUE(ParseSegmentName("00000000000000000007.wal", &v));
  EXPECT_EQ(v, 7u);
  EXPECT_FALSE(ParseSegmentName("7.wal", &v));
  EXPECT_FALSE(ParseSegmentName("0000000000000000000x.wal", &v));
  EXPECT_EQ(CheckpointName(42), "checkpoint-00000000000000000042.ckpt");
  ASSERT_TRUE(ParseCheckpointName(CheckpointName(42), &v));
  EXPECT_EQ(v, 42u);
  EXPECT_FALSE(ParseCheckpointName(CheckpointName(42) + ".tmp", &v));
}

TEST(LogReader, CleanSegment) {
  ReadOutcome last;
  auto bodies = ReadAll(Segment(1, 3), {.expected_lsn = core::Lsn(1)}, &last);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kEnd);
}

TEST(LogReader, ZeroFilledPreallocatedTailIsACleanEnd) {
  ReadOutcome last;
  auto bodies = ReadAll(Segment(1, 3, 1, 1 << 20), {.expected_lsn = core::Lsn(1)}, &last);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kEnd);
}

TEST(LogReader, TornHeaderInNewestSegmentIsATornTail) {
  std::string s = Segment(1, 3);
  std::string next;
  AppendFrame(next, core::Lsn(4), core::Epoch(1), 1, "cut");
  s += next.substr(0, 20);  // half a header
  s.append(4096, '\0');
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true}, &last, &r);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kTornTail);
  EXPECT_GT(r->torn_bytes(), 0u);  // up to the last non-zero byte of the cut header
  EXPECT_LE(r->torn_bytes(), 20u);
  // The same bytes in an older segment are corruption.
  ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = false}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, TornBodyIsATornTail) {
  std::string s = Segment(1, 2);
  std::string next;
  AppendFrame(next, core::Lsn(3), core::Epoch(1), 1, std::string(1000, 'b'));
  s += next.substr(0, next.size() - 300);
  ReadOutcome last;
  auto bodies = ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true}, &last);
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(last, ReadOutcome::kTornTail);
}

// A recycled segment: its own records, then the bytes of its earlier use —
// whole valid frames under the old salt, so they must not read as records.
std::string Recycled(uint64_t salt, int own, size_t stale_bytes, uint64_t old_salt) {
  std::string old = Segment(1, 0, 1, 0, old_salt);
  for (int i = 0; old.size() < stale_bytes + kSegmentHeaderBytes * 2; ++i)
    AppendFrame(old, core::Lsn(1 + uint64_t(i)), core::Epoch(1), 1,
                std::string(100, char('a' + i % 26)), old_salt);
  std::string s = Segment(500, own, 1, 0, salt);
  s += old.substr(s.size());
  return s;
}

// Reads a Recycled(0x1234, 5, ...) segment as the newest, with a 4 KiB window.
std::vector<std::string> ReadRecycled(std::string_view s, ReadOutcome* last,
                                      LogReader** r = nullptr) {
  return ReadAll(
      s,
      {.expected_lsn = core::Lsn(500), .salt = 0x1234, .newest = true, .torn_window_bytes = 4096},
      last, r);
}

TEST(LogReader, StaleFramesOfARecycledSegmentEndItCleanly) {
  const std::string s = Recycled(0x1234, 5, 64 << 10, 0x9999);
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadRecycled(s, &last, &r);
  EXPECT_EQ(bodies.size(), 5u);
  EXPECT_EQ(last, ReadOutcome::kEnd);
  EXPECT_GT(r->stale_bytes(), 60000u);
  EXPECT_EQ(r->torn_bytes(), 0u);
  // Read without the salt, the segment's own frames do not validate.
  bodies = ReadAll(s, {.expected_lsn = core::Lsn(500), .newest = true}, &last);
  EXPECT_EQ(bodies.size(), 0u);
}

TEST(LogReader, OwnFrameFarBehindStaleBytesIsCorruption) {
  std::string s = Recycled(0x1234, 5, 64 << 10, 0x9999);
  // A frame of this segment 40 KiB on: once synced, now behind damage.
  std::string lost;
  AppendFrame(lost, core::Lsn(505), core::Epoch(1), 1, "synced once", 0x1234);
  s.replace(s.size() - 20000, lost.size(), lost);
  ReadOutcome last;
  ReadRecycled(s, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, OwnFrameWithinTheWindowOfStaleBytesIsATornTail) {
  std::string s = Recycled(0x1234, 5, 64 << 10, 0x9999);
  const size_t end = Segment(500, 5, 1, 0, 0x1234).size();
  // The second of two writes in flight landed, the first did not.
  std::string cut;
  AppendFrame(cut, core::Lsn(507), core::Epoch(1), 1, "second write", 0x1234);
  s.replace(end + 1000, cut.size(), cut);
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadRecycled(s, &last, &r);
  EXPECT_EQ(bodies.size(), 5u);
  EXPECT_EQ(last, ReadOutcome::kTornTail);
  EXPECT_EQ(r->offset(), end);
  // Recovery zeroes through that frame's header, so it can never be read.
  EXPECT_EQ(r->torn_bytes(), 1000u + kFrameHeaderBytes);
}

TEST(LogFormat, SaltsFollowEachOtherAndSeparateUses) {
  EXPECT_NE(NextSalt(7, 2), 0u);
  EXPECT_EQ(NextSalt(7, 2), NextSalt(7, 2));
  EXPECT_NE(NextSalt(7, 2), NextSalt(7, 3));
  EXPECT_NE(NextSalt(7, 2), NextSalt(8, 2));
  EXPECT_NE(FreshSalt(), 0u);
  EXPECT_NE(FreshSalt(), FreshSalt());
  std::string s;
  AppendFrame(s, core::Lsn(3), core::Epoch(1), 1, "x", 42);
  FrameHeader h;
  EXPECT_TRUE(DecodeFrameHeader(s, &h, 42));
  EXPECT_FALSE(DecodeFrameHeader(s, &h, 43));
  EXPECT_FALSE(DecodeFrameHeader(s, &h, 0));
  // A batch reads under the salt its frames were appended with, and no other.
  std::string batch;
  AppendFrame(batch, core::Lsn(1), core::Epoch(1), 1, "one", 6);
  AppendFrame(batch, core::Lsn(2), core::Epoch(1), 1, std::string(300, 't'), 6);
  LogReader r(batch, {.start_offset = 0, .expected_lsn = core::Lsn(1), .salt = 6});
  Frame f;
  EXPECT_EQ(r.Next(&f), ReadOutcome::kRecord);
  EXPECT_EQ(r.Next(&f), ReadOutcome::kRecord);
  EXPECT_EQ(r.Next(&f), ReadOutcome::kEnd);
  LogReader other(batch, {.start_offset = 0, .expected_lsn = core::Lsn(1), .salt = 5});
  EXPECT_NE(other.Next(&f), ReadOutcome::kRecord);
}

TEST(LogFormat, VersionOneSegmentsStillRead) {
  // Version 1 had no salt (bytes 48-55 zero): its frames hash unseeded.
  std::string s = Segment(1, 3);
  SegmentHeader h;
  ASSERT_EQ(DecodeSegmentHeader(s, &h), HeaderStatus::kOk);
  h.version = 1;
  EncodeSegmentHeader(h, s.data());
  ASSERT_EQ(DecodeSegmentHeader(s, &h), HeaderStatus::kOk);
  EXPECT_EQ(h.salt, 0u);
  ReadOutcome last;
  EXPECT_EQ(ReadAll(s, {.expected_lsn = core::Lsn(1)}, &last).size(), 3u);
  // A version 1 header with a salt is not one werk wrote.
  h.salt = 9;
  EncodeSegmentHeader(h, s.data());
  EXPECT_EQ(DecodeSegmentHeader(s, &h), HeaderStatus::kBadVersion);
}

TEST(LogReader, BadChecksumMidFileIsCorruption) {
  std::string s = Segment(1, 50);
  // Damage record 10's body; 40 good records follow, far more than one
  // write's worth when the window is small.
  const size_t at = kSegmentHeaderBytes + 10 * (kFrameHeaderBytes + 6) + kFrameHeaderBytes;
  s[at] ^= 0x55;
  ReadOutcome last;
  auto bodies =
      ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true, .torn_window_bytes = 256}, &last);
  EXPECT_EQ(bodies.size(), 10u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, LsnGapIsCorruption) {
  std::string s = Segment(1, 2);
  AppendFrame(s, core::Lsn(4), core::Epoch(1), 1, "skipped 3");
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true}, &last, &r);
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
  EXPECT_NE(r->reason().find("LSN 4"), std::string::npos);
}

TEST(LogReader, StaleEpochIsCorruption) {
  std::string s = Segment(1, 2, /*epoch=*/5);
  AppendFrame(s, core::Lsn(3), core::Epoch(4), 1, "from a deposed primary");
  ReadOutcome last;
  auto bodies = ReadAll(s, {.expected_lsn = core::Lsn(1), .min_epoch = 5, .newest = true}, &last);
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

// A frame header with a valid hash but impossible contents.
std::string RawHeader(uint64_t lsn, uint32_t len, uint16_t version) {
  char h[kFrameHeaderBytes] = {};
  std::memcpy(h + 16, &lsn, 8);
  const uint64_t epoch = 1;
  std::memcpy(h + 24, &epoch, 8);
  std::memcpy(h + 32, &len, 4);
  const uint16_t type = 1;
  std::memcpy(h + 36, &type, 2);
  std::memcpy(h + 38, &version, 2);
  const uint64_t hash = XXH3_64bits(h + 8, kFrameHeaderBytes - 8);
  std::memcpy(h, &hash, 8);
  return std::string(h, sizeof h);
}

TEST(LogReader, AbsurdLengthWithValidHeaderIsCorruption) {
  std::string s = Segment(1, 1) + RawHeader(2, kRecordBodyBytesMax + 1, kFrameVersion);
  ReadOutcome last;
  ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, UnknownFrameVersionIsCorruption) {
  std::string s = Segment(1, 1) + RawHeader(2, 0, kFrameVersion + 1);
  ReadOutcome last;
  ReadAll(s, {.expected_lsn = core::Lsn(1), .newest = true}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}


// --- Version 3: write markers ------------------------------------------------
//
// Each write begins with a marker stating what was durable when it was
// issued. A damaged frame that a later marker states durable is corruption;
// one that no later marker knows durable was in flight at the crash.

TEST(LogFormat, WriteMarkerRoundTrip) {
  char buf[kWriteMarkerFrameBytes];
  WriteMarker m;
  m.sequence = 7;
  m.durable_lsn = 41;
  m.write_bytes = 4096;
  EncodeWriteMarker(m, core::Lsn(42), core::Epoch(3), 0xabc, buf);
  FrameHeader h;
  ASSERT_TRUE(DecodeFrameHeader({buf, sizeof buf}, &h, 0xabc));
  EXPECT_FALSE(DecodeFrameHeader({buf, sizeof buf}, &h, 0xabd));
  EXPECT_EQ(h.type, uint16_t(RecordType::kWrite));
  EXPECT_EQ(h.lsn, 42u);
  EXPECT_EQ(h.epoch, 3u);
  EXPECT_EQ(h.body_bytes, kWriteMarkerBodyBytes);
  const std::string_view body(buf + kFrameHeaderBytes, kWriteMarkerBodyBytes);
  EXPECT_EQ(StoredBodyHash({buf, sizeof buf}), BodyHash(body));
  WriteMarker back;
  ASSERT_TRUE(DecodeWriteMarker(body, &back));
  EXPECT_EQ(back.sequence, 7u);
  EXPECT_EQ(back.durable_lsn, 41u);
  EXPECT_EQ(back.write_bytes, 4096u);
  EXPECT_FALSE(DecodeWriteMarker(body.substr(1), &back));
}

TEST(LogFormat, OneDamagedByteOfASegmentHeaderCanBeFound) {
  char buf[kSegmentHeaderBytes];
  SegmentHeader h;
  h.segment_id = 9;
  h.first_lsn = 100;
  h.salt = 0x1234567;
  EncodeSegmentHeader(h, buf);
  for (size_t i : {size_t(0), size_t(20), size_t(50), size_t(60)}) {
    std::string bad(buf, sizeof buf);
    bad[i] ^= 0x04;
    SegmentHeader back;
    size_t byte = 99;
    ASSERT_TRUE(RepairSegmentHeader(bad, &back, &byte)) << i;
    EXPECT_EQ(byte, i);
    EXPECT_EQ(back.salt, 0x1234567u);
    EXPECT_EQ(back.first_lsn, 100u);
  }
  // Two damaged bytes, or none that was ever a header: nothing is guessed.
  std::string bad(buf, sizeof buf);
  bad[20] ^= 1;
  bad[50] ^= 1;
  SegmentHeader back;
  size_t byte;
  EXPECT_FALSE(RepairSegmentHeader(bad, &back, &byte));
  EXPECT_FALSE(RepairSegmentHeader(std::string(kSegmentHeaderBytes, '\0'), &back, &byte));
}

TEST(LogReaderV3, MarkersBeginEachWriteAndTakeNoLsn) {
  SegmentBuilder b(10);
  b.Write(3);
  b.Write(2);
  b.Write(0);  // a marker-only write
  b.data().append(8192, '\0');
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  std::vector<std::pair<uint16_t, uint64_t>> seen;  // (type, lsn)
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) seen.emplace_back(f.header.type, f.header.lsn);
  EXPECT_EQ(out, ReadOutcome::kEnd);
  const std::vector<std::pair<uint16_t, uint64_t>> want = {
      {2, 10}, {1, 10}, {1, 11}, {1, 12}, {2, 13}, {1, 13}, {1, 14}, {2, 15}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(r.expected_lsn().value(), 15u);
  EXPECT_EQ(r.marker().sequence, 3u);
  EXPECT_EQ(r.marker_offset(), b.write_offsets()[2]);
}

TEST(LogReaderV3, FirstFrameHeaderDamagedBeforeLaterWritesIsCorruption) {
  SegmentBuilder b(1);
  for (int i = 0; i < 10; ++i) b.Write(50);
  b.data().append(1 << 20, '\0');
  b.data()[kSegmentHeaderBytes + 20] ^= 0x01;  // the first write's marker
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  EXPECT_EQ(r.Next(&f), ReadOutcome::kCorrupt);
  EXPECT_EQ(r.offset(), kSegmentHeaderBytes);
  // The evidence: the second write was issued once LSN 1..50 were durable.
  EXPECT_EQ(r.evidence_offset(), b.write_offsets()[9]);
  EXPECT_NE(r.reason().find("LSN 1,"), std::string::npos) << r.reason();
  EXPECT_NE(r.reason().find("write 10"), std::string::npos) << r.reason();
}

TEST(LogReaderV3, FirstRecordDamagedBeforeLaterWritesIsCorruption) {
  SegmentBuilder b(1);
  for (int i = 0; i < 3; ++i) b.Write(5);
  const uint64_t at = b.RecordOffset(1);
  b.data()[at + 3] ^= 0x40;
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  EXPECT_EQ(r.Next(&f), ReadOutcome::kRecord);  // the marker
  EXPECT_EQ(r.Next(&f), ReadOutcome::kCorrupt);
  EXPECT_EQ(r.offset(), at);
}

TEST(LogReaderV3, DamageMidLogIsCorruptionHoweverCloseToTheEnd) {
  // A few hundred bytes from the end: far inside any byte window.
  SegmentBuilder b(1);
  for (int i = 0; i < 10; ++i) b.Write(5);
  const uint64_t at = b.RecordOffset(43);
  b.data()[at + kFrameHeaderBytes + 2] ^= 0x08;  // the body
  ReadOutcome last;
  auto bodies = [&] {
    std::vector<uint64_t> lsns;
    LogReader r(b.data(), b.ReadOptions());
    Frame f;
    while ((last = r.Next(&f)) == ReadOutcome::kRecord)
      if (f.header.type == 1) lsns.push_back(f.header.lsn);
    EXPECT_EQ(r.offset(), at);
    return lsns;
  }();
  EXPECT_EQ(bodies.size(), 42u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReaderV3, DamageInTheLastWriteIsATornTailThatNamesTheLoss) {
  SegmentBuilder b(1);
  for (int i = 0; i < 4; ++i) b.Write(5);
  const uint64_t last_write = b.write_offsets().back();
  const uint64_t end = b.data().size();
  const uint64_t at = b.RecordOffset(17);  // 2nd record of the last write (16..20)
  b.data().append(4096, '\0');
  b.data()[at + 1] ^= 0x02;
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kTornTail);
  EXPECT_EQ(r.offset(), at);
  EXPECT_EQ(r.expected_lsn().value(), 17u);
  EXPECT_EQ(r.marker_offset(), last_write);
  // Everything from there to the end of the write goes, and it is named.
  EXPECT_EQ(r.torn_bytes(), end - at);
  EXPECT_EQ(r.dropped_first_lsn().value(), 17u);
  EXPECT_EQ(r.dropped_last_lsn().value(), 20u);
  EXPECT_TRUE(r.cut_write());
  // The same damage in an older segment is corruption.
  LogReader older(b.data(), b.ReadOptions(/*newest=*/false));
  while ((out = older.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kCorrupt);
}

TEST(LogReaderV3, APrefixOfTheLastWriteIsATornTailNotACleanEnd) {
  SegmentBuilder b(1);
  b.Write(5);
  b.Write(5);
  const uint64_t cut = b.RecordOffset(8);
  const uint64_t end = b.data().size();
  std::fill(b.data().begin() + long(cut), b.data().end(), '\0');  // never landed
  b.data().append(4096, '\0');
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kTornTail);
  EXPECT_EQ(r.offset(), cut);
  EXPECT_EQ(r.torn_bytes(), end - cut);
  EXPECT_EQ(r.dropped_first_lsn().value(), 8u);
  EXPECT_LT(r.dropped_last_lsn(), r.dropped_first_lsn());  // no complete record left
}

TEST(LogReaderV3, TwoWritesInFlightAtTheCrashAreATornTail) {
  // Buffered mode: write B was issued while A was in flight, so its marker
  // states only what was durable before A. A was cut; B landed.
  SegmentBuilder b(1);
  b.Write(5);
  const uint64_t a = b.Write(5);
  b.Write(5, /*durable=*/5);
  const uint64_t b_last = b.RecordOffset(15);
  b.data()[a + kWriteMarkerFrameBytes + 7] ^= 0x10;  // A's first record
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kTornTail);
  EXPECT_EQ(r.expected_lsn().value(), 6u);
  EXPECT_EQ(r.dropped_first_lsn().value(), 6u);
  EXPECT_EQ(r.dropped_last_lsn().value(), 15u);  // B's records go too
  EXPECT_EQ(r.offset() + r.torn_bytes(), b_last + kFrameHeaderBytes);
}

TEST(LogReaderV3, AWriteIssuedAfterTheDamagedOneCompletedMakesItCorruption) {
  // B was in flight with A; C was issued once A had completed.
  SegmentBuilder b(1);
  b.Write(5);
  const uint64_t a = b.Write(5);
  b.Write(5, /*durable=*/5);
  const uint64_t c = b.Write(5, /*durable=*/10);
  b.data()[a + kWriteMarkerFrameBytes + 7] ^= 0x10;
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kCorrupt);
  EXPECT_EQ(r.evidence_offset(), c);
}

TEST(LogReaderV3, StaleWritesOfARecycledFileEndItCleanly) {
  // The earlier use's frames, markers included, are under another salt:
  // however durable they claim things were, they are not this segment's.
  SegmentBuilder old(1, /*salt=*/0x9999);
  for (int i = 0; i < 40; ++i) old.Write(4);
  SegmentBuilder b(500, /*salt=*/0x1234);
  b.Write(3);
  b.Write(3);
  const uint64_t end = b.data().size();
  b.data() += old.data().substr(end);
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  int records = 0;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) records += f.header.type == 1;
  EXPECT_EQ(records, 6);
  EXPECT_EQ(out, ReadOutcome::kEnd);
  EXPECT_EQ(r.offset(), end);
  EXPECT_EQ(r.stale_bytes(), b.data().size() - end);
  EXPECT_EQ(r.torn_bytes(), 0u);
}

TEST(LogReaderV3, ACutWriteInARecycledFileIsZeroedThroughItsEnd) {
  SegmentBuilder old(1, /*salt=*/0x9999);
  for (int i = 0; i < 40; ++i) old.Write(4);
  SegmentBuilder b(500, /*salt=*/0x1234);
  b.Write(3);
  const uint64_t w = b.Write(3);
  const uint64_t end = b.data().size();
  const uint64_t last = b.RecordOffset(505);
  b.data() += old.data().substr(end);
  b.data()[w + 5] ^= 0x20;  // the last write's marker: its bytes half landed
  LogReader r(b.data(), b.ReadOptions());
  Frame f;
  ReadOutcome out;
  while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
  }
  EXPECT_EQ(out, ReadOutcome::kTornTail);
  EXPECT_EQ(r.offset(), w);
  // Its marker unreadable, the write's extent is unknown: zeroed through
  // its last frame header, after which no frame of this segment remains.
  EXPECT_EQ(r.torn_bytes(), last + kFrameHeaderBytes - w);
  EXPECT_EQ(r.dropped_first_lsn().value(), 503u);
  EXPECT_EQ(r.dropped_last_lsn().value(), 505u);
}

TEST(LogReaderV3, MisplacedMarkersAndRecordsAreCorruption) {
  auto read_all = [](const SegmentBuilder& b, std::string_view data) {
    LogReader r(data, b.ReadOptions());
    Frame f;
    ReadOutcome out;
    while ((out = r.Next(&f)) == ReadOutcome::kRecord) {
    }
    return std::make_pair(out, r.reason());
  };
  {  // A record where a write must begin.
    SegmentBuilder b(1);
    std::string s = b.data();
    AppendFrame(s, core::Lsn(1), core::Epoch(1), 1, "no marker", b.salt());
    EXPECT_EQ(read_all(b, s).first, ReadOutcome::kCorrupt);
  }
  {  // A marker for another LSN.
    SegmentBuilder b(1);
    b.Write(2);
    std::string s = b.data();
    char m[kWriteMarkerFrameBytes];
    EncodeWriteMarker({.sequence = 2, .durable_lsn = 2, .write_bytes = kWriteMarkerFrameBytes},
                      core::Lsn(7), core::Epoch(1), b.salt(), m);
    s.append(m, sizeof m);
    auto [out, why] = read_all(b, s);
    EXPECT_EQ(out, ReadOutcome::kCorrupt);
    EXPECT_NE(why.find("write marker for LSN 7"), std::string::npos) << why;
  }
  {  // A marker stating its own records durable.
    SegmentBuilder b(1);
    b.Write(2, /*durable=*/1);
    EXPECT_EQ(read_all(b, b.data()).first, ReadOutcome::kCorrupt);
  }
  {  // Write sequence numbers going backwards.
    SegmentBuilder b(1);
    b.Write(2);
    std::string s = b.data();
    char m[kWriteMarkerFrameBytes];
    EncodeWriteMarker({.sequence = 1, .durable_lsn = 2, .write_bytes = kWriteMarkerFrameBytes},
                      core::Lsn(3), core::Epoch(1), b.salt(), m);
    s.append(m, sizeof m);
    EXPECT_EQ(read_all(b, s).first, ReadOutcome::kCorrupt);
  }
  {  // A record beyond the end of its write.
    SegmentBuilder b(1);
    b.Write(1);
    std::string s = b.data();
    AppendFrame(s, core::Lsn(2), core::Epoch(1), 1, "outside any write", b.salt());
    auto [out, why] = read_all(b, s);
    EXPECT_EQ(out, ReadOutcome::kCorrupt);
    EXPECT_NE(why.find("crosses the end"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace werk::wal
