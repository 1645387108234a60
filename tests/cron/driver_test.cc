// The cron driver (cron/driver.h) in a shard group on a manual clock: each
// tick's job on the shard owning its jid, exactly once; a standby fires
// nothing and a promotion continues from the replicated ledger; a restart
// from a recovered state neither repeats nor skips; a reload takes effect.

#include "cron/driver.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/core/service_group.h"
#include "tests/cron/cron_toml.h"
#include "tests/cron/time_helpers.h"

namespace werk::cron {
namespace {

using core::kNanosPerSecond;
using testing::LoadToml;
using testing::Unix;

constexpr char kEveryMinute[] = "[[cron]]\nschedule = \"* * * * *\"\n[cron.job]\ntype = \"Tick\"\n";

std::shared_ptr<const Table> Load(const std::string& text) {
  absl::StatusOr<Table> t = LoadToml(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::make_shared<const Table>(t.ok() ? std::move(*t) : Table{});
}

class CronDriverTest : public core::ServiceGroupTest {
 protected:
  void SetUp() override {
    ServiceGroupTest::SetUp();
    SetTime("2026-12-01T12:00:30Z");
  }
  void StartDriver(std::shared_ptr<const Table> table) {
    driver_ = std::make_unique<Driver>(&nodes_[0]->runtime, &At(0), core::JobLimits{});
    driver_->SetTable(std::move(table));
    nodes_[0]->runtime.AddParticipant(driver_.get());
  }
  void SetTime(const std::string& rfc3339, int64_t plus_ms = 0) {
    clock_.SetWall(Unix(rfc3339) * kNanosPerSecond + plus_ms * core::kNanosPerMilli);
  }
  uint64_t Id(size_t i = 0) const { return driver_->table()->entries[i].id; }
  // Where the tick's job is: the owner's state holds it (or nullptr).
  const core::Job* TickJob(uint64_t id, int64_t tick) {
    const std::string jid = TickJid(id, tick);
    return nodes_[At(0).OwnerOf(jid)]->partition.state().FindJob(jid);
  }
  // Every job of every shard (the tests push nothing else).
  size_t Jobs() {
    size_t n = 0;
    for (auto& node : nodes_) n += node->partition.state().job_count();
    return n;
  }
  // As a process restart would: the driver is gone (a new one starts over
  // the same, recovered, state).
  void StopDriver() {
    driver_->OnStop();
    stopped_.push_back(std::move(driver_));
  }
  void SetRole(core::Role role) {
    for (auto& n : nodes_) n->partition.set_role(role, "10.0.0.1:7419");
  }

  std::unique_ptr<Driver> driver_;
  std::vector<std::unique_ptr<Driver>> stopped_;  // still participants, stopped
};

TEST_P(CronDriverTest, EachTickIsPushedOnceOnItsOwnerAtItsTime) {
  StartDriver(Load(kEveryMinute));
  Turn();
  ASSERT_TRUE(driver_->active());
  const int64_t t0 = Unix("2026-12-01T12:00:00Z");
  // 100 ticks, the clock moved to each one exactly: every job is queued on
  // its owner within the tick's turn, none late.
  for (int i = 1; i <= 100; ++i) {
    SetTime("2026-12-01T12:00:00Z", int64_t(i) * 60'000 - 1);
    Turn();
    ASSERT_EQ(TickJob(Id(), t0 + i * 60), nullptr) << i;
    SetTime("2026-12-01T12:00:00Z", int64_t(i) * 60'000);
    Turn();
    const core::Job* job = TickJob(Id(), t0 + i * 60);
    ASSERT_NE(job, nullptr) << i;
    EXPECT_EQ(job->jobtype(), "Tick");
    EXPECT_EQ(driver_->scheduler().state(Id())->last_late_ms, 0) << i;
  }
  EXPECT_EQ(Jobs(), 100u);
  std::optional<View> view = driver_->Read();
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->active);
  EXPECT_EQ(view->fired_total, 100u);
  ASSERT_EQ(view->entries.size(), 1u);
  EXPECT_EQ(view->entries[0].last, t0 + 100 * 60);
  EXPECT_EQ(view->entries[0].last_jid, TickJid(Id(), t0 + 100 * 60));
  EXPECT_EQ(view->entries[0].next, t0 + 101 * 60);
}

TEST_P(CronDriverTest, AStandbyFiresNothingAndItsPromotionContinuesFromTheReplicatedLedger) {
  SetRole(core::Role::kStandby);
  StartDriver(Load(kEveryMinute));
  Turn();
  EXPECT_FALSE(driver_->active());
  const int64_t t1 = Unix("2026-12-01T12:01:00Z"), t2 = Unix("2026-12-01T12:02:00Z");
  // The primary's record of 12:01 arrives by the stream (applied as is).
  const uint64_t id = Id();
  core::JobSpec job = driver_->table()->entries[0].job;
  job.jid = TickJid(id, t1);
  job.created_at = "2026-12-01T12:01:00Z";
  const uint32_t owner = At(0).OwnerOf(job.jid);
  ASSERT_TRUE(nodes_[owner]
                  ->partition.state()
                  .Apply(core::Mutation::CronPush(t1 * kNanosPerSecond,
                                                  core::CronPushRecord{id, t1, job}))
                  .ok());
  SetTime("2026-12-01T12:02:00Z");
  Turn();
  EXPECT_EQ(TickJob(id, t2), nullptr);  // the standby does not fire
  // Promoted 20 s after 12:02, whose record never reached it: 12:02 fires
  // (late, within the grace), 12:01 does not fire again.
  SetTime("2026-12-01T12:02:20Z");
  SetRole(core::Role::kPrimary);
  Turn();
  EXPECT_TRUE(driver_->active());
  EXPECT_NE(TickJob(id, t2), nullptr);
  EXPECT_EQ(Jobs(), 2u);
  EXPECT_EQ(driver_->scheduler().state(id)->last_late_ms, 20'000);
}

TEST_P(CronDriverTest, ARestartFromTheRecoveredStateNeitherRepeatsNorSkips) {
  StartDriver(Load(kEveryMinute));
  Turn();
  SetTime("2026-12-01T12:01:00Z");
  Turn();
  const uint64_t id = Id();
  const int64_t t1 = Unix("2026-12-01T12:01:00Z"), t2 = Unix("2026-12-01T12:02:00Z");
  ASSERT_NE(TickJob(id, t1), nullptr);
  // A second driver over the same state, as after a restart at 12:01:00.5:
  // the ledger says 12:01 fired.
  StopDriver();
  SetTime("2026-12-01T12:01:00Z", 500);
  StartDriver(Load(kEveryMinute));
  Turn();
  EXPECT_EQ(Jobs(), 1u);
  EXPECT_EQ(driver_->scheduler().NextDueMs(), t2 * 1000);
  SetTime("2026-12-01T12:02:00Z");
  Turn();
  EXPECT_NE(TickJob(id, t2), nullptr);
  EXPECT_EQ(Jobs(), 2u);
}

TEST_P(CronDriverTest, ATickTheOwnerHasAlreadyCountsAsFiredAndIsNotPushedTwice) {
  StartDriver(Load(kEveryMinute));
  Turn();
  const uint64_t id = Id();
  const int64_t t1 = Unix("2026-12-01T12:01:00Z");
  // The tick's record is on its shard, but the driver never heard (its
  // answer was lost): it pushes again and is refused, and counts it fired.
  core::JobSpec job = driver_->table()->entries[0].job;
  job.jid = TickJid(id, t1);
  job.created_at = "2026-12-01T12:01:00Z";
  ASSERT_TRUE(nodes_[At(0).OwnerOf(job.jid)]->partition.CronPush({id, t1, job}).ok());
  SetTime("2026-12-01T12:01:00Z");
  Turn();
  EXPECT_EQ(Jobs(), 1u);
  EXPECT_EQ(driver_->scheduler().state(id)->last, t1);
  EXPECT_EQ(driver_->Read()->fired_total, 0u);
}

TEST_P(CronDriverTest, AClientJobHoldingATicksJidDelaysTheTickUntilItIsGone) {
  StartDriver(Load(kEveryMinute));
  Turn();
  const uint64_t id = Id();
  const int64_t t1 = Unix("2026-12-01T12:01:00Z");
  const std::string jid = TickJid(id, t1);
  core::Outcome<core::OpStatus> pushed(At(0).Push(Job(jid, "default")));
  Turn();
  ASSERT_TRUE(pushed.has_value() && pushed->ok());
  SetTime("2026-12-01T12:01:00Z");
  Turn();
  // Not fired: the ledger does not have it, and it is tried again.
  auto& owner = nodes_[At(0).OwnerOf(jid)]->partition;
  EXPECT_EQ(owner.state().cron_fired().count(id), 0u);
  EXPECT_EQ(driver_->Read()->failed_total, 1u);
  EXPECT_EQ(TickJob(id, t1)->jobtype(), "T");
  // The client's job is done; the tick fires at the next try, late.
  const core::UnixNanos now = clock_.WallNow();
  ASSERT_TRUE(owner.Commit(core::Mutation::Reserve(now, jid, "w", now + kNanosPerSecond)));
  ASSERT_TRUE(owner.Commit(core::Mutation::Ack(now, jid)));
  SetTime("2026-12-01T12:01:01Z", 500);
  Turn();
  ASSERT_NE(TickJob(id, t1), nullptr);
  EXPECT_EQ(TickJob(id, t1)->jobtype(), "Tick");
  EXPECT_EQ(owner.state().cron_fired().at(id), t1);
}

TEST_P(CronDriverTest, AReloadAddsRemovesAndKeepsEntries) {
  const std::string other =
      "[[cron]]\nschedule = \"*/2 * * * *\"\n[cron.job]\ntype = \"Other\"\n";
  StartDriver(Load(kEveryMinute));
  Turn();
  SetTime("2026-12-01T12:01:00Z");
  Turn();
  const uint64_t every = Id();
  driver_->SetTable(Load(other));
  const uint64_t two = Id();
  SetTime("2026-12-01T12:02:00Z");
  Turn();
  EXPECT_NE(TickJob(two, Unix("2026-12-01T12:02:00Z")), nullptr);
  EXPECT_EQ(TickJob(every, Unix("2026-12-01T12:02:00Z")), nullptr);  // removed
  driver_->SetTable(Load(std::string(kEveryMinute) + other));
  SetTime("2026-12-01T12:03:00Z");
  Turn();
  EXPECT_NE(TickJob(every, Unix("2026-12-01T12:03:00Z")), nullptr);
  EXPECT_EQ(driver_->Read()->entries.size(), 2u);
}

TEST_P(CronDriverTest, AFailedLogStopsTheDriver) {
  StartDriver(Load(kEveryMinute));
  Turn();
  nodes_[0]->journal.FailAtNextCommit();
  SetTime("2026-12-01T12:01:00Z");
  Turn();
  SetTime("2026-12-01T12:02:00Z");
  Turn();
  // Whatever shard 0 appended is never durable; no tick after the failure.
  EXPECT_EQ(TickJob(Id(), Unix("2026-12-01T12:02:00Z")), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Shards, CronDriverTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "shards"; });

}  // namespace
}  // namespace werk::cron
