// `werkctl cron`'s table (tools/werkctl/cron_table.h) of INFO's cron block.

#include "tools/werkctl/cron_table.h"

#include <gtest/gtest.h>

namespace werk::ctl {
namespace {

constexpr char kInfo[] = R"json({"faktory":{},"werk":{},"cron":{"active":true,"fired":12,"missed":1,
"failed":0,"entries":[{"id":"00000000000000ff","name":"monthly-invoices","schedule":"0 12 27 * *",
"timezone":"America/Chicago","catch_up":"skip","grace":60,"jobtype":"Invoice","queue":"critical",
"next":"2026-12-27T18:00:00.000000000Z","last":null,"last_jid":"","last_late_ms":0,"fired":0,
"missed":0},{"id":"0000000000000001","name":"entry 2 (* * * * *)","schedule":"* * * * *",
"timezone":"UTC","catch_up":"once","grace":60,"jobtype":"Tick","queue":"default",
"next":"2026-12-03T17:01:00.000000000Z","last":"2026-12-03T17:00:00.000000000Z",
"last_jid":"cron-0000000000000001-1796317200","last_late_ms":3,"fired":12,"missed":1}]}})json";

TEST(CronTable, ListsEachEntry) {
  auto s = FormatCronTable(kInfo);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*s,
            "cron: firing, 2 entries, 12 fired, 1 missed, 0 failed pushes since start\n"
            "NAME                 SCHEDULE     TIMEZONE         JOB               NEXT          "
            "                  LAST FIRED                      LAST JID                          "
            "MISSED\n"
            "monthly-invoices     0 12 27 * *  America/Chicago  Invoice@critical  "
            "2026-12-27T18:00:00.000000000Z  -                               -                  "
            "               0\n"
            "entry 2 (* * * * *)  * * * * *    UTC              Tick@default      "
            "2026-12-03T17:01:00.000000000Z  2026-12-03T17:00:00.000000000Z  "
            "cron-0000000000000001-1796317200  1\n");
}

TEST(CronTable, JsonIsTheBlockItself) {
  auto s = CronJson(kInfo);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->rfind("{\"active\":true,\"fired\":12,", 0), 0u) << *s;
}

TEST(CronTable, AServerWithoutCronOrBadJsonIsAnError) {
  EXPECT_EQ(FormatCronTable(R"({"faktory":{}})").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FormatCronTable("{").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CronJson(R"({"cron":1})").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace werk::ctl
