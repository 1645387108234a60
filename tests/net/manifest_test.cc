// The data directory knows its shape (net/manifest.h): the manifest's one
// byte form, and the checks at start against what is on disk.

#include "net/manifest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "net/repartition.h"
#include "net/shard_storage.h"

namespace werk::net {
namespace {

namespace fs = std::filesystem;

Manifest Sample() {
  Manifest m;
  m.cluster_id = "3f9c2a0e5b7d41c8a6e2f01d9b3c7e55";
  m.shards = 4;
  m.created_at = "2026-12-01T22:50:00Z";
  m.history = {{1, 2, "2026-12-02T08:00:00Z"}, {2, 4, "2026-12-03T08:00:00.5Z"}};
  return m;
}

TEST(Manifest, RoundTripsAndRefusesAnyChange) {
  const Manifest m = Sample();
  const std::string text = EncodeManifest(m);
  auto back = DecodeManifest(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  // Every single-byte change is caught (by the hash, or by the parser).
  for (size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeManifest(bad).ok()) << "byte " << i;
  }
  EXPECT_FALSE(DecodeManifest(text.substr(0, text.size() - 1)).ok());
  EXPECT_FALSE(DecodeManifest("").ok());
}

// A manifest whose hash matches but whose contents are not the one form is
// refused all the same (a hand-written or future-format file).
TEST(Manifest, RefusesWellHashedNonsense) {
  Manifest m = Sample();
  m.history.back().to = 3;  // disagrees with `shards 4`
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m)).ok());
  m = Sample();
  m.shards = 0;
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m)).ok());
  m = Sample();  // more shards than a server can run: refused, not looped over
  m.shards = 4'000'000'000u;
  m.history.back().to = m.shards;
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m)).ok());
  m = Sample();
  m.cluster_id = "not-hex";
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m)).ok());
  m = Sample();
  m.created_at = "yesterday";
  EXPECT_FALSE(DecodeManifest(EncodeManifest(m)).ok());
}

class DataDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-manifest-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  absl::StatusOr<Manifest> Check(uint32_t shards) {
    notes_.clear();
    return CheckDataDir(dir_, shards, &notes_);
  }
  std::string dir_;
  std::vector<std::string> notes_;
};

TEST_F(DataDirTest, NewDirectoryGetsItsShapeAndAManifest) {
  auto m = Check(3);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->shards, 3u);
  EXPECT_EQ(ListShardDirs(dir_), (std::vector<uint32_t>{0, 1, 2}));
  auto again = Check(3);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->cluster_id, m->cluster_id);
  // Another shard count is the caller's to re-partition, not an error.
  auto other = Check(5);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->shards, 3u);
}

TEST_F(DataDirTest, DirectoryFromBeforeManifestsIsAdopted) {
  fs::create_directories(ShardLogDir(dir_, 0));
  fs::create_directories(ShardLogDir(dir_, 1));
  auto m = Check(4);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->shards, 2u);
  EXPECT_TRUE(fs::exists(ManifestPath(dir_)));
  ASSERT_EQ(notes_.size(), 1u);
  EXPECT_NE(notes_[0].find("recorded the data directory's shape"), std::string::npos);
  // Without a manifest, a gap in the numbering cannot be explained.
  fs::remove(ManifestPath(dir_));
  fs::remove_all(ShardLogDir(dir_, 0));
  auto gap = Check(2);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("shard-001"), std::string_view::npos);
}

TEST_F(DataDirTest, MissingOrExtraShardDirectoriesRefuseToStart) {
  ASSERT_TRUE(Check(2).ok());
  fs::remove_all(ShardLogDir(dir_, 1));
  auto missing = Check(2);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing shard-001"), std::string_view::npos)
      << missing.status();
  fs::create_directories(ShardLogDir(dir_, 1));
  fs::create_directories(ShardLogDir(dir_, 2));
  auto extra = Check(2);
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("not recorded shard-002"), std::string_view::npos)
      << extra.status();
  fs::remove_all(ShardLogDir(dir_, 2));
  EXPECT_TRUE(Check(2).ok());
}

TEST_F(DataDirTest, MissingLogDirectoryRefusesToStart) {
  ASSERT_TRUE(Check(2).ok());
  fs::remove_all(dir_ + "/wal");
  auto gone = Check(2);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("/wal is missing"), std::string_view::npos)
      << gone.status();
  EXPECT_FALSE(fs::exists(dir_ + "/wal"));  // nothing was re-created behind the refusal
}

TEST_F(DataDirTest, DamagedManifestRefusesToStart) {
  ASSERT_TRUE(Check(2).ok());
  std::fstream f(ManifestPath(dir_), std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(20);
  f.put('X');
  f.close();
  auto bad = Check(2);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("MANIFEST is damaged"), std::string_view::npos)
      << bad.status();
}

// A re-partition is recorded before the switch to the new layout, so a
// crash between the two finishes the switch and the manifest agrees.
TEST_F(DataDirTest, FinishingALayoutSwitchRecordsTheNewShardCount) {
  auto m = Check(2);
  ASSERT_TRUE(m.ok());
  // A complete wal.new of three shards, as RepartitionLog leaves it just
  // before switching.
  for (uint32_t i = 0; i < 3; ++i)
    fs::create_directories(dir_ + "/wal.new/" + fs::path(ShardLogDir(dir_, i)).filename().string());
  std::ofstream(dir_ + "/wal.new/COMPLETE").close();
  std::vector<std::string> notes;
  ASSERT_TRUE(FinishLayoutSwitch(dir_, &notes).ok());
  auto after = Check(3);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->shards, 3u);
  EXPECT_EQ(after->cluster_id, m->cluster_id);
  ASSERT_EQ(after->history.size(), 1u);
  EXPECT_EQ(after->history[0].from, 2u);
  EXPECT_EQ(after->history[0].to, 3u);
}

}  // namespace
}  // namespace werk::net
