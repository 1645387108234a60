// One test per row of the recovery decision table (docs/wal-format.md).

#include "wal/recovery.h"

#include <gtest/gtest.h>

#include "core/replay.h"
#include "core/state_machine.h"
#include "tests/wal/log_fixture.h"
#include "tests/wal/segment_builder.h"
#include "wal/log_format.h"
#include "wal/log_reader.h"

namespace werk::testing {
namespace {

using wal::SegmentName;

// A log of `n` pushes spread over several small segments, fully synced.
void WriteLog(MemStorage& storage, int n, int first = 0) {
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = first; i < first + n; ++i) {
    log.Push("job-" + std::to_string(10000 + i));
    if (i % 5 == 0) log.Flush();
  }
  log.Flush();
}

std::vector<std::string> Segments(MemStorage& s) {
  std::vector<std::string> out;
  for (const auto& name : s.List()) {
    uint64_t id;
    if (wal::ParseSegmentName(name, &id)) out.push_back(name);
  }
  return out;
}

absl::Status Reopen(MemStorage& storage, bool repair = false, LogFixture** out = nullptr) {
  static LogFixture* keep = nullptr;
  delete keep;
  keep = new LogFixture(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512, .repair = repair});
  if (out) *out = keep;
  return keep->Open();
}

TEST(Recovery, R1_InterruptedCheckpointTmpIsRemoved) {
  MemStorage storage;
  WriteLog(storage, 20);
  storage.Put("checkpoint-00000000000000000010.ckpt.tmp", "partial");
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_FALSE(storage.Exists("checkpoint-00000000000000000010.ckpt.tmp"));
  EXPECT_EQ(log->sm().job_count(), 20u);
}

TEST(Recovery, R2_WrongMagicOrVersionRefusesToStart) {
  MemStorage storage;
  WriteLog(storage, 20);
  const std::string first = Segments(storage).front();
  std::string saved = *storage.Durable(first);
  (*storage.Durable(first))[0] = 'X';
  storage.Crash();  // make live == durable
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(first), std::string::npos);
  // A future format version.
  wal::SegmentHeader h;
  ASSERT_EQ(wal::DecodeSegmentHeader(saved, &h), wal::HeaderStatus::kOk);
  h.version = wal::kFormatVersion + 1;
  wal::EncodeSegmentHeader(h, saved.data());
  storage.Put(first, saved);
  st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("version"), std::string::npos);
}

TEST(Recovery, R3_MisplacedSegmentRefusesToStart) {
  MemStorage storage;
  WriteLog(storage, 20);
  auto segs = Segments(storage);
  const std::string data = *storage.Durable(segs.front());
  ASSERT_TRUE(storage.Remove(segs.front()).ok());
  storage.Put(SegmentName(0), data);  // its header says segment 1
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("misplaced"), std::string::npos);
}

TEST(Recovery, R4_NewestZeroSegmentIsTheSpare) {
  MemStorage storage;
  WriteLog(storage, 20);
  auto segs = Segments(storage);
  // The newest file is the preallocated spare, header all zero.
  wal::SegmentHeader h;
  EXPECT_EQ(wal::DecodeSegmentHeader(*storage.Durable(segs.back()), &h), wal::HeaderStatus::kZero);
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 20u);
  log->Push("job-more");
  log->Flush();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 21u);
}

TEST(Recovery, R5_OlderSegmentWithZeroHeaderIsCorruption) {
  MemStorage storage;
  WriteLog(storage, 60);
  auto segs = Segments(storage);
  ASSERT_GE(segs.size(), 3u);
  std::string& d = *storage.Durable(segs[1]);
  std::fill(d.begin(), d.begin() + 64, '\0');
  storage.Crash();
  EXPECT_FALSE(Reopen(storage).ok());
}

TEST(Recovery, R6_R7_RecordsReplayAcrossSegments) {
  MemStorage storage;
  WriteLog(storage, 100);
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->result().records_replayed, 100u);
  const auto& lsns = log->replayed();
  for (size_t i = 0; i < lsns.size(); ++i) EXPECT_EQ(lsns[i], i + 1);
}

