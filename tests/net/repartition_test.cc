// Changing the shard count between restarts: the state of M shards on the
// real write-ahead log becomes the state of N, every job on its new owner,
// and a crash at any step of the switch leaves one whole layout or the other.

#include "net/repartition.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/ownership.h"
#include "core/time_format.h"
#include "net/shard_storage.h"
#include "tests/support/shard_harness.h"

namespace werk::net {
namespace {

namespace fs = std::filesystem;
using testing::BulkBody;
using testing::HarnessClient;
using testing::ShardHarness;

constexpr core::UnixNanos kT0 = 1'795'362'310LL * core::kNanosPerSecond;
constexpr int64_t kSec = core::kNanosPerSecond;

std::string Job(const std::string& jid, const std::string& extra = "") {
  return R"(PUSH {"jid":")" + jid + R"(","jobtype":"T","args":[])" + extra + "}";
}

// What must not change when the shard count does: sums over shards.
struct Totals {
  size_t jobs = 0, queued = 0, scheduled = 0, retries = 0, dead = 0, reserved = 0;
  int64_t processed = 0, failures = 0;
  bool operator==(const Totals&) const = default;
};

Totals Sum(ShardHarness& h) {
  Totals t;
  for (uint32_t i = 0; i < h.shard_count(); ++i) {
    const auto& sm = h.state(i);
    t.jobs += sm.job_count();
    t.queued += sm.queued_total();
    t.scheduled += sm.scheduled_size();
    t.retries += sm.retries_size();
    t.dead += sm.dead_size();
    t.reserved += sm.reserved_size();
    t.processed += sm.total_processed();
    t.failures += sm.total_failures();
  }
  return t;
}

class RepartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/werk-repartition-XXXXXX";
    options_.data_dir = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(options_.data_dir); }

  std::unique_ptr<ShardHarness> Start(uint32_t shards, core::UnixNanos wall = kT0) {
    return std::make_unique<ShardHarness>(options_, wall, shards);
  }
  absl::Status Repartition(uint32_t from, uint32_t to) {
    core::ManualClock clock(kT0);
    std::vector<std::string> notes;
    return RepartitionLog(options_, clock, from, to, &notes);
  }

  // Two shards' worth of every kind of state; returns the totals.
  Totals Populate() {
    auto h = Start(2);
    HarnessClient c = h->Connect(0);
    EXPECT_EQ(c.Hello(R"({"v":2,"wid":"w1"})"), "+OK\r\n");
    const std::string at = core::FormatRfc3339Nano(kT0 + 3600 * kSec);
    for (int i = 0; i < 40; ++i) {
      const std::string n = std::to_string(1000 + i);
      EXPECT_EQ(c.Call(Job("queued-" + n, i % 2 ? R"(,"queue":"a")" : R"(,"queue":"p")")),
                "+OK\r\n");
      EXPECT_EQ(c.Call(Job("sched-" + n, R"(,"at":")" + at + "\"")), "+OK\r\n");
    }
    EXPECT_EQ(c.Call("QUEUE PAUSE p"), "+OK\r\n");
    for (int i = 0; i < 6; ++i) {
      const std::string jid = "work-" + std::to_string(1000 + i);
      EXPECT_EQ(c.Call(Job(jid, R"(,"queue":"w","reserve_for":600,"retry":1)")), "+OK\r\n");
      EXPECT_NE(c.Call("FETCH w").find(jid), std::string::npos);
      if (i == 0) {
        EXPECT_EQ(c.Call(R"(ACK {"jid":")" + jid + "\"}"), "+OK\r\n");
      } else if (i == 1) {
        EXPECT_EQ(c.Call(R"(FAIL {"jid":")" + jid + "\"}"), "+OK\r\n");
      }
    }
    EXPECT_EQ(c.Call(R"(BEAT {"wid":"w1","current_state":"quiet"})"),
              "$17\r\n{\"state\":\"quiet\"}\r\n");
    Totals t = Sum(*h);
    EXPECT_EQ(t.jobs, 85u);
    EXPECT_EQ(t.reserved, 4u);
    EXPECT_EQ(t.retries, 1u);
    return t;
  }

  // Every job sits on its owner; the pause and the worker state carried over.
  void ExpectLaidOut(ShardHarness& h) {
    const uint32_t n = h.shard_count();
    for (uint32_t i = 0; i < n; ++i) {
      const auto& sm = h.state(i);
      for (const char* set : {"a", "p", "w"}) {
        const core::Queue* q = sm.FindQueue(set);
        ASSERT_NE(q, nullptr) << set << " on shard " << i;
        EXPECT_EQ(q->paused(), std::string(set) == "p");
        for (const core::Job* j = q->Front(); j; j = q->Next(j))
          EXPECT_EQ(core::ShardOf(j->jid(), n), i) << j->jid();
      }
      EXPECT_EQ(sm.worker_state("w1"), core::ShardOf("w1", n) == i ? core::WorkerState::kQuiet
                                                                   : core::WorkerState::kRunning);
    }
  }

  ServerOptions options_;
};

