// Entry identity (entry.h): stable when the file is reordered, new when an
// unnamed entry changes, and the name's alone when there is one. And the
// jid of a tick.

#include <gtest/gtest.h>
#include <xxhash.h>

#include <string>

#include "cron/entry.h"
#include "tests/cron/cron_toml.h"

namespace werk::cron {
namespace {

using testing::LoadToml;

uint64_t OnlyId(const std::string& toml) {
  absl::StatusOr<Table> t = LoadToml(toml);
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok() || t->entries.size() != 1) return 0;
  return t->entries[0].id;
}

const std::string kDaily =
    "[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [1, {x = 2}]\n";
const std::string kHourly =
    "[[cron]]\nschedule = \"@hourly\"\ntimezone = \"Europe/Berlin\"\n[cron.job]\ntype = \"B\"\n";

TEST(EntryIdentity, StableUnderReorder) {
  absl::StatusOr<Table> ab = LoadToml(kDaily + kHourly);
  absl::StatusOr<Table> ba = LoadToml(kHourly + kDaily);
  ASSERT_TRUE(ab.ok() && ba.ok());
  ASSERT_EQ(ab->entries.size(), 2u);
  EXPECT_EQ(ab->entries[0].id, ba->entries[1].id);
  EXPECT_EQ(ab->entries[1].id, ba->entries[0].id);
  EXPECT_NE(ab->entries[0].id, ab->entries[1].id);
  // Keys in another order, defaults spelt out: the same entry.
  EXPECT_EQ(OnlyId(kDaily),
            OnlyId("[[cron]]\ncatch_up = \"skip\"\ngrace = 60\ntimezone = \"UTC\"\n"
                   "schedule = \"@daily\"\n[cron.job]\nargs = [1, {x = 2}]\nretry = 25\n"
                   "queue = \"default\"\ntype = \"A\"\n"));
}

TEST(EntryIdentity, ChangesWithContent) {
  const uint64_t base = OnlyId(kDaily);
  for (const std::string& changed : {
           std::string("[[cron]]\nschedule = \"0 0 * * *\"\n[cron.job]\ntype = \"A\"\nargs = [1, "
                       "{x = 2}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [1, "
                       "{x = 3}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A2\"\nargs = [1, "
                       "{x = 2}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\ntimezone = \"Asia/Tokyo\"\n[cron.job]\n"
                       "type = \"A\"\nargs = [1, {x = 2}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\ncatch_up = \"once\"\n[cron.job]\n"
                       "type = \"A\"\nargs = [1, {x = 2}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\ngrace = 61\n[cron.job]\ntype = \"A\"\n"
                       "args = [1, {x = 2}]\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [1, "
                       "{x = 2}]\nqueue = \"q\"\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [1, "
                       "{x = 2}]\nretry = 1\n"),
           std::string("[[cron]]\nschedule = \"@daily\"\n[cron.job]\ntype = \"A\"\nargs = [1, "
                       "{x = 2}]\n[cron.job.custom]\nk = 1\n"),
       }) {
    const uint64_t id = OnlyId(changed);
    EXPECT_NE(id, 0u);
    EXPECT_NE(id, base) << changed;
  }
}

TEST(EntryIdentity, FollowsTheName) {
  const uint64_t a = OnlyId("[[cron]]\nname = \"invoices\"\nschedule = \"@daily\"\n[cron.job]\n"
                            "type = \"A\"\n");
  const uint64_t b = OnlyId("[[cron]]\nname = \"invoices\"\nschedule = \"0 12 27 * *\"\n"
                            "timezone = \"America/Chicago\"\n[cron.job]\ntype = \"Invoice\"\n");
  EXPECT_EQ(a, b);
  const std::string text = "name:invoices";
  EXPECT_EQ(a, XXH3_64bits(text.data(), text.size()));
  EXPECT_NE(a, OnlyId("[[cron]]\nname = \"invoices2\"\nschedule = \"@daily\"\n[cron.job]\n"
                      "type = \"A\"\n"));
}

TEST(EntryIdentity, TickJid) {
  EXPECT_EQ(TickJid(0x0123456789abcdefULL, 1767225600), "cron-0123456789abcdef-1767225600");
  EXPECT_EQ(TickJid(0xffffffffffffffffULL, 0), "cron-ffffffffffffffff-0");
  EXPECT_EQ(TickJid(1, 1767225600), TickJid(1, 1767225600));
  EXPECT_NE(TickJid(1, 1767225600), TickJid(1, 1767225660));
}

TEST(EntryIdentity, CatchUpNames) {
  EXPECT_EQ(CatchUpName(CatchUp::kSkip), "skip");
  EXPECT_EQ(CatchUpName(CatchUp::kOnce), "once");
}

}  // namespace
}  // namespace werk::cron