TEST(Recovery, R8_TornTailIsTruncatedAndLogged) {
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 1 << 20});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 10; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.Flush();
  for (int i = 10; i < 20; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.wal().Commit();  // in flight when the power goes
  storage.Crash();
  LogFixture* after;
  ASSERT_TRUE(Reopen(storage, false, &after).ok());
  // The synced ten survive; of the unsynced ten, a prefix may have landed.
  EXPECT_GE(after->sm().job_count(), 10u);
  EXPECT_LE(after->sm().job_count(), 20u);
  for (int i = 0; i < 10; ++i) EXPECT_NE(after->sm().FindJob("job-" + std::to_string(10000 + i)), nullptr);
  // Whatever was dropped was reported, and the log is usable again.
  after->Push("job-after");
  after->Flush();
  ASSERT_TRUE(Reopen(storage, false, &after).ok());
  EXPECT_NE(after->sm().FindJob("job-after"), nullptr);
}

// The newest segment with a header (the last one holds the spare) and a
// reader positioned at its start.
std::string* NewestWritten(MemStorage& storage, std::string* name = nullptr) {
  auto segs = Segments(storage);
  for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
    wal::SegmentHeader h;
    std::string* d = storage.Durable(*it);
    if (wal::DecodeSegmentHeader(*d, &h) == wal::HeaderStatus::kOk) {
      if (name) *name = *it;
      return d;
    }
  }
  return nullptr;
}

// Every frame of a segment image: (offset, type, LSN), and the end of the
// last write.
struct Layout {
  std::vector<wal::Frame> frames;
  uint64_t end = 0;
};
Layout ReadLayout(const std::string& d) {
  wal::SegmentHeader h;
  EXPECT_EQ(wal::DecodeSegmentHeader(d, &h), wal::HeaderStatus::kOk);
  wal::LogReader r(d, {.expected_lsn = core::Lsn(h.first_lsn),
                       .salt = h.salt,
                       .write_markers = true});
  Layout l;
  wal::Frame f;
  while (r.Next(&f) == wal::ReadOutcome::kRecord) l.frames.push_back(f);
  l.end = r.offset();
  return l;
}

TEST(Recovery, R8_TornTailNoteNamesTheBytesAndTheLsns) {
  MemStorage storage;
  WriteLog(storage, 5);
  std::string name;
  std::string* d = NewestWritten(storage, &name);
  ASSERT_NE(d, nullptr);
  // Damage the last record: nothing was written after it, so it may have
  // been in flight — dropped, and named.
  const Layout l = ReadLayout(*d);
  const wal::Frame last = l.frames.back();
  ASSERT_EQ(last.header.lsn, 5u);
  (*d)[last.offset + wal::kFrameHeaderBytes] ^= 0x01;
  storage.Crash();
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  ASSERT_FALSE(log->result().notes.empty());
  const std::string& note = log->result().notes.back();
  EXPECT_NE(note.find("torn tail of " + name + " at byte " + std::to_string(last.offset)),
            std::string::npos)
      << note;
  EXPECT_NE(note.find(std::to_string(l.end - last.offset) + " bytes dropped holding LSNs 5..5"),
            std::string::npos)
      << note;
  EXPECT_EQ(log->sm().job_count(), 4u);
}

TEST(Recovery, R9_MissingSegmentIsAGap) {
  MemStorage storage;
  WriteLog(storage, 80);
  auto segs = Segments(storage);
  ASSERT_GE(segs.size(), 4u);
  ASSERT_TRUE(storage.Remove(segs[1]).ok());
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected"), std::string::npos);
}

TEST(Recovery, R10_StaleEpochIsCorruption) {
  MemStorage storage;
  SegmentBuilder b(1, /*salt=*/0x77, /*epoch=*/5);
  const std::string body = core::EncodeMutation(core::Mutation::Flush(1));
  b.Write({body});
  // An older epoch after a newer one (a write as a deposed primary made it).
  std::string w(wal::kWriteMarkerFrameBytes, '\0');
  wal::AppendFrame(w, core::Lsn(2), core::Epoch(4), 1, body, b.salt());
  wal::EncodeWriteMarker({.sequence = 2, .durable_lsn = 1, .write_bytes = w.size()}, core::Lsn(2),
                         core::Epoch(5), b.salt(), w.data());
  std::string seg = b.data() + w;
  seg.append(100000, '\0');
  storage.Put(SegmentName(1), seg);
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("epoch"), std::string::npos);
}

