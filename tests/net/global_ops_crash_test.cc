// A crash in the middle of a global operation: the shard the client sent
// FLUSH or QUEUE REMOVE to applied and logged its part, another shard never
// got to its part. The crash image (the data directory as the disk holds it at that
// instant) restarts with the operation completed on every shard, whether the
// shard count stays or changes.

#include <gtest/gtest.h>

#include <filesystem>

#include "core/time_format.h"
#include "net/repartition.h"
#include "tests/support/shard_harness.h"

namespace werk::net {
namespace {

namespace fs = std::filesystem;
using testing::HarnessClient;
using testing::ShardHarness;

constexpr core::UnixNanos kT0 = 1'795'362'310LL * core::kNanosPerSecond;

std::string Job(const std::string& jid, const std::string& extra = "") {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[])" + extra + "}";
}

class GlobalOpCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-globalop-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ServerOptions Options(const std::string& sub) {
    ServerOptions o;
    o.data_dir = dir_ + "/" + sub;
    o.segment_bytes = 1u << 20;  // the crash image is a copy: keep it small
    return o;
  }

  // Pushes jobs owned by each of the two shards (`extra` for each job).
  static void PushEverywhere(ShardHarness& h, HarnessClient& c, const std::string& extra) {
    int owned[2] = {0, 0};
    for (int i = 0; owned[0] < 5 || owned[1] < 5; ++i) {
      const std::string jid = "job-" + std::to_string(1000 + i);
      ++owned[h.shard().OwnerOf(jid)];
      ASSERT_EQ(c.Call(Job(jid, extra)), "+OK\r\n");
    }
  }

  // Sends `command` to shard 0 and turns only shard 0 until what it logged is
  // durable: shard 1 never runs its part. Then copies the data directory as
  // it is on disk: the crash image.
  void HalfApply(ShardHarness& h, HarnessClient& c, const std::string& command,
                 const std::string& image) {
    c.Send(command + "\r\n");
    wal::Wal& wal = *h.storage(0).wal;
    const uint64_t before = wal.appended_lsn().value();
    for (int i = 0; i < 1000 && (wal.appended_lsn().value() == before ||
                                 wal.durable_lsn() < wal.appended_lsn());
         ++i)
      h.PumpOnly(0);
    ASSERT_GT(wal.appended_lsn().value(), before) << "shard 0 did not log its part";
    ASSERT_EQ(wal.durable_lsn(), wal.appended_lsn());
    fs::copy(dir_ + "/live", dir_ + "/" + image, fs::copy_options::recursive);
  }

  std::string dir_;
};

TEST_F(GlobalOpCrashTest, FlushHalfAppliedIsCompletedAtRestart) {
  {
    ShardHarness h(Options("live"), kT0, 2);
    HarnessClient c = h.Connect(0);
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    PushEverywhere(h, c, "");
    HalfApply(h, c, "FLUSH", "image");
    ASSERT_EQ(h.state(0).job_count(), 0u);
    ASSERT_GT(h.state(1).job_count(), 0u) << "shard 1 ran its part: nothing was tested";
  }
  ShardHarness h(Options("image"), kT0, 2);
  EXPECT_EQ(h.state(0).job_count(), 0u);
  EXPECT_EQ(h.state(1).job_count(), 0u);
  EXPECT_EQ(h.state(0).last_global_ops(), h.state(1).last_global_ops());
  // The origin numbers its next operation after the completed one, and every
  // shard takes it.
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  ASSERT_EQ(c.Call("QUEUE PAUSE critical"), "+OK\r\n");  // no such queue: nothing logged
  ASSERT_EQ(c.Call(Job("after-restart")), "+OK\r\n");
  ASSERT_EQ(c.Call("FLUSH"), "+OK\r\n");
  EXPECT_EQ(h.state(0).last_global_ops().at(0).id, 2u);
  EXPECT_EQ(h.state(0).last_global_ops(), h.state(1).last_global_ops());
  EXPECT_EQ(h.state(0).job_count() + h.state(1).job_count(), 0u);
}

// MUTATE is not a global operation: each shard runs it in slices of its own
// (net/shard_slices.cc), each slice one record, as Faktory's MUTATE is a scan
// and not one instant. A crash part way leaves what the logged slices did
// and nothing else; the client had no reply, and running it again finishes it.
TEST_F(GlobalOpCrashTest, MutateInterruptedByACrashFinishesWhenRepeated) {
  const std::string at = core::FormatRfc3339Nano(kT0 + 3600 * core::kNanosPerSecond);
  const std::string kill = R"(MUTATE {"cmd":"kill","target":"scheduled"})";
  {
    ShardHarness h(Options("live"), kT0, 2);
    HarnessClient c = h.Connect(0);
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    PushEverywhere(h, c, R"(,"at":")" + at + R"(")");
    HalfApply(h, c, kill, "image");
    ASSERT_EQ(h.state(0).scheduled_size(), 0u);
    ASSERT_GT(h.state(1).scheduled_size(), 0u);
  }
  ShardHarness h(Options("image"), kT0, 2);
  EXPECT_EQ(h.state(0).scheduled_size(), 0u);
  EXPECT_EQ(h.state(0).dead_size(), h.state(0).job_count());
  EXPECT_GT(h.state(1).scheduled_size(), 0u);
  EXPECT_EQ(h.state(1).dead_size(), 0u);
  HarnessClient c = h.Connect(0);
  ASSERT_EQ(c.Hello(), "+OK\r\n");
  ASSERT_EQ(c.Call(kill), "+OK\r\n");
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(h.state(i).scheduled_size(), 0u) << "shard " << i;
    EXPECT_EQ(h.state(i).dead_size(), h.state(i).job_count()) << "shard " << i;
    EXPECT_GT(h.state(i).dead_size(), 0u) << "shard " << i;
  }
}

TEST_F(GlobalOpCrashTest, HalfAppliedOperationIsCompletedBeforeRepartitioning) {
  size_t jobs = 0;
  {
    ShardHarness h(Options("live"), kT0, 2);
    HarnessClient c = h.Connect(0);
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    PushEverywhere(h, c, R"(,"queue":"q")");
    jobs = h.state(0).job_count() + h.state(1).job_count();
    HalfApply(h, c, "QUEUE REMOVE q", "image");
    ASSERT_EQ(h.state(0).job_count(), 0u);
    ASSERT_GT(h.state(1).job_count(), 0u);
  }
  ASSERT_GT(jobs, 0u);
  core::ManualClock clock(kT0);
  std::vector<std::string> notes;
  const absl::Status st = RepartitionLog(Options("image"), clock, 2, 3, &notes);
  ASSERT_TRUE(st.ok()) << st;
  bool said = false;
  for (const auto& n : notes) said |= n.find("global operation") != std::string::npos;
  EXPECT_TRUE(said);
  ShardHarness h(Options("image"), kT0, 3);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(h.state(i).job_count(), 0u) << "shard " << i;
}

}  // namespace
}  // namespace werk::net
