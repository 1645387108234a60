// A bootstrap's checkpoint on the wire (docs/replication.md "Bootstrap"):
// the primary's chunk source reads the file a chunk at a time on the ring,
// the standby's receiver stages it and checks the whole image before it is
// named a checkpoint; a damaged, reordered or cut stream installs nothing.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/mutation.h"
#include "core/state_machine.h"
#include "tests/support/mem_storage.h"
#include "tests/support/temp_dir.h"
#include "wal/checkpoint.h"
#include "wal/checkpoint_chunk_source.h"
#include "wal/checkpoint_receiver.h"
#include "wal/log_format.h"
#include "wal/replication_protocol.h"

namespace werk::wal {
namespace {

constexpr core::UnixNanos kT0 = 1'700'000'000'000'000'000;

std::string Image(int jobs, core::Lsn lsn) {
  core::StateMachine sm(kT0 / core::kNanosPerMilli);
  for (int i = 0; i < jobs; ++i) {
    core::JobSpec s;
    s.jid = "job-" + std::to_string(100000 + i);
    s.jobtype = "T";
    s.queue = "default";
    s.args_json = "[\"" + std::string(200, 'x') + "\"]";
    s.created_at = "2026-11-22T00:00:00Z";
    (void)sm.Apply(core::Mutation::Push(kT0, s));
  }
  return BuildCheckpoint(sm, 0, lsn, core::Epoch(1), kT0);
}

// The chunks the source gives for `image` (stored in `storage` as `name`),
// each through the wire format.
std::vector<std::string> Wire(testing::MemStorage& storage, const std::string& name,
                              uint64_t bytes, size_t chunk_bytes, absl::Status* error) {
  std::vector<std::string> out;
  CheckpointChunkSource src(&storage, name, bytes, [] {}, chunk_bytes);
  for (int turns = 0; turns < 100000 && !src.done(); ++turns) {
    storage.RunPending();
    auto sent = src.Take([&](const CheckpointChunkSource::Chunk& c) {
      std::string m;
      AppendMessage(m, core::Epoch(1), CheckpointChunk{c.offset, c.data, c.last});
      out.push_back(std::move(m));
    });
    if (!sent.ok()) {
      *error = sent.status();
      return out;
    }
  }
  return out;
}

CheckpointChunk Decoded(const std::string& wire) {
  DecodeResult r = DecodeMessage(wire);
  EXPECT_EQ(r.outcome, DecodeResult::Outcome::kMessage);
  return std::get<CheckpointChunk>(r.message.body);
}

void Store(testing::MemStorage& storage, const std::string& name, const std::string& data) {
  storage.WriteAtomic(name, std::make_shared<const std::string>(data), [](int32_t) {});
  storage.RunPending();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(BootstrapChunks, TheImageArrivesWholeAndVerified) {
  const std::string image = Image(300, core::Lsn(77));
  testing::MemStorage storage;
  Store(storage, CheckpointName(77), image);
  absl::Status error;
  const auto wire = Wire(storage, CheckpointName(77), image.size(), 4096, &error);
  ASSERT_TRUE(error.ok()) << error;
  EXPECT_EQ(wire.size(), (image.size() + 4095) / 4096);
  testing::TempDir dir;
  auto r = CheckpointReceiver::Open({dir.path() + "/staging", 0, core::Lsn(77), image.size()});
  ASSERT_TRUE(r.ok()) << r.status();
  for (const std::string& m : wire) ASSERT_TRUE((*r)->Take(Decoded(m)).ok());
  EXPECT_TRUE((*r)->complete());
  EXPECT_EQ(ReadFile((*r)->path()), image);
  EXPECT_FALSE(std::filesystem::exists((*r)->path() + ".part"));
}

TEST(BootstrapChunks, AFileShorterThanRecordedFailsTheSource) {
  const std::string image = Image(50, core::Lsn(9));
  testing::MemStorage storage;
  Store(storage, CheckpointName(9), image.substr(0, image.size() - 10));
  absl::Status error;
  (void)Wire(storage, CheckpointName(9), image.size(), 4096, &error);
  EXPECT_TRUE(absl::IsDataLoss(error)) << error;
  EXPECT_NE(std::string(error.message()).find(CheckpointName(9)), std::string::npos) << error;
}

TEST(BootstrapChunks, AFileGoneBeforeItIsOpenedFailsTheSource) {
  testing::MemStorage storage;
  absl::Status error;
  (void)Wire(storage, CheckpointName(5), 100, 4096, &error);
  EXPECT_FALSE(error.ok());
}

class ReceiverRefuses : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = Image(200, core::Lsn(31));
    for (size_t at = 0; at < image_.size(); at += 8192) {
      const std::string_view data = std::string_view(image_).substr(at, 8192);
      std::string m;
      AppendMessage(m, core::Epoch(1),
                    CheckpointChunk{at, data, at + data.size() == image_.size()});
      wire_.push_back(std::move(m));
    }
    auto r = CheckpointReceiver::Open({dir_.path() + "/staging", 0, core::Lsn(31), image_.size()});
    ASSERT_TRUE(r.ok());
    receiver_ = std::move(*r);
  }
  bool NothingStaged() const {
    return !std::filesystem::exists(receiver_->path()) &&
           !std::filesystem::exists(receiver_->path() + ".part");
  }
  std::string image_;
  std::vector<std::string> wire_;
  testing::TempDir dir_;
  std::unique_ptr<CheckpointReceiver> receiver_;
};

TEST_F(ReceiverRefuses, AChunkWhoseBytesWereChanged) {
  absl::Status st;
  for (size_t i = 0; i < wire_.size() && st.ok(); ++i) {
    CheckpointChunk c = Decoded(wire_[i]);
    std::string changed(c.data);
    if (i == wire_.size() / 2) changed[changed.size() / 2] ^= 0x20;
    c.data = changed;
    st = receiver_->Take(c);
  }
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(std::string(st.message()).find("does not verify"), std::string::npos) << st;
  EXPECT_NE(std::string(st.message()).find("LSN 31"), std::string::npos) << st;
  EXPECT_FALSE(receiver_->complete());
  EXPECT_TRUE(NothingStaged());
}

TEST_F(ReceiverRefuses, AChunkOutOfOrder) {
  ASSERT_GT(wire_.size(), 2u);
  ASSERT_TRUE(receiver_->Take(Decoded(wire_[0])).ok());
  const absl::Status st = receiver_->Take(Decoded(wire_[2]));
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_TRUE(NothingStaged());
  // And nothing more after that.
  EXPECT_FALSE(receiver_->Take(Decoded(wire_[1])).ok());
}

TEST_F(ReceiverRefuses, AStreamCutShortStagesNothing) {
  for (size_t i = 0; i + 1 < wire_.size(); ++i)
    ASSERT_TRUE(receiver_->Take(Decoded(wire_[i])).ok());
  EXPECT_FALSE(receiver_->complete());
  EXPECT_FALSE(std::filesystem::exists(receiver_->path()));
}

TEST_F(ReceiverRefuses, AnImageOfAnotherLsn) {
  testing::TempDir other;
  auto r = CheckpointReceiver::Open({other.path() + "/staging", 0, core::Lsn(30), image_.size()});
  ASSERT_TRUE(r.ok());
  absl::Status st;
  for (size_t i = 0; i < wire_.size() && st.ok(); ++i) st = (*r)->Take(Decoded(wire_[i]));
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_FALSE(std::filesystem::exists((*r)->path()));
}

}  // namespace
}  // namespace werk::wal