TEST(Recovery, R11_CorruptionMidLogNamesFileAndOffsetAndRepairCuts) {
  MemStorage storage;
  WriteLog(storage, 100);
  auto segs = Segments(storage);
  ASSERT_GE(segs.size(), 4u);
  std::string& d = *storage.Durable(segs[1]);
  d[200] ^= 0x01;
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(segs[1]), std::string::npos);
  EXPECT_NE(st.message().find("at byte"), std::string::npos);
  // --repair: the log is cut at the bad frame, later segments go, loudly.
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, /*repair=*/true, &log).ok());
  EXPECT_LT(log->sm().job_count(), 100u);
  bool noted = false;
  for (const auto& n : log->result().notes) noted |= n.find("REPAIR") != std::string::npos;
  EXPECT_TRUE(noted);
  EXPECT_FALSE(storage.Exists(segs[2]));
  // The repaired log is consistent: it opens cleanly and accepts writes.
  log->Push("job-after-repair");
  log->Flush();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_NE(log->sm().FindJob("job-after-repair"), nullptr);
}

TEST(Recovery, R12_LogStartingAfterTheCheckpointIsCorruption) {
  MemStorage storage;
  WriteLog(storage, 80);
  auto segs = Segments(storage);
  ASSERT_TRUE(storage.Remove(segs.front()).ok());  // no checkpoint covers LSN 1..
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("checkpoint"), std::string::npos);
}

TEST(Recovery, R13_CorruptCheckpointRefusesToStart) {
  MemStorage storage;
  {
    LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
    ASSERT_TRUE(log.Open().ok());
    for (int i = 0; i < 50; ++i) log.Push("job-" + std::to_string(10000 + i));
    log.Flush();
    log.Checkpoint();
    ASSERT_EQ(log.checkpointer().stats().taken, 1u);
  }
  std::string ckpt;
  for (const auto& n : storage.List())
    if (n.find("checkpoint-") == 0) ckpt = n;
  ASSERT_FALSE(ckpt.empty());
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 50u);
  EXPECT_EQ(log->result().checkpoint_items, 52u);  // 50 jobs, the counters, one queue
  (*storage.Durable(ckpt))[300] ^= 0x40;
  storage.Crash();
  auto st = Reopen(storage);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(ckpt), std::string::npos);
}

// A log that has been through enough checkpoints for covered segments to be
// recycled: the spare (and the pool) are files of an earlier use.
void WriteRecycledLog(MemStorage& storage, LogFixture** out) {
  static LogFixture* keep = nullptr;
  delete keep;
  keep = new LogFixture(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(keep->Open().ok());
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 12; ++i) {
      const std::string jid = "job-" + std::to_string(20000 + round * 100 + i);
      keep->Push(jid);
      const core::UnixNanos now = keep->clock().WallNow();
      keep->Commit(core::Mutation::Reserve(now, jid, "w", now + 60'000'000'000));
      keep->Commit(core::Mutation::Ack(now, jid));
    }
    keep->Flush();
    keep->Checkpoint();
  }
  ASSERT_GT(keep->wal().segments_recycled(), 0u);
  *out = keep;
}

// The newest segment file and its salt as the writer will derive it.
struct Spare {
  std::string name;
  uint64_t id = 0;
  uint64_t salt = 0;
};
Spare FindSpare(MemStorage& storage) {
  Spare s;
  uint64_t tail_salt = 0;
  for (const auto& name : Segments(storage)) {
    uint64_t id;
    wal::ParseSegmentName(name, &id);
    wal::SegmentHeader h;
    if (wal::DecodeSegmentHeader(*storage.ReadAll(name), &h) == wal::HeaderStatus::kOk &&
        h.segment_id == id) {
      tail_salt = h.salt;
    } else {
      s.name = name;
      s.id = id;
    }
  }
  s.salt = wal::NextSalt(tail_salt, s.id);
  return s;
}

TEST(Recovery, R4_UnusedRecycledSpareStaysTheSpare) {
  MemStorage storage;
  LogFixture* log;
  WriteRecycledLog(storage, &log);
  const Spare spare = FindSpare(storage);
  ASSERT_FALSE(spare.name.empty());
  // It carries the header and frames of its earlier use.
  wal::SegmentHeader h;
  ASSERT_EQ(wal::DecodeSegmentHeader(*storage.ReadAll(spare.name), &h), wal::HeaderStatus::kOk);
  EXPECT_LT(h.segment_id, spare.id);
  const uint64_t hash = log->sm().StateHash();
  storage.Crash();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().StateHash(), hash);
  for (const auto& note : log->result().notes) EXPECT_EQ(note.find("dropped"), std::string::npos) << note;
  // Writing on fills the recycled spare; a restart reads its records and
  // stops at the stale bytes after them.
  for (int i = 0; i < 40; ++i) log->Push("job-more-" + std::to_string(i));
  log->Flush();
  const uint64_t after = log->sm().StateHash();
  storage.Crash();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().StateHash(), after);
}

