// Schedules across daylight-saving transitions (schedule.h): a skipped
// minute fires at the transition, once however many skipped minutes land
// there; a repeated minute fires once, at its first occurrence; the ticks
// are strictly increasing instants even when the walk starts inside the
// repeated hour's second pass.
//
// 2026 transitions: America/Chicago 2:00 → 3:00 on Mar 8 and 2:00 → 1:00 on
// Nov 1; Europe/Berlin 2:00 → 3:00 on Mar 29 and 3:00 → 2:00 on Oct 25;
// Australia/Sydney 3:00 → 2:00 on Apr 5 and 2:00 → 3:00 on Oct 4.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cron/schedule.h"
#include "tests/cron/time_helpers.h"

namespace werk::cron {
namespace {

using testing::ShowIn;
using testing::Unix;

// The first `n` ticks after `from`, shown in the zone with their offsets;
// each one also checked to be its own LatestAtOrBefore.
std::vector<std::string> Ticks(const char* expr, const std::string& zone, const char* from,
                               int n) {
  absl::StatusOr<Schedule> s = Schedule::Parse(expr, zone);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return {};
  std::vector<std::string> out;
  int64_t t = Unix(from);
  for (int i = 0; i < n; ++i) {
    std::optional<int64_t> next = s->NextAfter(t);
    if (!next) break;
    EXPECT_GT(*next, t);
    EXPECT_EQ(s->LatestAtOrBefore(*next), next) << expr << " " << zone;
    out.push_back(ShowIn(next, zone));
    t = *next;
  }
  return out;
}

std::string Latest(const char* expr, const std::string& zone, const char* at) {
  absl::StatusOr<Schedule> s = Schedule::Parse(expr, zone);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? ShowIn(s->LatestAtOrBefore(Unix(at)), zone) : "";
}

using V = std::vector<std::string>;

TEST(ScheduleDst, ChicagoSpringForwardFiresASkippedMinuteAtTheTransition) {
  EXPECT_EQ(Ticks("30 2 * * *", "America/Chicago", "2026-03-07T00:00:00-06:00", 3),
            (V{"2026-03-07T02:30:00-06:00", "2026-03-08T03:00:00-05:00",
               "2026-03-09T02:30:00-05:00"}));
  // 2:00, 2:15, 2:30, 2:45 and 3:00 are one instant: one tick.
  EXPECT_EQ(Ticks("*/15 * * * *", "America/Chicago", "2026-03-08T01:40:00-06:00", 3),
            (V{"2026-03-08T01:45:00-06:00", "2026-03-08T03:00:00-05:00",
               "2026-03-08T03:15:00-05:00"}));
  // Only the skipped minutes match: still one tick, at the transition.
  EXPECT_EQ(Ticks("*/15 2 8 3 *", "America/Chicago", "2026-03-01T00:00:00-06:00", 2),
            (V{"2026-03-08T03:00:00-05:00", "2027-03-08T02:00:00-06:00"}));
  EXPECT_EQ(Latest("30 2 * * *", "America/Chicago", "2026-03-08T03:10:00-05:00"),
            "2026-03-08T03:00:00-05:00");
  EXPECT_EQ(Latest("30 2 * * *", "America/Chicago", "2026-03-08T01:59:59-06:00"),
            "2026-03-07T02:30:00-06:00");
}

TEST(ScheduleDst, ChicagoFallBackFiresARepeatedMinuteOnceAtItsFirstOccurrence) {
  EXPECT_EQ(Ticks("30 1 * * *", "America/Chicago", "2026-10-31T12:00:00-05:00", 2),
            (V{"2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-06:00"}));
  // Each civil minute of the repeated hour once, then on after it.
  EXPECT_EQ(Ticks("*/15 * * * *", "America/Chicago", "2026-11-01T00:50:00-05:00", 6),
            (V{"2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00",
               "2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00",
               "2026-11-01T02:00:00-06:00", "2026-11-01T02:15:00-06:00"}));
}

TEST(ScheduleDst, ChicagoFromInsideTheSecondPassNothingRepeats) {
  // 01:20 CST is the second 01:20: 01:30 and 01:45 ticked in the first pass.
  EXPECT_EQ(Ticks("*/15 * * * *", "America/Chicago", "2026-11-01T01:20:00-06:00", 2),
            (V{"2026-11-01T02:00:00-06:00", "2026-11-01T02:15:00-06:00"}));
  EXPECT_EQ(Ticks("30 1 * * *", "America/Chicago", "2026-11-01T01:10:00-06:00", 1),
            (V{"2026-11-02T01:30:00-06:00"}));
  // And the latest tick at or before it is the first pass's last one, later
  // in civil time than 01:20.
  EXPECT_EQ(Latest("*/15 * * * *", "America/Chicago", "2026-11-01T01:20:00-06:00"),
            "2026-11-01T01:45:00-05:00");
  EXPECT_EQ(Latest("30 1 * * *", "America/Chicago", "2026-11-01T01:10:00-06:00"),
            "2026-11-01T01:30:00-05:00");
  EXPECT_EQ(Latest("0 0 * * *", "America/Chicago", "2026-11-01T01:10:00-06:00"),
            "2026-11-01T00:00:00-05:00");
}

TEST(ScheduleDst, Berlin) {
  EXPECT_EQ(Ticks("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00", 2),
            (V{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}));
  EXPECT_EQ(Ticks("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00", 2),
            (V{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}));
  EXPECT_EQ(Ticks("*/15 * * * *", "Europe/Berlin", "2026-10-25T01:50:00+02:00", 5),
            (V{"2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00",
               "2026-10-25T02:30:00+02:00", "2026-10-25T02:45:00+02:00",
               "2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(Ticks("*/15 * * * *", "Europe/Berlin", "2026-10-25T02:10:00+01:00", 1),
            (V{"2026-10-25T03:00:00+01:00"}));
  EXPECT_EQ(Ticks("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:50:00+01:00", 2),
            (V{"2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00"}));
}

TEST(ScheduleDst, SydneyInTheSouthernSpringAndAutumn) {
  EXPECT_EQ(Ticks("30 2 * * *", "Australia/Sydney", "2026-10-03T12:00:00+10:00", 2),
            (V{"2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"}));
  EXPECT_EQ(Ticks("30 2 * * *", "Australia/Sydney", "2026-04-04T12:00:00+11:00", 2),
            (V{"2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"}));
}

TEST(ScheduleDst, DailyTicksAreOnePerDayAcrossAYearOfTransitions) {
  for (const char* zone : {"America/Chicago", "Europe/Berlin", "Australia/Sydney"}) {
    for (const char* expr : {"30 2 * * *", "30 1 * * *", "0 0 * * *"}) {
      absl::StatusOr<Schedule> s = Schedule::Parse(expr, zone);
      ASSERT_TRUE(s.ok());
      int64_t t = Unix("2026-01-01T00:00:00Z");
      int ticks = 0;
      while (true) {
        std::optional<int64_t> next = s->NextAfter(t);
        ASSERT_TRUE(next.has_value());
        if (*next >= Unix("2027-01-01T00:00:00Z")) break;
        ASSERT_GT(*next, t);
        ASSERT_EQ(s->LatestAtOrBefore(*next), next);
        // Nothing between t and next: the tick before next is t itself.
        ASSERT_EQ(s->LatestAtOrBefore(*next - 1), ticks == 0 ? s->LatestAtOrBefore(t) : t);
        t = *next;
        ++ticks;
      }
      EXPECT_EQ(ticks, 365) << expr << " in " << zone;
    }
  }
}

}  // namespace
}  // namespace werk::cron
