// The scheduler's decisions (cron/scheduler.h) on a clock the test moves:
// each tick once, restarts on either side of a tick's record, missed ticks
// under both policies, failed pushes, reloads.

#include "cron/scheduler.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/cron/cron_toml.h"
#include "tests/cron/time_helpers.h"

namespace werk::cron {
namespace {

using testing::LoadToml;
using testing::ShowUtc;
using testing::Unix;

std::shared_ptr<const Table> Load(const std::string& text) {
  absl::StatusOr<Table> t = LoadToml(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::make_shared<const Table>(t.ok() ? std::move(*t) : Table{});
}

std::string Entry(const std::string& schedule, const std::string& extra = "") {
  return "[[cron]]\nschedule = \"" + schedule + "\"\n" + extra + "[cron.job]\ntype = \"T\"\n";
}

int64_t Ms(const std::string& rfc3339, int64_t plus_ms = 0) {
  return Unix(rfc3339) * 1000 + plus_ms;
}

class SchedulerTest : public ::testing::Test {
 protected:
  // Fires what is due at `now_ms` and says the pushes were durable.
  std::vector<int64_t> Run(int64_t now_ms) {
    std::vector<int64_t> ticks;
    for (const Scheduler::Fire& f : s_.Due(now_ms, &missed_)) {
      EXPECT_EQ(f.jid, TickJid(f.entry_id, f.tick));
      EXPECT_EQ(f.late_ms, now_ms - f.tick * 1000);
      ticks.push_back(f.tick);
      s_.Fired(f.entry_id, f.tick, f.jid, f.late_ms);
    }
    return ticks;
  }
  uint64_t Id(size_t i = 0) const { return s_.table()->entries[i].id; }

  Scheduler s_;
  std::vector<Scheduler::Miss> missed_;
};

TEST_F(SchedulerTest, AnEntryFiresEachTickOnceAndAtItsTime) {
  s_.Start(Load(Entry("* * * * *")), {}, Ms("2026-12-01T12:00:30Z"));
  ASSERT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:01:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:00:59Z", 999)).empty());
  std::vector<Scheduler::Fire> fires = s_.Due(Ms("2026-12-01T12:01:00Z"));
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].tick, Unix("2026-12-01T12:01:00Z"));
  EXPECT_EQ(fires[0].late_ms, 0);
  // In flight: not again, and nothing else due until it is done.
  EXPECT_TRUE(s_.Due(Ms("2026-12-01T12:01:30Z")).empty());
  EXPECT_FALSE(s_.NextDueMs());
  s_.Fired(fires[0].entry_id, fires[0].tick, fires[0].jid, 0);
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:02:00Z"));
  EXPECT_EQ(s_.state(Id())->last, Unix("2026-12-01T12:01:00Z"));
  EXPECT_EQ(s_.state(Id())->last_jid, TickJid(Id(), Unix("2026-12-01T12:01:00Z")));
}

TEST_F(SchedulerTest, HundredTicksOnAManualClockAreEachOnTime) {
  s_.Start(Load(Entry("* * * * *")), {}, Ms("2026-12-01T12:00:00Z", 1));
  for (int i = 1; i <= 100; ++i) {
    ASSERT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:00:00Z") + i * 60'000);
    EXPECT_EQ(Run(*s_.NextDueMs()), std::vector<int64_t>{Unix("2026-12-01T12:00:00Z") + i * 60});
    EXPECT_EQ(s_.state(Id())->last_late_ms, 0);
  }
  EXPECT_EQ(s_.state(Id())->fired, 100u);
  EXPECT_EQ(s_.missed_total(), 0u);
}

TEST_F(SchedulerTest, ARestartRightAfterATickDoesNotFireItAgain) {
  auto table = Load(Entry("* * * * *"));
  const uint64_t id = table->entries[0].id;
  // The log says 12:01 fired; the server is back at 12:01:00.400.
  s_.Start(table, {{id, Unix("2026-12-01T12:01:00Z")}}, Ms("2026-12-01T12:01:00Z", 400));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:01:00Z", 400)).empty());
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:02:00Z"));
}

TEST_F(SchedulerTest, ATickWhoseRecordWasLostFiresLateWithinTheGrace) {
  auto table = Load(Entry("* * * * *"));
  const uint64_t id = table->entries[0].id;
  // The record of 12:01 was not durable: the log ends at 12:00.
  s_.Start(table, {{id, Unix("2026-12-01T12:00:00Z")}}, Ms("2026-12-01T12:01:20Z"));
  EXPECT_EQ(Run(Ms("2026-12-01T12:01:20Z")),
            std::vector<int64_t>{Unix("2026-12-01T12:01:00Z")});
  EXPECT_EQ(s_.state(id)->last_late_ms, 20'000);
  EXPECT_TRUE(missed_.empty());
}

TEST_F(SchedulerTest, OnlyTheLatestOfSeveralMissedTicksFiresWithinTheGrace) {
  auto table = Load(Entry("* * * * *", "catch_up = \"skip\"\n"));
  const uint64_t id = table->entries[0].id;
  s_.Start(table, {{id, Unix("2026-12-01T12:00:00Z")}}, Ms("2026-12-01T12:10:30Z"));
  EXPECT_EQ(Run(Ms("2026-12-01T12:10:30Z")),
            std::vector<int64_t>{Unix("2026-12-01T12:10:00Z")});
  ASSERT_EQ(missed_.size(), 1u);
  EXPECT_EQ(missed_[0].count, 9u);  // 12:01 .. 12:09
  EXPECT_EQ(ShowUtc(missed_[0].latest), "2026-12-01T12:09:00Z");
  EXPECT_EQ(s_.state(id)->missed, 9u);
}

TEST_F(SchedulerTest, SkipFiresNoTickLaterThanTheGrace) {
  auto table = Load(Entry("0 * * * *", "catch_up = \"skip\"\ngrace = 120\n"));
  const uint64_t id = table->entries[0].id;
  s_.Start(table, {{id, Unix("2026-12-01T10:00:00Z")}}, Ms("2026-12-01T12:30:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:30:00Z")).empty());
  ASSERT_EQ(missed_.size(), 1u);
  EXPECT_EQ(missed_[0].count, 2u);  // 11:00 and 12:00
  EXPECT_EQ(ShowUtc(missed_[0].latest), "2026-12-01T12:00:00Z");
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T13:00:00Z"));
  EXPECT_EQ(Run(Ms("2026-12-01T13:00:00Z", 5)), std::vector<int64_t>{Unix("2026-12-01T13:00:00Z")});
}

TEST_F(SchedulerTest, OnceFiresTheLatestMissedTickOnceLate) {
  auto table = Load(Entry("0 * * * *", "catch_up = \"once\"\n"));
  const uint64_t id = table->entries[0].id;
  s_.Start(table, {{id, Unix("2026-12-01T10:00:00Z")}}, Ms("2026-12-01T12:30:00Z"));
  EXPECT_EQ(Run(Ms("2026-12-01T12:30:00Z")), std::vector<int64_t>{Unix("2026-12-01T12:00:00Z")});
  ASSERT_EQ(missed_.size(), 1u);
  EXPECT_EQ(missed_[0].count, 1u);  // 11:00; 12:00 fired
  EXPECT_EQ(s_.state(id)->last_late_ms, 30 * 60'000);
  // Never a burst: nothing more until 13:00.
  EXPECT_TRUE(Run(Ms("2026-12-01T12:59:59Z")).empty());
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T13:00:00Z"));
}

TEST_F(SchedulerTest, AnEntryThatNeverFiredStartsAtItsFirstTickAfterNow) {
  s_.Start(Load(Entry("0 * * * *", "catch_up = \"once\"\n")), {}, Ms("2026-12-01T12:30:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:30:00Z")).empty());
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T13:00:00Z"));
}

TEST_F(SchedulerTest, ANeverFiredEntryOfAPromotedStandbyCountsTicksSinceItWasLoaded) {
  auto table = Load(Entry("* * * * *"));
  const uint64_t id = table->entries[0].id;
  // Loaded at 12:00:30 on the standby; the primary never fired 12:01 (or
  // its record never arrived); promoted at 12:01:20.
  s_.Start(table, {}, Ms("2026-12-01T12:01:20Z"), {{id, Ms("2026-12-01T12:00:30Z")}});
  EXPECT_EQ(Run(Ms("2026-12-01T12:01:20Z")), std::vector<int64_t>{Unix("2026-12-01T12:01:00Z")});
  // An hourly entry promoted long after its ticks: the policy decides
  // (skip: nothing fires, the ticks are reported).
  auto hourly = Load(Entry("0 * * * *"));
  Scheduler later;
  later.Start(hourly, {}, Ms("2026-12-01T15:30:00Z"),
              {{hourly->entries[0].id, Ms("2026-12-01T12:00:30Z")}});
  std::vector<Scheduler::Miss> missed;
  EXPECT_TRUE(later.Due(Ms("2026-12-01T15:30:00Z"), &missed).empty());
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].count, 3u);  // 13:00, 14:00, 15:00
}