TEST(Recovery, R4_TornFirstWriteIntoARecycledSpareIsDropped) {
  MemStorage storage;
  LogFixture* log;
  WriteRecycledLog(storage, &log);
  const uint64_t hash = log->sm().StateHash();
  const Spare spare = FindSpare(storage);
  // The first write's header sector never landed, a later part did: a frame
  // of this use (its salt) behind the stale header, within one write.
  std::string frame;
  wal::AppendFrame(frame, core::Lsn(999), core::Epoch(1), 1, "never acknowledged", spare.salt);
  storage.Durable(spare.name)->replace(300, frame.size(), frame);
  storage.Crash();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().StateHash(), hash);
  ASSERT_FALSE(log->result().notes.empty());
  EXPECT_NE(log->result().notes.back().find("torn first write of " + spare.name),
            std::string::npos);
  // Zeroed, so the writer's own first write cannot be followed by it.
  wal::FrameHeader fh;
  EXPECT_FALSE(wal::DecodeFrameHeader(storage.Durable(spare.name)->substr(300), &fh, spare.salt));
}

TEST(Recovery, R5_RecordsBehindADamagedHeaderAtTheEndAreCorruption) {
  MemStorage storage;
  LogFixture* log;
  WriteRecycledLog(storage, &log);
  const Spare spare = FindSpare(storage);
  // A record of the segment further on than one write reaches: the segment
  // was synced once and its header is damaged, not a cut first write.
  std::string frame;
  wal::AppendFrame(frame, core::Lsn(999), core::Epoch(1), 1, "synced once", spare.salt);
  std::string* d = storage.Durable(spare.name);
  ASSERT_GT(d->size(), 1700u);
  d->replace(1600, frame.size(), frame);
  storage.Crash();
  auto st = Reopen(storage, false, &log);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(spare.name), std::string::npos) << st.message();
  // --repair cuts it, and the records before it stay.
  EXPECT_TRUE(Reopen(storage, true, &log).ok());
}

TEST(Recovery, OlderSegmentWithStaleBytesAfterItsRecordsReadsCleanly) {
  MemStorage storage;
  LogFixture* log;
  WriteRecycledLog(storage, &log);
  const size_t before = log->sm().job_count();
  for (int i = 0; i < 120; ++i) log->Push("job-keep-" + std::to_string(i));
  log->Flush();
  const uint64_t hash = log->sm().StateHash();
  // An older segment whose file was longer in its earlier use: stale frames
  // (another salt) after its records, then the next segment continues.
  auto segs = Segments(storage);
  ASSERT_EQ(segs.back(), FindSpare(storage).name);
  segs.pop_back();  // the spare
  ASSERT_GE(segs.size(), 3u);
  std::string stale;
  for (int i = 0; i < 8; ++i)
    wal::AppendFrame(stale, core::Lsn(3 + uint64_t(i)), core::Epoch(1), 1, "old use", 0x5151);
  *storage.Durable(segs[segs.size() - 3]) += stale.substr(17);  // mid-frame, as it happens
  *storage.Durable(segs[segs.size() - 2]) += stale;              // whole old frames
  storage.Crash();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().StateHash(), hash);
  EXPECT_EQ(log->sm().job_count(), before + 120);
  // The same bytes where the next segment does not continue are corruption:
  // records of the older segment are missing.
  ASSERT_TRUE(storage.Remove(segs[segs.size() - 2]).ok());
  EXPECT_FALSE(Reopen(storage, false, &log).ok());

}

// --- Version 3: torn tails by writes, not bytes -------------------------------
//
// Each write begins with a marker stating what was durable when it was
// issued. The issue these rows answer: 5,000 acknowledged jobs and one
// flipped byte in the newest segment used to be read as a torn tail (all
// within two batches of the end) and silently dropped.

// `writes` writes of 10 pushes each, all synced, in one segment.
void WriteOneSegmentLog(MemStorage& storage, int writes) {
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 1 << 16});
  ASSERT_TRUE(log.Open().ok());
  for (int w = 0; w < writes; ++w) {
    for (int i = 0; i < 10; ++i) log.Push("job-" + std::to_string(10000 + w * 10 + i));
    log.Flush();
  }
  ASSERT_EQ(log.wal().durable_lsn().value(), uint64_t(writes) * 10);
}

bool Noted(const LogFixture& log, const std::string& what) {
  for (const auto& n : log.result().notes)
    if (n.find(what) != std::string::npos) return true;
  return false;
}

