#include "core/time_format.h"

#include <gtest/gtest.h>

namespace werk::core {
namespace {

TEST(TimeFormat, GoRfc3339NanoTrimsTrailingZeros) {
  // 2026-11-22T15:45:10.121577708Z as in the Faktory 1.8.0 capture.
  const UnixNanos t = 1795362310LL * kNanosPerSecond + 121577708;
  EXPECT_EQ(FormatRfc3339Nano(t), "2026-11-22T15:45:10.121577708Z");
  EXPECT_EQ(FormatRfc3339Nano(1795362310LL * kNanosPerSecond + 500000000),
            "2026-11-22T15:45:10.5Z");
  EXPECT_EQ(FormatRfc3339Nano(1795362310LL * kNanosPerSecond), "2026-11-22T15:45:10Z");
  EXPECT_EQ(FormatRfc3339Nano(0), "1970-01-01T00:00:00Z");
}

// Regression: the day's remainder overflowed near INT64_MIN.
TEST(TimeFormat, FormatsTheWholeRange) {
  EXPECT_EQ(FormatRfc3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_FALSE(FormatRfc3339Nano(INT64_MIN).empty());
  EXPECT_FALSE(FormatRfc3339Nano(INT64_MAX).empty());
  EXPECT_EQ(FormatRfc3339Nano(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
}

TEST(TimeFormat, ParsesWhatItFormats) {
  for (UnixNanos t : {UnixNanos(0), UnixNanos(1), UnixNanos(951782400LL * kNanosPerSecond),
                      UnixNanos(1795362310LL * kNanosPerSecond + 121577708)}) {
    auto back = ParseRfc3339(FormatRfc3339Nano(t));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
  }
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("2026-11-22T16:45:10+01:00"), ParseRfc3339("2026-11-22T15:45:10Z"));
  EXPECT_EQ(ParseRfc3339("2026-11-22T10:45:10.25-05:00"),
            ParseRfc3339("2026-11-22T15:45:10.25Z"));
  // Ruby sends nine digits and +00:00.
  EXPECT_EQ(*ParseRfc3339("2026-11-22T15:45:10.123456789+00:00") % kNanosPerSecond, 123456789);
}

TEST(TimeFormat, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-22", "2026-11-22T15:45:10", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-22 15:45:10Z", "tomorrow",
                          "2026-11-22T15:45:10Zjunk", "2026-11-22T25:00:00Z",
                          "2026-11-22T15:45:10.Z"}) {
    const OpResult<UnixNanos> t = ParseRfc3339(bad);
    EXPECT_FALSE(t.ok()) << bad;
    EXPECT_FALSE(t.status().message().empty());
  }
}

TEST(TimeFormat, LeapDayAndDates) {
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z").ok());
  EXPECT_EQ(UtcDate(*ParseRfc3339("2024-02-29T23:59:59Z")), "2024-02-29");
  EXPECT_EQ(UtcTimeOfDay(*ParseRfc3339("2024-02-29T07:08:09Z")), "07:08:09 UTC");
  EXPECT_EQ(UtcDate(-1), "1969-12-31");
}

}  // namespace
}  // namespace werk::core
