// One flipped byte in the newest segment of a log of acknowledged jobs
// (issue 11): 5,000 jobs pushed in batches of 500, all acknowledged, a pause,
// kill -9, one byte flipped — in the first write, the middle, the segment
// header, or the last write (which the marker written once the log went
// quiet vouches for). It used to be taken for a torn tail and dropped (0 jobs
// left, or half, or the whole segment "never synced"); werkd must refuse to
// start, naming the file and the offset, and start with --repair, saying
// what it cut.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/shard_storage.h"
#include "tests/support/line_client.h"
#include "tests/support/werkd_process.h"
#include "wal/log_reader.h"

namespace werk::testing {
namespace {

enum class Where { kFirstFrameHeader, kFirstRecordHeader, kMidLog, kSegmentHeader, kLastWrite };

std::string Name(Where w) {
  switch (w) {
    case Where::kFirstFrameHeader: return "FirstFrameHeader";
    case Where::kFirstRecordHeader: return "FirstRecordHeader";
    case Where::kMidLog: return "MidLog";
    case Where::kSegmentHeader: return "SegmentHeader";
    case Where::kLastWrite: return "LastWrite";
  }
  return "?";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 5,000 jobs in PUSHB batches of 500, every batch acknowledged, then kill -9.
void PushAcknowledgedJobs(const std::string& data_dir) {
  WerkdProcess server({.args = {"--shards", "1"}, .data_dir = data_dir});
  LineClient c(server.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  const std::string args(100, 'a');
  for (int b = 0; b < 10; ++b) {
    std::string batch = "PUSHB [";
    for (int i = 0; i < 500; ++i) {
      if (i) batch += ",";
      batch += R"({"jid":"job-)" + std::to_string(100000 + b * 500 + i) +
               R"(","jobtype":"T","args":[")" + args + R"("]})";
    }
    ASSERT_EQ(c.Call(batch + "]"), "$2\r\n{}\r\n");
  }
  // Quiet for a while: the log vouches for its last write with a marker alone.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.KillNine();
}

// The frames of a segment image: (offset, type).
std::vector<std::pair<uint64_t, uint16_t>> Frames(const std::string& data) {
  wal::SegmentHeader h;
  EXPECT_EQ(wal::DecodeSegmentHeader(data, &h), wal::HeaderStatus::kOk);
  wal::LogReader r(data, {.expected_lsn = core::Lsn(h.first_lsn),
                          .salt = h.salt,
                          .write_markers = h.version >= wal::kFormatVersionMarkers});
  std::vector<std::pair<uint64_t, uint16_t>> out;
  wal::Frame f;
  while (r.Next(&f) == wal::ReadOutcome::kRecord) out.emplace_back(f.offset, f.header.type);
  EXPECT_EQ(r.Next(&f), wal::ReadOutcome::kEnd);
  return out;
}

class BitFlipTest : public ::testing::TestWithParam<Where> {};

TEST_P(BitFlipTest, AcknowledgedJobsBehindAFlippedByteAreRefusedAndRepairSaysWhatItCut) {
  char tmpl[] = "/tmp/werk-flip-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  struct RemoveAtEnd {
    std::string dir;
    ~RemoveAtEnd() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{root};
  const std::string data_dir = root + "/data";
  PushAcknowledgedJobs(data_dir);
  if (HasFatalFailure()) return;
  const std::string name = "00000000000000000001.wal";
  const std::string path = net::ShardLogDir(data_dir) + "/" + name;
  const std::string data = ReadFile(path);
  const auto frames = Frames(data);
  ASSERT_GE(frames.size(), 5000u);
  // The byte to flip, and the offset the refusal must name (the frame it is in).
  uint64_t at = 0, named = 0;
  switch (GetParam()) {
    case Where::kFirstFrameHeader:  // the first write's marker
      at = wal::kSegmentHeaderBytes + 16;
      named = wal::kSegmentHeaderBytes;
      break;
    case Where::kFirstRecordHeader:  // (the second record in a log without markers)
      ASSERT_EQ(frames[1].second, uint16_t(wal::RecordType::kMutation));
      at = frames[1].first + 16;
      named = frames[1].first;
      break;
    case Where::kMidLog: {
      const auto& mid = frames[frames.size() / 2];
      at = mid.first + 50;
      named = mid.first;
      break;
    }
    case Where::kSegmentHeader:
      at = 20;
      named = 0;
      break;
    case Where::kLastWrite: {  // its last record; the marker alone follows
      ASSERT_EQ(frames.back().second, uint16_t(wal::RecordType::kWrite));
      const auto& last = frames[frames.size() - 2];
      ASSERT_EQ(last.second, uint16_t(wal::RecordType::kMutation));
      at = last.first + 100;
      named = last.first;
      break;
    }
  }
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(at));
    f.put(char(data[at] ^ 0x20));
  }
  // Refused, naming the file and the offset.
  try {
    WerkdProcess refused({.args = {"--shards", "1"}, .data_dir = data_dir});
    ADD_FAILURE() << "werkd started on a log with a flipped byte at " << at << ":\n"
                  << refused.log();
  } catch (const std::runtime_error& e) {
    const std::string log = e.what();
    EXPECT_NE(log.find("corruption in " + name + " at byte " + std::to_string(named)),
              std::string::npos)
        << log;
    EXPECT_NE(log.find(net::ShardLogDir(data_dir)), std::string::npos) << log;
    EXPECT_NE(log.find("--repair"), std::string::npos) << log;
  }
  // --repair starts, and says what it cut.
  WerkdProcess repaired({.args = {"--shards", "1", "--repair"}, .data_dir = data_dir});
  const std::string log = repaired.log();
  EXPECT_NE(log.find("REPAIR: cut " + name + " at byte " + std::to_string(named)),
            std::string::npos)
      << log;
  if (GetParam() != Where::kSegmentHeader) {
    // The records lost with the cut, as far as this segment shows them.
    EXPECT_NE(log.find("LSNs "), std::string::npos) << log;
    EXPECT_NE(log.find("..5000; every later record is lost"), std::string::npos) << log;
  }
  LineClient c(repaired.port());
  c.ReadOrFail();
  ASSERT_EQ(c.Call(R"(HELLO {"v":2})"), "+OK\r\n");
  EXPECT_EQ(c.Call(R"(PUSH {"jid":"after-repair","jobtype":"T","args":[]})"), "+OK\r\n");
  repaired.Stop();
}

INSTANTIATE_TEST_SUITE_P(Issue11, BitFlipTest,
                         ::testing::Values(Where::kFirstFrameHeader, Where::kFirstRecordHeader,
                                           Where::kMidLog, Where::kSegmentHeader,
                                           Where::kLastWrite),
                         [](const auto& info) { return Name(info.param); });

}  // namespace
}  // namespace werk::testing
