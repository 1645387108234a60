// One test per edge of the on-disk format (docs/wal-format.md).

#include "wal/log_reader.h"

#include <gtest/gtest.h>

#include <cstring>

#include <xxhash.h>

namespace werk::wal {
namespace {

std::string Segment(uint64_t first_lsn, int records, uint64_t epoch = 1, size_t pad_zeros = 0) {
  std::string s(kSegmentHeaderBytes, '\0');
  SegmentHeader h;
  h.segment_id = 1;
  h.first_lsn = first_lsn;
  h.epoch = epoch;
  EncodeSegmentHeader(h, s.data());
  for (int i = 0; i < records; ++i)
    AppendFrame(s, first_lsn + uint64_t(i), epoch, 1, "body-" + std::to_string(i));
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
  AppendFrame(s, 7, 3, 1, "hello");
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
  h.version = 2;  // a future format version
  EncodeSegmentHeader(h, buf);
  EXPECT_EQ(DecodeSegmentHeader({buf, sizeof buf}, &back), HeaderStatus::kBadVersion);
}

TEST(LogFormat, Names) {
  EXPECT_EQ(SegmentName(7), "00000000000000000007.wal");
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
  auto bodies = ReadAll(Segment(1, 3), {.expected_lsn = 1}, &last);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kEnd);
}

TEST(LogReader, ZeroFilledPreallocatedTailIsACleanEnd) {
  ReadOutcome last;
  auto bodies = ReadAll(Segment(1, 3, 1, 1 << 20), {.expected_lsn = 1}, &last);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kEnd);
}

TEST(LogReader, TornHeaderInNewestSegmentIsATornTail) {
  std::string s = Segment(1, 3);
  std::string next;
  AppendFrame(next, 4, 1, 1, "cut");
  s += next.substr(0, 20);  // half a header
  s.append(4096, '\0');
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadAll(s, {.expected_lsn = 1, .newest = true}, &last, &r);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_EQ(last, ReadOutcome::kTornTail);
  EXPECT_GT(r->torn_bytes(), 0u);  // up to the last non-zero byte of the cut header
  EXPECT_LE(r->torn_bytes(), 20u);
  // The same bytes in an older segment are corruption.
  ReadAll(s, {.expected_lsn = 1, .newest = false}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, TornBodyIsATornTail) {
  std::string s = Segment(1, 2);
  std::string next;
  AppendFrame(next, 3, 1, 1, std::string(1000, 'b'));
  s += next.substr(0, next.size() - 300);
  ReadOutcome last;
  auto bodies = ReadAll(s, {.expected_lsn = 1, .newest = true}, &last);
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(last, ReadOutcome::kTornTail);
}

TEST(LogReader, BadChecksumMidFileIsCorruption) {
  std::string s = Segment(1, 50);
  // Damage record 10's body; 40 good records follow, far more than one
  // write's worth when the window is small.
  const size_t at = kSegmentHeaderBytes + 10 * (kFrameHeaderBytes + 6) + kFrameHeaderBytes;
  s[at] ^= 0x55;
  ReadOutcome last;
  auto bodies = ReadAll(s, {.expected_lsn = 1, .newest = true, .torn_window_bytes = 256}, &last);
  EXPECT_EQ(bodies.size(), 10u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, LsnGapIsCorruption) {
  std::string s = Segment(1, 2);
  AppendFrame(s, 4, 1, 1, "skipped 3");
  ReadOutcome last;
  LogReader* r;
  auto bodies = ReadAll(s, {.expected_lsn = 1, .newest = true}, &last, &r);
  EXPECT_EQ(bodies.size(), 2u);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
  EXPECT_NE(r->reason().find("LSN 4"), std::string::npos);
}

TEST(LogReader, StaleEpochIsCorruption) {
  std::string s = Segment(1, 2, /*epoch=*/5);
  AppendFrame(s, 3, 4, 1, "from a deposed primary");
  ReadOutcome last;
  auto bodies = ReadAll(s, {.expected_lsn = 1, .min_epoch = 5, .newest = true}, &last);
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
  ReadAll(s, {.expected_lsn = 1, .newest = true}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

TEST(LogReader, UnknownFrameVersionIsCorruption) {
  std::string s = Segment(1, 1) + RawHeader(2, 0, kFrameVersion + 1);
  ReadOutcome last;
  ReadAll(s, {.expected_lsn = 1, .newest = true}, &last);
  EXPECT_EQ(last, ReadOutcome::kCorrupt);
}

}  // namespace
}  // namespace werk::wal
