// Schedules in UTC: expressions × instants → the next tick, and the latest
// tick at or before an instant. Expected values were worked out by a
// minute-by-minute walk independent of the implementation.

#include "cron/schedule.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/cron/time_helpers.h"

namespace werk::cron {
namespace {

struct Case {
  const char* expr;
  const char* from;  // RFC 3339
  const char* want;  // RFC 3339 UTC, or "" for none
};

class NextAfterTest : public ::testing::TestWithParam<Case> {};

TEST_P(NextAfterTest, GivesTheFirstTickStrictlyAfter) {
  const Case& c = GetParam();
  absl::StatusOr<Schedule> s = Schedule::Parse(c.expr);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(testing::ShowUtc(s->NextAfter(testing::Unix(c.from))), c.want)
      << c.expr << " after " << c.from;
}

INSTANTIATE_TEST_SUITE_P(
    Utc, NextAfterTest,
    ::testing::Values(
        Case{"*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z"},
        // Strictly after: a tick at `from` itself is not the next one.
        Case{"0 12 27 * *", "2026-01-27T12:00:00Z", "2026-02-27T12:00:00Z"},
        Case{"* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z"},
        // Day 31 only in the months that have it.
        Case{"0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"},
        Case{"0 0 31 * *", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"},
        // February 29: leap years only, and 2100 is not one.
        Case{"0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
        Case{"0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
        // Day-of-month and day-of-week both restricted: either matches
        // (April 2026: Fridays 3, 10, 17; the 13th is a Monday).
        Case{"0 0 13 * 5", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z"},
        // One of them starred (even `*/2`): both must match, so odd days
        // that are Mondays (April 2026: 6, 13, 20, 27).
        Case{"0 0 */2 * 1", "2026-04-01T00:00:00Z", "2026-04-13T00:00:00Z"},
        Case{"0 0 * * 1", "2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z"},
        Case{"0 0 1,15 * *", "2026-04-01T00:00:00Z", "2026-04-15T00:00:00Z"},
        // Names in any case; 0 and 7 are Sunday (2026-01-04 is one).
        Case{"0 9 * JAN-MAR mon-fri", "2026-03-31T09:00:00Z", "2027-01-01T09:00:00Z"},
        Case{"0 9 * * SUN", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00Z"},
        Case{"0 9 * * 7", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00Z"},
        Case{"0 9 * * 0", "2026-01-01T00:00:00Z", "2026-01-04T09:00:00Z"},
        Case{"0 9 * * 5-7", "2026-01-03T09:00:00Z", "2026-01-04T09:00:00Z"},
        Case{"0 9 * * Sat,sun", "2026-01-04T09:00:00Z", "2026-01-10T09:00:00Z"},
        Case{"30 4 1 feb,Aug *", "2026-02-01T04:30:00Z", "2026-08-01T04:30:00Z"},
        // Lists, ranges and steps.
        Case{"5,10-12,50-59/5 * * * *", "2026-01-01T00:12:00Z", "2026-01-01T00:50:00Z"},
        Case{"5,10-12,50-59/5 * * * *", "2026-01-01T00:55:00Z", "2026-01-01T01:05:00Z"},
        Case{"10-50/20 * * * *", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z"},
        Case{"5/15 * * * *", "2026-01-01T00:50:00Z", "2026-01-01T01:05:00Z"},
        Case{"0 */6 * * *", "2026-01-01T18:00:00Z", "2026-01-02T00:00:00Z"},
        Case{"0 0 * * */2", "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"},
        Case{"0 0 1 1 *", "2026-06-15T00:00:00Z", "2027-01-01T00:00:00Z"},
        // Macros.
        Case{"@hourly", "2026-01-01T00:30:00Z", "2026-01-01T01:00:00Z"},
        Case{"@daily", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
        Case{"@midnight", "2026-01-01T23:59:59Z", "2026-01-02T00:00:00Z"},
        Case{"@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
        Case{"@monthly", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"},
        Case{"@yearly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
        Case{"@ANNUALLY", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"}));

class LatestAtOrBeforeTest : public ::testing::TestWithParam<Case> {};

TEST_P(LatestAtOrBeforeTest, GivesTheLatestTickAtOrBefore) {
  const Case& c = GetParam();
  absl::StatusOr<Schedule> s = Schedule::Parse(c.expr);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(testing::ShowUtc(s->LatestAtOrBefore(testing::Unix(c.from))), c.want)
      << c.expr << " at or before " << c.from;
}

INSTANTIATE_TEST_SUITE_P(
    Utc, LatestAtOrBeforeTest,
    ::testing::Values(
        // A tick at the instant itself counts.
        Case{"0 12 27 * *", "2026-02-27T12:00:00Z", "2026-02-27T12:00:00Z"},
        Case{"0 12 27 * *", "2026-02-27T11:59:59Z", "2026-01-27T12:00:00Z"},
        Case{"0 0 31 * *", "2026-04-15T00:00:00Z", "2026-03-31T00:00:00Z"},
        Case{"0 0 29 2 *", "2104-02-28T00:00:00Z", "2096-02-29T00:00:00Z"},
        Case{"0 0 13 * 5", "2026-04-12T23:59:00Z", "2026-04-10T00:00:00Z"},
        Case{"0 0 */2 * 1", "2026-04-26T00:00:00Z", "2026-04-13T00:00:00Z"},
        Case{"5,10-12,50-59/5 * * * *", "2026-01-01T01:04:59Z", "2026-01-01T00:55:00Z"},
        Case{"0 9 * JAN-MAR mon-fri", "2026-12-31T23:59:00Z", "2026-03-31T09:00:00Z"},
        Case{"0 0 1 1 *", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
        Case{"@weekly", "2026-01-03T23:59:59Z", "2025-12-28T00:00:00Z"},
        Case{"* * * * *", "2026-01-01T00:00:59Z", "2026-01-01T00:00:00Z"}));

TEST(Schedule, NoTickOutsideYears1To9999) {
  // The next Feb 29 would be in year 10000, the one before in year 0.
  absl::StatusOr<Schedule> s = Schedule::Parse("0 0 29 2 *");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->NextAfter(testing::Unix("9999-03-01T00:00:00Z")), std::nullopt);
  EXPECT_EQ(s->LatestAtOrBefore(testing::Unix("0001-02-01T00:00:00Z")), std::nullopt);
}

TEST(Schedule, AYearlyEntryWalksQuickly) {
  // 7,999 yearly steps (to the end of year 9999): a walk minute by minute
  // would take hours.
  absl::StatusOr<Schedule> s = Schedule::Parse("0 0 1 1 *");
  ASSERT_TRUE(s.ok());
  int64_t t = testing::Unix("2000-01-01T00:00:00Z");
  for (int i = 0; i < 7'999; ++i) {
    std::optional<int64_t> next = s->NextAfter(t);
    ASSERT_TRUE(next.has_value());
    ASSERT_EQ(s->LatestAtOrBefore(*next), next);
    t = *next;
  }
  EXPECT_EQ(testing::ShowUtc(t), "9999-01-01T00:00:00Z");
}

TEST(Schedule, KeepsItsExpressionAndZone) {
  absl::StatusOr<Schedule> s = Schedule::Parse("  0 12 27 * *  ", "America/Chicago");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->expression(), "0 12 27 * *");
  EXPECT_EQ(s->zone_name(), "America/Chicago");
  EXPECT_EQ(Schedule::Parse("@daily", "")->zone_name(), "UTC");
  EXPECT_EQ(Schedule::Parse("@daily")->zone_name(), "UTC");
}

}  // namespace
}  // namespace werk::cron
