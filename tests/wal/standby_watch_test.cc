#include "wal/standby_watch.h"

#include <gtest/gtest.h>

namespace werk::wal {
namespace {

using Action = StandbyWatch::Action;
using State = StandbyWatch::State;
using core::Lsn;

TEST(StandbyWatchTest, NothingWaitingNeverTimesOut) {
  StandbyWatch w(StandbyPolicy::kRequired, 1000);
  for (int64_t t = 0; t < 10'000; t += 100)
    EXPECT_EQ(w.Observe(t, Lsn(5), Lsn(5), /*linked=*/true), Action::kNone);
  EXPECT_EQ(w.state(), State::kWaiting);
  EXPECT_EQ(w.deadline_ms(), -1);
}

TEST(StandbyWatchTest, RequiredRefusesOnceTheOldestWaitingRecordIsOld) {
  StandbyWatch w(StandbyPolicy::kRequired, 1000);
  EXPECT_EQ(w.Observe(0, Lsn(10), Lsn(10), true), Action::kNone);
  EXPECT_EQ(w.Observe(100, Lsn(11), Lsn(10), true), Action::kNone);  // 11 waits since 100
  EXPECT_EQ(w.deadline_ms(), 1100);
  EXPECT_EQ(w.Observe(1099, Lsn(11), Lsn(10), true), Action::kNone);
  EXPECT_EQ(w.Observe(1100, Lsn(11), Lsn(10), true), Action::kRefuse);
  EXPECT_EQ(w.state(), State::kRefusing);
  // Still linked but not past what timed out (a stalled link not given up
  // yet): it stays refused, however small the gap.
  EXPECT_EQ(w.Observe(5000, Lsn(12), Lsn(10), true), Action::kNone);
  EXPECT_EQ(w.Observe(5001, Lsn(12), Lsn(11), true), Action::kResume);
}

TEST(StandbyWatchTest, AStandbyThatAcknowledgesSlowlyIsTimedByItsOldestWaitingRecord) {
  StandbyWatch w(StandbyPolicy::kRequired, 1000);
  // A record a millisecond, acknowledged 900 ms late: never a timeout.
  for (int64_t t = 1; t < 5000; ++t)
    ASSERT_EQ(w.Observe(t, Lsn(t), Lsn(t > 900 ? t - 900 : 0), true), Action::kNone) << t;
  // Acknowledgements still come, but 1000 ms late: the oldest waiting record
  // reaches the timeout although the standby acknowledged something this turn.
  StandbyWatch slow(StandbyPolicy::kRequired, 1000);
  Action last = Action::kNone;
  int64_t t = 1;
  for (; t < 5000 && last == Action::kNone; ++t)
    last = slow.Observe(t, Lsn(t), Lsn(t > 1000 ? t - 1001 : 0), true);
  EXPECT_EQ(last, Action::kRefuse);
  EXPECT_EQ(t - 1, 1001);
}

TEST(StandbyWatchTest, RequiredResumesWhenTheStandbyIsLinkedAndCaughtUp) {
  StandbyWatch w(StandbyPolicy::kRequired, 100);
  w.Observe(0, Lsn(1000), Lsn(0), false);
  ASSERT_EQ(w.Observe(100, Lsn(1000), Lsn(0), false), Action::kRefuse);
  // Caught up but not linked (the acknowledgement is old news): no.
  EXPECT_EQ(w.Observe(200, Lsn(1000), Lsn(1000), false), Action::kNone);
  // Linked but far behind: no.
  EXPECT_EQ(w.Observe(300, Lsn(1000), Lsn(1), true), Action::kNone);
  // Past what timed out, but the log went on and the standby is further
  // behind its end than the slack: no.
  const uint64_t end = 1000 + StandbyWatch::kCatchUpSlack + 1;
  EXPECT_EQ(w.Observe(350, Lsn(end), Lsn(1000), true), Action::kNone);
  // Within the slack: yes, and what remains waits again.
  EXPECT_EQ(w.Observe(400, Lsn(end), Lsn(1001), true), Action::kResume);
  EXPECT_EQ(w.state(), State::kWaiting);
  EXPECT_EQ(w.waiting_since_ms(), 400);
  EXPECT_EQ(w.Observe(499, Lsn(end), Lsn(1001), true), Action::kNone);
  EXPECT_EQ(w.Observe(500, Lsn(end), Lsn(1001), true), Action::kRefuse);
}

TEST(StandbyWatchTest, DegradeGoesAloneThenBack) {
  StandbyWatch w(StandbyPolicy::kDegrade, 100);
  w.Observe(0, Lsn(7), Lsn(3), true);
  EXPECT_EQ(w.Observe(100, Lsn(7), Lsn(3), false), Action::kGoAlone);
  EXPECT_EQ(w.state(), State::kAlone);
  EXPECT_EQ(w.deadline_ms(), -1);
  EXPECT_EQ(w.Observe(5000, Lsn(90'000), Lsn(3), true), Action::kNone);
  EXPECT_EQ(w.Observe(5100, Lsn(90'000), Lsn(90'000), true), Action::kResume);
  EXPECT_EQ(w.waiting_since_ms(), -1);
}

TEST(StandbyWatchTest, StartsAloneWhenToldTo) {
  StandbyWatch w(StandbyPolicy::kRequired, 100, State::kAlone);
  EXPECT_EQ(w.Observe(0, Lsn(5), Lsn(0), false), Action::kNone);
  EXPECT_EQ(w.Observe(10, Lsn(5), Lsn(5), true), Action::kResume);
}

TEST(StandbyWatchTest, MarksAreOnePerMillisecond) {
  StandbyWatch w(StandbyPolicy::kRequired, 1'000'000);
  for (uint64_t i = 1; i <= 10'000; ++i) w.Observe(int64_t(i / 100), Lsn(i), Lsn(0), true);
  // Records made durable within one millisecond share one mark: the oldest
  // waits since 0 whatever came after it in that millisecond.
  EXPECT_EQ(w.waiting_since_ms(), 0);
  // Once the standby has those, the next millisecond's are the oldest.
  EXPECT_EQ(w.Observe(1'000'000, Lsn(10'000), Lsn(99), true), Action::kNone);
  EXPECT_EQ(w.waiting_since_ms(), 1);
  EXPECT_EQ(w.Observe(1'000'001, Lsn(10'000), Lsn(99), true), Action::kRefuse);
}

}  // namespace
}  // namespace werk::wal