TEST_F(SchedulerTest, AFailedPushIsTriedAgainLaterAndStillFiresOnce) {
  s_.Start(Load(Entry("* * * * *")), {}, Ms("2026-12-01T12:00:30Z"));
  std::vector<Scheduler::Fire> fires = s_.Due(Ms("2026-12-01T12:01:00Z"));
  ASSERT_EQ(fires.size(), 1u);
  s_.Failed(fires[0].entry_id, fires[0].tick, Ms("2026-12-01T12:01:01Z"));
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:01:01Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:01:00Z", 500)).empty());
  EXPECT_EQ(Run(Ms("2026-12-01T12:01:01Z")), std::vector<int64_t>{Unix("2026-12-01T12:01:00Z")});
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:02:00Z"));
}

TEST_F(SchedulerTest, AReloadKeepsEntriesThatStayAndStartsNewOnesAfterNow) {
  const std::string kept = Entry("*/5 * * * *");
  s_.Start(Load(kept + Entry("0 0 * * *")), {}, Ms("2026-12-01T12:00:30Z"));
  const uint64_t kept_id = Id(0), removed_id = Id(1);
  EXPECT_EQ(Run(Ms("2026-12-01T12:05:00Z")), std::vector<int64_t>{Unix("2026-12-01T12:05:00Z")});
  // Reordered, one removed, one added.
  s_.Replace(Load(Entry("30 * * * *") + kept), Ms("2026-12-01T12:06:00Z"));
  ASSERT_EQ(s_.table()->entries.size(), 2u);
  EXPECT_EQ(Id(1), kept_id);
  EXPECT_EQ(s_.state(kept_id)->last, Unix("2026-12-01T12:05:00Z"));
  EXPECT_EQ(s_.state(removed_id), nullptr);
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:10:00Z"));
  EXPECT_EQ(Run(Ms("2026-12-01T12:30:00Z")),
            (std::vector<int64_t>{Unix("2026-12-01T12:30:00Z"), Unix("2026-12-01T12:30:00Z")}));
}