TEST(Recovery, R11_FirstFrameOfTheNewestSegmentBeforeLaterWritesIsCorruption) {
  MemStorage storage;
  WriteOneSegmentLog(storage, 20);
  const std::string name = SegmentName(1);
  const Layout l = ReadLayout(*storage.Durable(name));
  (*storage.Durable(name))[wal::kSegmentHeaderBytes + 12] ^= 0x01;  // the first marker's LSN
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte 64"), std::string::npos)
      << st.message();
  // The evidence: the last write's marker, which states all 200 durable.
  EXPECT_NE(st.message().find("write at byte " + std::to_string(l.frames[l.frames.size() - 11].offset)),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("up to 190 durable"), std::string::npos) << st.message();
  // --repair cuts there, loudly, and the log goes on.
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, /*repair=*/true, &log).ok());
  EXPECT_TRUE(Noted(*log, "REPAIR: cut " + name + " at byte 64"));
  EXPECT_TRUE(Noted(*log, "bytes dropped holding LSNs 1..200"));
  EXPECT_EQ(log->sm().job_count(), 0u);
  log->Push("job-after-repair");
  log->Flush();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_NE(log->sm().FindJob("job-after-repair"), nullptr);
}

TEST(Recovery, R11_DamageMidLogOfTheNewestSegmentIsCorruption) {
  MemStorage storage;
  WriteOneSegmentLog(storage, 20);
  const std::string name = SegmentName(1);
  const Layout l = ReadLayout(*storage.Durable(name));
  size_t i = l.frames.size() / 2;
  while (l.frames[i].header.type != 1) ++i;  // a record, not a marker
  const wal::Frame hit = l.frames[i];
  (*storage.Durable(name))[hit.offset + wal::kFrameHeaderBytes + 5] ^= 0x80;
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte " + std::to_string(hit.offset)),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("at LSN " + std::to_string(hit.header.lsn)), std::string::npos)
      << st.message();
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, /*repair=*/true, &log).ok());
  EXPECT_EQ(log->sm().job_count(), hit.header.lsn - 1);
}

TEST(Recovery, R8_DamageInTheLastWriteIsDroppedWithItsLsnsNamed) {
  // Nothing was written after the last write, so no marker can say it
  // completed: it may have been in flight. Dropped, and named.
  MemStorage storage;
  WriteOneSegmentLog(storage, 20);
  const std::string name = SegmentName(1);
  const Layout l = ReadLayout(*storage.Durable(name));
  const wal::Frame hit = l.frames[l.frames.size() - 4];  // LSN 197
  ASSERT_EQ(hit.header.lsn, 197u);
  (*storage.Durable(name))[hit.offset + 30] ^= 0x10;
  storage.Crash();
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 196u);
  EXPECT_TRUE(Noted(*log, "torn tail of " + name + " at byte " + std::to_string(hit.offset)));
  EXPECT_TRUE(Noted(*log, std::to_string(l.end - hit.offset) + " bytes dropped holding LSNs 197..200"));
  // The cut write's frames were zeroed: the writer's next records are never
  // followed by them.
  log->Push("job-next");
  log->Flush();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 197u);
  EXPECT_NE(log->sm().FindJob("job-next"), nullptr);
}

TEST(Recovery, R8_WriteSequenceContinuesAfterARestart) {
  MemStorage storage;
  WriteOneSegmentLog(storage, 3);
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  log->Push("job-next");
  log->Flush();
  std::vector<uint64_t> sequences;
  for (const auto& name : Segments(storage)) {
    wal::SegmentHeader h;
    if (wal::DecodeSegmentHeader(*storage.Durable(name), &h) != wal::HeaderStatus::kOk) continue;
    for (const auto& f : ReadLayout(*storage.Durable(name)).frames) {
      if (f.header.type != uint16_t(wal::RecordType::kWrite)) continue;
      wal::WriteMarker m;
      ASSERT_TRUE(wal::DecodeWriteMarker(f.body, &m));
      sequences.push_back(m.sequence);
    }
  }
  EXPECT_EQ(sequences, (std::vector<uint64_t>{1, 2, 3, 4}));
}

// A log of one push per write over several 2 KiB segments, until the
// newest segment with a header holds three writes.
void WriteManyWrites(MemStorage& storage, int n) {
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < n || ReadLayout(*NewestWritten(storage)).frames.size() < 6; ++i) {
    log.Push("job-" + std::to_string(10000 + i));
    log.Flush();
  }
}

