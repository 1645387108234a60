// What Schedule::Parse refuses, and the words it uses: the field and why.

#include <gtest/gtest.h>

#include <string>

#include "cron/schedule.h"

namespace werk::cron {
namespace {

struct Bad {
  const char* expr;
  const char* zone;
  const char* message;
};

class ParseErrorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(ParseErrorTest, NamesTheFieldAndWhy) {
  const Bad& b = GetParam();
  absl::StatusOr<Schedule> s = Schedule::Parse(b.expr, b.zone);
  ASSERT_FALSE(s.ok()) << b.expr;
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()), b.message) << b.expr;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ParseErrorTest,
    ::testing::Values(
        Bad{"", "UTC", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
        Bad{"* * * *", "UTC",
            "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
        Bad{"* * * * * *", "UTC",
            "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
        Bad{"60 * * * *", "UTC", "minute: 60 is out of range 0-59"},
        Bad{"* 24 * * *", "UTC", "hour: 24 is out of range 0-23"},
        Bad{"* * 0 * *", "UTC", "day-of-month: 0 is out of range 1-31"},
        Bad{"0 12 32 * *", "UTC", "day-of-month: 32 is out of range 1-31"},
        Bad{"* * * 13 *", "UTC", "month: 13 is out of range 1-12"},
        Bad{"* * * * 8", "UTC", "day-of-week: 8 is out of range 0-7"},
        Bad{"1,,2 * * * *", "UTC", "minute: empty list item"},
        Bad{"* 1, * * *", "UTC", "hour: empty list item"},
        Bad{"* * 5-1 * *", "UTC", "day-of-month: 5-1 is a reversed range (write 1-5)"},
        Bad{"* * * DEC-JAN *", "UTC", "month: DEC-JAN is a reversed range (write 1-12)"},
        Bad{"*/0 * * * *", "UTC", "minute: step 0 (a step must be at least 1)"},
        Bad{"* * * * */x", "UTC", "day-of-week: step 'x' is not a number"},
        Bad{"* * * * 1/", "UTC", "day-of-week: step '' is not a number"},
        Bad{"x * * * *", "UTC", "minute: 'x' is not a number"},
        Bad{"* * * * MOON", "UTC", "day-of-week: 'MOON' is not a number or a weekday name"},
        Bad{"* * * JANUARY *", "UTC", "month: 'JANUARY' is not a number or a month name"},
        Bad{"* * MON * *", "UTC", "day-of-month: 'MON' is not a number"},
        Bad{"1-2-3 * * * *", "UTC", "minute: '2-3' is not a number"},
        Bad{"-5 * * * *", "UTC", "minute: a value is missing"},
        Bad{"5x * * * *", "UTC", "minute: '5x' is not a number"},
        Bad{"99999 * * * *", "UTC", "minute: '99999' is not a number"},
        Bad{"@fortnightly", "UTC",
            "unknown macro '@fortnightly' (use @hourly, @daily, @midnight, @weekly, @monthly, "
            "@yearly or @annually)"},
        Bad{"0 0 30 2 *", "UTC", "never fires (no day matches: e.g. February 30)"},
        Bad{"0 0 31 4,6,9,11 *", "UTC", "never fires (no day matches: e.g. February 30)"},
        Bad{"@daily", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"},
        Bad{"@daily", "/etc/passwd", "unknown time zone '/etc/passwd'"},
        Bad{"@daily", "../../etc/passwd", "unknown time zone '../../etc/passwd'"},
        Bad{"@daily", "Europe/Berlin ", "unknown time zone 'Europe/Berlin '"}));

TEST(ScheduleParse, AcceptsWhatCronAccepts) {
  for (const char* expr :
       {"* * * * *", "0 0 29 2 *", "0 0 31 * *", "59 23 31 12 7", "0-59/59 0-23/23 1-31/30 * *",
        "0 0 30 2 1",  // February 30 never comes, but Mondays do
        "*/1 * * * *", "1,2,3 1,2 1,2 1,2 1,2", "0\t12\t27\t*\t*", "@Daily", "@MONTHLY",
        "0 9 * jan-dec sun-sat", "0 9 * * 0-7"}) {
    EXPECT_TRUE(Schedule::Parse(expr).ok()) << expr << ": " << Schedule::Parse(expr).status();
  }
  for (const char* zone : {"", "UTC", "America/Chicago", "Europe/Berlin", "Australia/Sydney",
                           "Asia/Kolkata", "America/Argentina/Buenos_Aires", "Etc/GMT+5"}) {
    EXPECT_TRUE(Schedule::Parse("@daily", zone).ok()) << zone;
  }
}

TEST(ScheduleParse, SevenIsSundayAndAStarredWeekdayHasNoEighthDay) {
  // "*/2" in day-of-week is 0,2,4,6; with 7 it would be Sunday twice.
  absl::StatusOr<Schedule> a = Schedule::Parse("0 0 * * 0");
  absl::StatusOr<Schedule> b = Schedule::Parse("0 0 * * 7");
  ASSERT_TRUE(a.ok() && b.ok());
  for (int64_t t = 1767225600; t < 1767225600 + 30 * 86400; t += 86400)  // Jan 2026
    EXPECT_EQ(a->NextAfter(t), b->NextAfter(t));
}

}  // namespace
}  // namespace werk::cron