TEST_F(SchedulerTest, ANamedEntryWithANewScheduleKeepsItsHistoryButStartsAfterNow) {
  s_.Start(Load(Entry("0 * * * *", "name = \"report\"\n")), {}, Ms("2026-12-01T11:59:00Z"));
  const uint64_t id = Id();
  EXPECT_EQ(Run(Ms("2026-12-01T12:00:00Z")), std::vector<int64_t>{Unix("2026-12-01T12:00:00Z")});
  s_.Replace(Load(Entry("*/10 * * * *", "name = \"report\"\n")), Ms("2026-12-01T12:21:00Z"));
  EXPECT_EQ(Id(), id);
  EXPECT_EQ(s_.state(id)->last, Unix("2026-12-01T12:00:00Z"));
  // 12:10 and 12:20 were never ticks of the table in use: not missed.
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:30:00Z"));
  EXPECT_EQ(s_.missed_total(), 0u);
}

TEST_F(SchedulerTest, ANewScheduleStillStartsAfterTheReloadAtTheNextStart) {
  const std::string named = "name = \"report\"\ncatch_up = \"once\"\n";
  auto table = Load(Entry("0 0 1 * *", named));
  const uint64_t id = table->entries[0].id;
  s_.Start(table, {{id, Unix("2026-12-01T00:00:00Z")}}, Ms("2026-12-02T12:00:00Z"));
  // Wednesday the 2nd: the schedule becomes Mondays at 06:00.
  s_.Replace(Load(Entry("0 6 * * 1", named)), Ms("2026-12-02T12:00:00Z"));
  // The server stops writing and starts again (a refusal lifted, a
  // promotion) on Thursday: Monday the 30th of November, before the
  // reload, is not a tick of this entry.
  s_.Start(Load(Entry("0 6 * * 1", named)), {{id, Unix("2026-12-01T00:00:00Z")}},
           Ms("2026-12-03T12:00:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-03T12:00:00Z")).empty());
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-07T06:00:00Z"));
  EXPECT_TRUE(missed_.empty());
}

