// LoadTable: every key of a [[cron]] entry, the defaults, TOML → JSON for
// args and custom, and the errors (file:line, entry, field, why).

#include <gtest/gtest.h>

#include <string>

#include "cron/entry.h"
#include "tests/cron/cron_toml.h"

namespace werk::cron {
namespace {

using testing::LoadError;
using testing::LoadToml;

TEST(TableLoader, ReadsEveryKey) {
  absl::StatusOr<Table> t = LoadToml(R"([[cron]]
  schedule = "0 12 27 * *"
  timezone = "America/Chicago"
  name = "monthly-invoices"
  catch_up = "once"
  grace = 300
  [cron.job]
    type = "Invoice"
    queue = "critical"
    args = [1, "two", 3.5, true, [4, [5]], { six = 6, "se ven" = "7" }, "q\"uote\\ü\n<&>", 2.0, -0.25, 1979-05-27T07:32:00Z]
    retry = 3
    reserve_for = 600
    priority = 5
    [cron.job.custom]
      expires_in = 60
      unique_for = 1.5
      tags = ["a", "b"]
      nested = { z = 1, a = [] }
)");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->entries.size(), 1u);
  const Entry& e = t->entries[0];
  EXPECT_EQ(e.name, "monthly-invoices");
  EXPECT_EQ(e.label, "monthly-invoices");
  EXPECT_EQ(e.origin, "cron.toml:1");
  EXPECT_EQ(e.schedule.expression(), "0 12 27 * *");
  EXPECT_EQ(e.schedule.zone_name(), "America/Chicago");
  EXPECT_EQ(e.catch_up, CatchUp::kOnce);
  EXPECT_EQ(e.grace_s, 300);
  EXPECT_EQ(e.job.jobtype, "Invoice");
  EXPECT_EQ(e.job.queue, "critical");
  EXPECT_EQ(e.job.args_json,
            R"([1,"two",3.5,true,[4,[5]],{"se ven":"7","six":6},"q\"uote\\ü\n\u003c\u0026\u003e",2,-0.25,"1979-05-27T07:32:00Z"])");
  EXPECT_EQ(e.job.custom_json,
            R"({"expires_in":60,"nested":{"a":[],"z":1},"tags":["a","b"],"unique_for":1.5})");
  EXPECT_EQ(e.job.retry, 3);
  EXPECT_EQ(e.job.reserve_for, 600);
  EXPECT_EQ(e.priority, 5);
  // The tick fills these in.
  EXPECT_EQ(e.job.jid, "");
  EXPECT_EQ(e.job.created_at, "");
  EXPECT_EQ(e.job.at, "");
  ASSERT_EQ(t->warnings.size(), 1u);
  EXPECT_EQ(t->warnings[0],
            "cron.toml:13: [[cron]] monthly-invoices: job.priority has no effect (Faktory's jobs "
            "have no priority)");
  // 12:00 on the 27th in Chicago: CST in January, CDT in June.
  EXPECT_EQ(e.schedule.NextAfter(1767225600), 1769536800);  // 2026-01-27T18:00:00Z
}

TEST(TableLoader, Defaults) {
  absl::StatusOr<Table> t = LoadToml("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->entries.size(), 1u);
  const Entry& e = t->entries[0];
  EXPECT_EQ(e.name, "");
  EXPECT_EQ(e.label, "entry 1 (@daily)");
  EXPECT_EQ(e.schedule.zone_name(), "UTC");
  EXPECT_EQ(e.catch_up, CatchUp::kSkip);
  EXPECT_EQ(e.grace_s, kGraceDefaultS);
  EXPECT_EQ(e.job.queue, "default");
  EXPECT_EQ(e.job.args_json, "[]");
  EXPECT_EQ(e.job.custom_json, "");
  EXPECT_EQ(e.job.retry, 25);
  EXPECT_EQ(e.job.reserve_for, 0);
  EXPECT_EQ(e.priority, std::nullopt);
  EXPECT_NE(e.id, 0u);
  EXPECT_TRUE(t->warnings.empty());
}

TEST(TableLoader, NoCronIsAnEmptyTableAndEntriesKeepTheirOrder) {
  absl::StatusOr<Table> none = LoadToml("[faktory]\npassword = \"x\"\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->entries.empty());
  absl::StatusOr<Table> t = LoadToml(
      "[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\n"
      "[[cron]]\nschedule = \"@hourly\"\n[cron.job]\ntype = \"B\"\nargs = []\n"
      "[[cron]]\nschedule = \"*/5 * * * *\"\n[cron.job]\ntype = \"C\"\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->entries.size(), 3u);
  EXPECT_EQ(t->entries[0].job.jobtype, "A");
  EXPECT_EQ(t->entries[1].label, "entry 2 (@hourly)");
  EXPECT_EQ(t->entries[1].origin, "cron.toml:5");
  EXPECT_EQ(t->entries[2].label, "entry 3 (*/5 * * * *)");
  EXPECT_EQ(t->Find(t->entries[1].id), &t->entries[1]);
  EXPECT_EQ(t->Find(12345), nullptr);
}

TEST(TableLoader, Errors) {
  const std::string job = "[cron.job]\ntype = \"A\"\n";
  struct Case {
    std::string toml;
    std::string error;
  };
  const Case cases[] = {
      {"[[cron]]\n" + job,
       "cron.toml:1: [[cron]] entry 1: schedule: missing (a cron expression such as \"0 12 * * "
       "*\")"},
      {"[[cron]]\nschedule = \"0 12 32 * *\"\n" + job,
       "cron.toml:2: [[cron]] entry 1 (0 12 32 * *): schedule: day-of-month: 32 is out of range "
       "1-31"},
      {"[[cron]]\nschedule = 5\n" + job, "cron.toml:2: [[cron]] entry 1: schedule: must be a string"},
      {"[[cron]]\nschedule = \"@daily\"\n[cron.job]\nqueue = \"q\"\n",
       "cron.toml:3: [[cron]] entry 1 (@daily): job.type: missing (the jobtype to push)"},
      {"[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"\"\n",
       "cron.toml:4: [[cron]] entry 1 (@daily): job.type: missing (the jobtype to push)"},
      {"[[cron]]\nschedule = \"@daily\"\n",
       "cron.toml:1: [[cron]] entry 1 (@daily): job: missing (a [cron.job] table with the job's "
       "type)"},
      {"[[cron]]\nschedule = \"@daily\"\njob = 1\n",
       "cron.toml:3: [[cron]] entry 1 (@daily): job: must be a table ([cron.job])"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "queue = \"bad queue\"\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.queue: cannot get \"bad queue\" queue: queue "
       "names must match \\A[a-zA-Z0-9._-]+\\z"},
      {"[[cron]]\nscedule = \"@daily\"\n" + job,
       "cron.toml:2: [[cron]] entry 1: scedule: unknown key (known: schedule, job, timezone, "
       "name, catch_up, grace)"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "jobtype = \"B\"\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.jobtype: unknown key (known: type, queue, "
       "args, retry, reserve_for, priority, custom)"},
      {"[[cron]]\nschedule = \"@daily\"\ntimezone = \"Mars/Olympus_Mons\"\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): timezone: unknown time zone 'Mars/Olympus_Mons'"},
      {"[[cron]]\nschedule = \"@daily\"\ncatch_up = \"all\"\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): catch_up: must be \"skip\" or \"once\""},
      {"[[cron]]\nschedule = \"@daily\"\ngrace = 604801\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): grace: must be from 0 to 604800 seconds"},
      {"[[cron]]\nschedule = \"@daily\"\ngrace = -1\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): grace: must be from 0 to 604800 seconds"},
      {"[[cron]]\nschedule = \"@daily\"\ngrace = 1.5\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): grace: must be an integer"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "retry = \"3\"\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.retry: must be an integer"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "retry = 2.0\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.retry: must be an integer"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "reserve_for = 86401\n",
       "cron.toml:3: [[cron]] entry 1 (@daily): job: jobs cannot be reserved for more than one "
       "day"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "priority = 10\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.priority: must be from 1 to 9"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "args = \"x\"\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.args: must be an array"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "args = [1, [nan]]\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.args[1][0]: inf and nan have no JSON form"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "custom = [1]\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.custom: must be a table"},
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "custom = { rate = inf }\n",
       "cron.toml:5: [[cron]] entry 1 (@daily): job.custom.rate: inf and nan have no JSON form"},
      {"[[cron]]\nschedule = \"@daily\"\nname = \"\"\n" + job,
       "cron.toml:3: [[cron]] entry 1 (@daily): name: must not be empty"},
      {"cron = 5\n", "cron.toml:1: cron must be an array of tables ([[cron]] entries)"},
      {"[cron]\nschedule = \"@daily\"\n",
       "cron.toml:1: cron must be an array of tables ([[cron]] entries)"},
      {"cron = [1, 2]\n", "cron.toml:1: cron must be an array of tables ([[cron]] entries)"},
      // Two entries alike in everything: one identity.
      {"[[cron]]\nschedule = \"@daily\"\n" + job + "[[cron]]\nschedule = \"@daily\"\n" + job,
       "cron.toml:5: [[cron]] entry 2 (@daily): has the identity of [[cron]] entry 1 (@daily) "
       "(cron.toml:1): give them distinct names (name = \"...\")"},
      // Two entries with one name: one identity too.
      {"[[cron]]\nname = \"x\"\nschedule = \"@daily\"\n" + job +
           "[[cron]]\nname = \"x\"\nschedule = \"@hourly\"\n" + job,
       "cron.toml:6: [[cron]] x: has the identity of [[cron]] x (cron.toml:1): give them "
       "distinct names (name = \"...\")"},
  };
  for (const Case& c : cases) EXPECT_EQ(LoadError(c.toml), c.error) << c.toml;
  EXPECT_EQ(LoadError("cron = []\n"), "");  // no entries
}

TEST(TableLoader, AJobTooLargeForTheLimitIsRefused) {
  const std::string toml = "[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [\"" +
                           std::string(100, 'x') + "\"]\n";
  EXPECT_TRUE(LoadToml(toml).ok());
  absl::StatusOr<Table> t = LoadToml(toml, core::JobLimits{.job_bytes_max = 150});
  ASSERT_FALSE(t.ok());
  // jid (cron-<16>-<10>: 32) + type 1 + queue 7 + args 104 + created_at 30.
  EXPECT_EQ(std::string(t.status().message()),
            "cron.toml:3: [[cron]] entry 1 (@daily): job: job is too large: 174 bytes, the "
            "limit is 150");
}

}  // namespace
}  // namespace werk::cron