TEST(Recovery, R5_DamagedHeaderOfTheNewestSegmentBeforeLaterWritesIsCorruption) {
  MemStorage storage;
  WriteManyWrites(storage, 25);
  std::string name;
  std::string* d = NewestWritten(storage, &name);
  ASSERT_NE(d, nullptr);
  ASSERT_NE(name, SegmentName(1));  // a tail before it gives its salt
  const Layout l = ReadLayout(*d);
  ASSERT_GE(l.frames.size(), 4u);
  (*d)[30] ^= 0x01;  // the first LSN field
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte 0"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("the segment had been synced"), std::string::npos) << st.message();
  // --repair cuts the whole segment; the ones before it stay.
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, /*repair=*/true, &log).ok());
  EXPECT_EQ(log->sm().job_count(), l.frames.front().header.lsn - 1);
}

TEST(Recovery, R5_DamagedHeaderOfTheOnlySegmentIsCorruption) {
  // The first segment of the log: its salt is only in its header, read back
  // from the one damaged byte.
  MemStorage storage;
  WriteOneSegmentLog(storage, 20);
  const std::string name = SegmentName(1);
  (*storage.Durable(name))[50] ^= 0x20;  // inside the salt itself
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte 0"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("byte 50 of it differs"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("up to 190 durable"), std::string::npos) << st.message();
  EXPECT_TRUE(storage.Exists(name));
}

TEST(Recovery, R5_DamagedHeaderAfterReleasedSegmentsIsCorruption) {
  // The segments before the newest were released under a checkpoint, except
  // an older one whose release a crash undid: the salt does not follow from
  // it, and comes from the damaged header itself.
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 30; ++i) {
    log.Push("job-" + std::to_string(10000 + i));
    log.Flush();
  }
  const std::string first = *storage.Durable(SegmentName(1));
  log.Checkpoint();
  ASSERT_FALSE(storage.Exists(SegmentName(1)));
  for (int i = 30; ReadLayout(*NewestWritten(storage)).frames.size() < 6; ++i) {
    log.Push("job-" + std::to_string(10000 + i));
    log.Flush();
  }
  std::string name;
  std::string* d = NewestWritten(storage, &name);
  uint64_t id;
  ASSERT_TRUE(wal::ParseSegmentName(name, &id));
  ASSERT_FALSE(storage.Exists(SegmentName(id - 1)));
  storage.Put(SegmentName(1), first);
  (*d)[25] ^= 0x01;
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte 0"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("byte 25 of it differs"), std::string::npos) << st.message();
}

TEST(Recovery, R4_CutFirstWriteOfASegmentIsDroppedWithItsLsnsNamed) {
  // The header sector of a segment's first write never landed; its marker
  // and records did. No marker states the segment's first LSN durable.
  MemStorage storage;
  WriteLog(storage, 20);
  const Spare spare = FindSpare(storage);
  ASSERT_FALSE(spare.name.empty());
  std::string w(wal::kWriteMarkerFrameBytes, '\0');
  for (uint64_t lsn = 21; lsn <= 22; ++lsn)
    wal::AppendFrame(w, core::Lsn(lsn), core::Epoch(1), 1,
                     core::EncodeMutation(core::Mutation::Flush(1)), spare.salt);
  wal::EncodeWriteMarker({.sequence = 99, .durable_lsn = 20, .write_bytes = w.size()},
                         core::Lsn(21), core::Epoch(1), spare.salt, w.data());
  storage.Durable(spare.name)->replace(wal::kSegmentHeaderBytes, w.size(), w);
  storage.Crash();
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 20u);
  EXPECT_TRUE(Noted(*log, "torn first write of " + spare.name));
  EXPECT_TRUE(Noted(*log, "LSNs 21..22")) << log->result().notes.back();
  // A second write in flight with it (buffered) changes nothing: it was
  // issued before the first completed.
  std::string w2(wal::kWriteMarkerFrameBytes, '\0');
  wal::AppendFrame(w2, core::Lsn(23), core::Epoch(1), 1,
                   core::EncodeMutation(core::Mutation::Flush(1)), spare.salt);
  wal::EncodeWriteMarker({.sequence = 100, .durable_lsn = 20, .write_bytes = w2.size()},
                         core::Lsn(23), core::Epoch(1), spare.salt, w2.data());
  std::string* d = storage.Durable(spare.name);
  d->replace(wal::kSegmentHeaderBytes, w.size(), w);
  d->replace(wal::kSegmentHeaderBytes + w.size(), w2.size(), w2);
  storage.Crash();
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 20u);
  EXPECT_TRUE(Noted(*log, "LSNs 21..23"));
  // But one issued once the first write was durable proves it completed.
  wal::EncodeWriteMarker({.sequence = 100, .durable_lsn = 22, .write_bytes = w2.size()},
                         core::Lsn(23), core::Epoch(1), spare.salt, w2.data());
  d->replace(wal::kSegmentHeaderBytes, w.size(), w);
  d->replace(wal::kSegmentHeaderBytes + w.size(), w2.size(), w2);
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(spare.name), std::string::npos) << st.message();
}