TEST_F(RepartitionTest, GrowAndShrinkKeepEveryJob) {
  const Totals before = Populate();
  ASSERT_TRUE(Repartition(2, 3).ok());
  EXPECT_EQ(CountShardDirs(options_.data_dir), 3u);
  {
    auto h = Start(3);
    EXPECT_EQ(Sum(*h), before);
    ExpectLaidOut(*h);
    // A reservation taken before is still honoured, wherever it landed.
    HarnessClient c = h->Connect(2);
    ASSERT_EQ(c.Hello(), "+OK\r\n");
    EXPECT_EQ(c.Call(R"(ACK {"jid":"work-1002"})"), "+OK\r\n");
    EXPECT_EQ(Sum(*h).reserved, 3u);
  }
  ASSERT_TRUE(Repartition(3, 1).ok());
  EXPECT_EQ(CountShardDirs(options_.data_dir), 1u);
  auto h = Start(1);
  Totals after = before;
  after.jobs -= 1;
  after.reserved -= 1;
  after.processed += 1;
  EXPECT_EQ(Sum(*h), after);
  ExpectLaidOut(*h);
  // Reservations still expire on time: 600 s after they were taken.
  h->Advance(601'000);
  EXPECT_EQ(h->state().reserved_size(), 0u);
}

// The layouts a crash can leave behind, built from a finished run: the
// next start must end with one whole layout, never a mix.
TEST_F(RepartitionTest, InterruptedSwitchEndsInOneWholeLayout) {
  const Totals before = Populate();
  const std::string dir = options_.data_dir;
  const std::string old_copy = dir + ".old-layout";
  fs::copy(dir + "/wal", old_copy, fs::copy_options::recursive);
  ASSERT_TRUE(Repartition(2, 3).ok());
  const std::string new_copy = dir + ".new-layout";
  fs::copy(dir + "/wal", new_copy, fs::copy_options::recursive);
  auto reset = [&](bool wal_old, bool wal_next_complete, bool wal_next_partial, bool wal_is_new) {
    fs::remove_all(dir + "/wal");
    fs::remove_all(dir + "/wal.new");
    fs::remove_all(dir + "/wal.old");
    fs::copy(wal_is_new ? new_copy : old_copy, dir + "/wal", fs::copy_options::recursive);
    if (wal_old) fs::copy(old_copy, dir + "/wal.old", fs::copy_options::recursive);
    if (wal_next_complete || wal_next_partial) {
      fs::copy(new_copy, dir + "/wal.new", fs::copy_options::recursive);
      if (wal_next_complete) std::ofstream(dir + "/wal.new/COMPLETE");
      if (wal_next_partial) fs::remove_all(dir + "/wal.new/shard-002");
    }
  };
  struct Case {
    const char* what;
    bool wal_old, next_complete, next_partial, wal_is_new;
    uint32_t shards_after;
  };
  for (const Case& k : {
           Case{"crash while writing wal.new", false, false, true, false, 2},
           Case{"crash before COMPLETE", false, false, false, false, 2},
           Case{"crash after COMPLETE", false, true, false, false, 3},
           Case{"crash between the renames", false, true, false, false, 3},
           Case{"crash before removing wal.old", true, false, false, true, 3},
       }) {
    SCOPED_TRACE(k.what);
    reset(k.wal_old, k.next_complete, k.next_partial, k.wal_is_new);
    if (std::string(k.what) == "crash between the renames") {
      fs::rename(dir + "/wal", dir + "/wal.old");
    }
    std::vector<std::string> notes;
    ASSERT_TRUE(FinishLayoutSwitch(dir, &notes).ok());
    EXPECT_FALSE(fs::exists(dir + "/wal.new"));
    EXPECT_FALSE(fs::exists(dir + "/wal.old"));
    ASSERT_EQ(CountShardDirs(dir), k.shards_after);
    auto h = Start(k.shards_after);
    EXPECT_EQ(Sum(*h), before);
    ExpectLaidOut(*h);
  }
  fs::remove_all(old_copy);
  fs::remove_all(new_copy);
}

}  // namespace
}  // namespace werk::net
