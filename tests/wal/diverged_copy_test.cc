// wal::CopyShardDir: the forensic copy of a shard's log made before its
// diverged tail is cut (docs/replication-plan.md §5 "Rejoin").

#include "wal/diverged_copy.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "wal/log_format.h"

namespace werk::wal {
namespace {

namespace fs = std::filesystem;

void Write(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}
std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DivergedCopy, NamesTheEpochAndTime) {
  EXPECT_EQ(DivergedDirName(core::Epoch(3), 1795000000), "diverged-e3-1795000000");
}

TEST(DivergedCopy, CopiesTheLogFilesOnly) {
  testing::TempDir dir;
  const std::string shard = dir.path() + "/wal/shard-000";
  fs::create_directories(shard);
  const std::string big(3u << 20, 'x');  // more than one copy buffer
  Write(shard + "/" + SegmentName(4), big + "tail");
  Write(shard + "/" + SegmentName(5), "segment five");
  Write(shard + "/" + CheckpointName(77), "checkpoint");
  Write(shard + "/" + RecycledName(2), "recycled");
  Write(shard + "/" + CheckpointName(80) + ".tmp", "half a checkpoint");
  const std::string to =
      dir.path() + "/" + DivergedDirName(core::Epoch(2), 1795000000) + "/shard-000";
  auto r = CopyShardDir(shard, to);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->files, (std::vector<std::string>{SegmentName(4), SegmentName(5),
                                                CheckpointName(77)}));
  EXPECT_EQ(r->bytes, big.size() + 4 + 12 + 10);
  EXPECT_EQ(Read(to + "/" + SegmentName(4)), big + "tail");
  EXPECT_EQ(Read(to + "/" + SegmentName(5)), "segment five");
  EXPECT_EQ(Read(to + "/" + CheckpointName(77)), "checkpoint");
  EXPECT_FALSE(fs::exists(to + "/" + RecycledName(2)));
  EXPECT_FALSE(fs::exists(to + "/" + CheckpointName(80) + ".tmp"));
  // The source is untouched: the cut works on it next.
  EXPECT_EQ(Read(shard + "/" + SegmentName(5)), "segment five");
  EXPECT_TRUE(fs::exists(shard + "/" + RecycledName(2)));
}

TEST(DivergedCopy, NeverWritesOverAnEarlierCopy) {
  testing::TempDir dir;
  const std::string shard = dir.path() + "/shard-000";
  fs::create_directories(shard);
  Write(shard + "/" + SegmentName(1), "one");
  const std::string to = dir.path() + "/copy/shard-000";
  ASSERT_TRUE(CopyShardDir(shard, to).ok());
  Write(shard + "/" + SegmentName(1), "changed");
  auto again = CopyShardDir(shard, to);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(to + "/" + SegmentName(1)), "one");
}

TEST(DivergedCopy, AMissingSourceIsAnError) {
  testing::TempDir dir;
  auto r = CopyShardDir(dir.path() + "/absent", dir.path() + "/copy");
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace werk::wal