TEST(Recovery, R11_DamageToTheLastWriteOfASegmentIsProvenByTheNextOnesFirstWrite) {
  // The next segment's first write was cut (its header never landed), but
  // its marker did: it went out only once every write before it completed,
  // and states the damaged record durable.
  MemStorage storage;
  WriteLog(storage, 20);
  std::string name;
  std::string* d = NewestWritten(storage, &name);
  const Layout l = ReadLayout(*d);
  const wal::Frame last = l.frames.back();
  ASSERT_EQ(last.header.lsn, 20u);
  const Spare spare = FindSpare(storage);
  std::string w(wal::kWriteMarkerFrameBytes, '\0');
  wal::AppendFrame(w, core::Lsn(21), core::Epoch(1), 1,
                   core::EncodeMutation(core::Mutation::Flush(1)), spare.salt);
  wal::EncodeWriteMarker({.sequence = 99, .durable_lsn = 20, .write_bytes = w.size()},
                         core::Lsn(21), core::Epoch(1), spare.salt, w.data());
  storage.Durable(spare.name)->replace(wal::kSegmentHeaderBytes, w.size(), w);
  (*d)[last.offset + wal::kFrameHeaderBytes + 1] ^= 0x01;
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("corruption in " + name + " at byte " + std::to_string(last.offset)),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("of " + spare.name), std::string::npos) << st.message();
  // Nothing was changed by the refusal: the cut first write is still there.
  EXPECT_EQ(storage.Durable(spare.name)->substr(wal::kSegmentHeaderBytes, w.size()), w);
}

TEST(Recovery, AVersionTwoLogContinuesInAVersionThreeSegment) {
  MemStorage storage;
  std::string seg(wal::kSegmentHeaderBytes, '\0');
  wal::SegmentHeader h;
  h.version = 2;
  h.segment_id = 1;
  h.first_lsn = 1;
  h.salt = 0x2222;
  wal::EncodeSegmentHeader(h, seg.data());
  for (uint64_t lsn = 1; lsn <= 3; ++lsn) {
    core::JobSpec j;
    j.jid = "old-" + std::to_string(lsn);
    j.jobtype = "T";
    j.queue = "default";
    j.args_json = "[]";
    j.created_at = "2026-11-22T00:00:00Z";
    wal::AppendFrame(seg, core::Lsn(lsn), core::Epoch(1), 1,
                     core::EncodeMutation(core::Mutation::Push(1, j)), h.salt);
  }
  seg.append(1000, '\0');  // records without markers: a torn tail is judged by size here
  storage.Put(SegmentName(1), seg);
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 3u);
  log->Push("new-1");
  log->Flush();
  // The version 2 segment is left as it was; the log goes on in version 3.
  EXPECT_EQ(*storage.Durable(SegmentName(1)), seg);
  wal::SegmentHeader h2;
  ASSERT_EQ(wal::DecodeSegmentHeader(*storage.Durable(SegmentName(2)), &h2), wal::HeaderStatus::kOk);
  EXPECT_EQ(h2.version, wal::kFormatVersion);
  EXPECT_EQ(h2.first_lsn, 4u);
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  EXPECT_EQ(log->sm().job_count(), 4u);
  EXPECT_NE(log->sm().FindJob("new-1"), nullptr);
}