TEST_F(SchedulerTest, MissedTicksAreCountedOnce) {
  auto table = Load(Entry("0 * * * *", "catch_up = \"skip\"\n"));
  const uint64_t id = table->entries[0].id;
  s_.Start(table, {{id, Unix("2026-12-01T10:00:00Z")}}, Ms("2026-12-01T12:30:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:30:00Z")).empty());
  EXPECT_EQ(s_.state(id)->missed, 2u);
  // A later start (the ledger still says 10:00) does not count them again.
  s_.Start(table, {{id, Unix("2026-12-01T10:00:00Z")}}, Ms("2026-12-01T12:40:00Z"));
  EXPECT_TRUE(Run(Ms("2026-12-01T12:40:00Z")).empty());
  EXPECT_EQ(s_.state(id)->missed, 2u);
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T13:00:00Z"));
  // A push that fails and is tried again does not count the ticks before
  // it again either.
  Scheduler other;
  auto every = Load(Entry("* * * * *"));
  const uint64_t e = every->entries[0].id;
  other.Start(every, {{e, Unix("2026-12-01T12:00:00Z")}}, Ms("2026-12-01T12:05:10Z"));
  std::vector<Scheduler::Fire> fires = other.Due(Ms("2026-12-01T12:05:10Z"));
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(other.state(e)->missed, 4u);  // 12:01 .. 12:04
  other.Failed(e, fires[0].tick, Ms("2026-12-01T12:05:11Z"));
  fires = other.Due(Ms("2026-12-01T12:05:11Z"));
  ASSERT_EQ(fires.size(), 1u);
  EXPECT_EQ(fires[0].tick, Unix("2026-12-01T12:05:00Z"));
  EXPECT_EQ(other.state(e)->missed, 4u);
}

TEST_F(SchedulerTest, AScheduleChangedWhileATickIsInFlightStartsAfterTheReload) {
  const std::string named = "name = \"report\"\ncatch_up = \"once\"\n";
  s_.Start(Load(Entry("0 * * * *", named)), {}, Ms("2026-12-01T11:59:00Z"));
  const uint64_t id = Id();
  std::vector<Scheduler::Fire> fires = s_.Due(Ms("2026-12-01T12:00:00Z"));
  ASSERT_EQ(fires.size(), 1u);
  s_.Replace(Load(Entry("*/10 * * * *", named)), Ms("2026-12-01T12:21:00Z"));
  s_.Fired(id, fires[0].tick, fires[0].jid, 0);
  EXPECT_EQ(s_.NextDueMs(), Ms("2026-12-01T12:30:00Z"));
}

TEST_F(SchedulerTest, AResultForAnEntryRemovedMeanwhileIsIgnored) {
  s_.Start(Load(Entry("* * * * *")), {}, Ms("2026-12-01T12:00:30Z"));
  std::vector<Scheduler::Fire> fires = s_.Due(Ms("2026-12-01T12:01:00Z"));
  ASSERT_EQ(fires.size(), 1u);
  s_.Replace(Load(""), Ms("2026-12-01T12:01:00Z", 10));
  s_.Fired(fires[0].entry_id, fires[0].tick, fires[0].jid, 10);
  EXPECT_FALSE(s_.NextDueMs());
}

}  // namespace
}  // namespace werk::cron
