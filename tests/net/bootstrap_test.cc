// The install of a bootstrap at start (net/bootstrap.h): from every state a
// crash can leave, the next start ends with the shard's directory holding
// only the checkpoint, and the old directory usable until the BOOTSTRAP
// file exists.

#include "net/bootstrap.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "net/shard_storage.h"
#include "tests/support/temp_dir.h"
#include "wal/log_format.h"

namespace werk::net {
namespace {

namespace fs = std::filesystem;

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename().string());
  return out;
}

class BootstrapInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path();
    live_ = ShardLogDir(data_, 0);
    staged_ = BootstrapStagingDir(data_, 0);
    old_ = live_ + ".old";
    fs::create_directories(live_);
    std::ofstream(live_ + "/" + wal::SegmentName(1)) << "old log";
    fs::create_directories(staged_);
    std::ofstream(staged_ + "/" + ckpt_) << "checkpoint";
  }
  void Marker() { ASSERT_TRUE(WriteBootstrapMarker(data_, {{0, core::Lsn(500)}}).ok()); }
  void ExpectInstalled() {
    std::vector<std::string> notes;
    const absl::Status st = FinishPendingBootstraps(data_, &notes);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_EQ(Files(live_), std::set<std::string>{ckpt_});
    EXPECT_FALSE(fs::exists(staged_));
    EXPECT_FALSE(fs::exists(old_));
    EXPECT_FALSE(fs::exists(BootstrapMarkerPath(data_)));
    // Run again (a crash right after): nothing changes.
    ASSERT_TRUE(FinishPendingBootstraps(data_, &notes).ok());
    EXPECT_EQ(Files(live_), std::set<std::string>{ckpt_});
  }
  testing::TempDir dir_;
  std::string data_, live_, staged_, old_;
  const std::string ckpt_ = wal::CheckpointName(500);
};

TEST_F(BootstrapInstall, NoMarkerLeavesTheOldLogAndDropsTheStaging) {
  std::vector<std::string> notes;
  ASSERT_TRUE(FinishPendingBootstraps(data_, &notes).ok());
  EXPECT_EQ(Files(live_), std::set<std::string>{wal::SegmentName(1)});
  EXPECT_FALSE(fs::exists(staged_));
}

TEST_F(BootstrapInstall, FromTheMarker) {
  Marker();
  ExpectInstalled();
}

TEST_F(BootstrapInstall, AfterTheOldDirectoryWasMovedAside) {
  Marker();
  fs::rename(live_, old_);
  ExpectInstalled();
}

TEST_F(BootstrapInstall, AfterTheStagingWasMovedIn) {
  Marker();
  fs::rename(live_, old_);
  fs::rename(staged_, live_);
  ExpectInstalled();
}

TEST_F(BootstrapInstall, AfterTheOldDirectoryWasRemoved) {
  Marker();
  fs::remove_all(live_);
  fs::rename(staged_, live_);
  ExpectInstalled();
}

TEST_F(BootstrapInstall, AFreshDirectoryWithNoShardLogYet) {
  Marker();
  fs::remove_all(live_);
  ExpectInstalled();
}

TEST_F(BootstrapInstall, AStagingWithoutItsCheckpointIsRefused) {
  Marker();
  fs::remove(staged_ + "/" + ckpt_);
  std::vector<std::string> notes;
  const absl::Status st = FinishPendingBootstraps(data_, &notes);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_EQ(Files(live_), std::set<std::string>{wal::SegmentName(1)});
  EXPECT_TRUE(fs::exists(BootstrapMarkerPath(data_)));
}

TEST(BootstrapPlan, RoundTripsAndRefusesDamage) {
  const std::vector<PendingBootstrap> plan = {{0, core::Lsn(12)}, {3, core::Lsn(99)}};
  auto back = ParseBootstrapPlan(FormatBootstrapPlan(plan));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, plan);
  for (const char* bad : {"", "werk bootstrap 1\n", "werk bootstrap 1\nshard 0 lsn 0\n",
                          "werk bootstrap 1\nshard x lsn 3\n", "werk bootstrap 2\nshard 0 lsn 3\n",
                          "werk bootstrap 1\nshard 0 lsn 3 more\n"})
    EXPECT_TRUE(absl::IsDataLoss(ParseBootstrapPlan(bad).status())) << bad;
}

}  // namespace
}  // namespace werk::net