TEST(Recovery, R11_AnIdleMarkerVouchesForTheLastWrite) {
  // The case R8 above drops: damage to the last write. Once the log has been
  // quiet for a while, a write of a marker alone states that write durable.
  MemStorage storage;
  LogFixture log(&storage, {.segment_bytes = 1 << 20, .batch_bytes_max = 1 << 16});
  ASSERT_TRUE(log.Open().ok());
  for (int i = 0; i < 10; ++i) log.Push("job-" + std::to_string(10000 + i));
  log.Flush();
  EXPECT_EQ(log.wal().idle_marker_wait_ns(), wal::kIdleMarkerNs);
  log.wal().WriteIdleMarkerIfDue();  // not yet
  EXPECT_FALSE(log.wal().commit_pending());
  log.clock().Advance(wal::kIdleMarkerNs);
  EXPECT_EQ(log.wal().idle_marker_wait_ns(), 0);
  log.wal().WriteIdleMarkerIfDue();
  log.Flush();
  EXPECT_EQ(log.wal().idle_markers(), 1u);
  // Once: the last write is vouched for now.
  log.clock().Advance(10 * wal::kIdleMarkerNs);
  EXPECT_EQ(log.wal().idle_marker_wait_ns(), -1);
  const Layout l = ReadLayout(*storage.Durable(SegmentName(1)));
  ASSERT_EQ(l.frames.size(), 12u);  // a marker, 10 records, a marker alone
  EXPECT_EQ(l.frames.back().header.type, uint16_t(wal::RecordType::kWrite));
  EXPECT_EQ(l.frames.back().header.lsn, 11u);
  const std::string saved = *storage.Durable(SegmentName(1));
  (*storage.Durable(SegmentName(1)))[l.frames[10].offset + 45] ^= 0x04;  // LSN 10
  storage.Crash();
  auto st = Reopen(storage);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("at byte " + std::to_string(l.frames[10].offset)), std::string::npos)
      << st.message();
  // Intact, the log goes on after the marker alone.
  storage.Put(SegmentName(1), saved);
  LogFixture* after;
  ASSERT_TRUE(Reopen(storage, false, &after).ok());
  EXPECT_EQ(after->sm().job_count(), 10u);
  after->Push("job-next");
  after->Flush();
  ASSERT_TRUE(Reopen(storage, false, &after).ok());
  EXPECT_EQ(after->sm().job_count(), 11u);
}

TEST(Recovery, AnIdleMarkerAfterARestartVouchesForWhatWasRecovered) {
  MemStorage storage;
  WriteOneSegmentLog(storage, 1);  // within Reopen's 2 KiB segment size
  LogFixture* log;
  ASSERT_TRUE(Reopen(storage, false, &log).ok());
  log->clock().Advance(wal::kIdleMarkerNs);
  EXPECT_EQ(log->wal().idle_marker_wait_ns(), 0);
  log->wal().WriteIdleMarkerIfDue();
  log->Flush();
  EXPECT_EQ(log->wal().idle_markers(), 1u);
  const Layout l = ReadLayout(*storage.Durable(SegmentName(1)));
  wal::WriteMarker m;
  ASSERT_TRUE(wal::DecodeWriteMarker(l.frames.back().body, &m));
  EXPECT_EQ(m.durable_lsn, 10u);
  EXPECT_EQ(m.sequence, 2u);
}

}  // namespace
}  // namespace werk::testing

namespace werk::testing {
namespace {

// R14: a record that does not apply to the recovered state stops recovery,
// named by file, byte offset and LSN (never skipped silently).
TEST(Recovery, R14_RecordThatDoesNotApplyStopsRecoveryNamingIt) {
  MemStorage storage;
  {
    LogFixture log(&storage, {.segment_bytes = 2048, .batch_bytes_max = 512});
    ASSERT_TRUE(log.Open().ok());
    for (int i = 0; i < 30; ++i) log.Push("job-" + std::to_string(10000 + i));
    // Bypass the live path's validation: an ACK of a job never reserved.
    log.wal().Append(core::EncodeMutation(core::Mutation::Ack(0, "job-10003")));
    log.Push("job-20000");
    log.Flush();
  }
  core::StateMachine sm(0);
  wal::RecoverySinks sinks;
  sinks.item = [&](core::SnapshotItemType t, std::string_view b) { return sm.RestoreItem(t, b); };
  std::vector<uint64_t> applied;
  sinks.record = [&](core::Lsn lsn, std::string_view body) {
    absl::Status st = core::ReplayRecord(sm, body);
    if (st.ok()) applied.push_back(lsn.value());
    return st;
  };
  auto r = wal::Recover(storage, {}, sinks);
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find(".wal at byte "), std::string::npos) << msg;
  EXPECT_NE(msg.find("LSN 31: ack"), std::string::npos) << msg;
  EXPECT_NE(msg.find("jid=job-10003"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not apply"), std::string::npos) << msg;
  EXPECT_EQ(applied.size(), 30u);  // everything before it, nothing after
}

}  // namespace
}  // namespace werk::testing
