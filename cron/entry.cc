// Entries: names, tick jids and identities (entry.h).

#include <absl/strings/str_format.h>
#include <xxhash.h>

#include <string>

#include "cron/entry.h"
#include "cron/entry_identity.h"

namespace werk::cron {

namespace {

void AddField(std::string* out, std::string_view key, std::string_view value) {
  absl::StrAppendFormat(out, "%s=%d:%s;", key, value.size(), value);
}

}  // namespace

std::string_view CatchUpName(CatchUp c) {
  switch (c) {
    case CatchUp::kSkip:
      return "skip";
    case CatchUp::kOnce:
      return "once";
  }
  return "unknown";
}

std::string TickJid(uint64_t id, int64_t tick_s) {
  return absl::StrFormat("cron-%016x-%d", id, tick_s);
}

uint64_t EntryIdentity(const Entry& e) {
  std::string canonical;
  if (!e.name.empty()) {
    canonical = "name:" + e.name;
  } else {
    AddField(&canonical, "schedule", e.schedule.expression());
    AddField(&canonical, "timezone", e.schedule.zone_name());
    AddField(&canonical, "catch_up", CatchUpName(e.catch_up));
    AddField(&canonical, "grace", std::to_string(e.grace_s));
    AddField(&canonical, "type", e.job.jobtype);
    AddField(&canonical, "queue", e.job.queue);
    AddField(&canonical, "args", e.job.args_json);
    AddField(&canonical, "custom", e.job.custom_json);
    AddField(&canonical, "retry", std::to_string(e.job.retry));
    AddField(&canonical, "reserve_for", std::to_string(e.job.reserve_for));
    AddField(&canonical, "priority", e.priority ? std::to_string(*e.priority) : "");
  }
  const uint64_t h = XXH3_64bits(canonical.data(), canonical.size());
  return h == 0 ? 1 : h;  // 0 means "no entry"
}

const Entry* Table::Find(uint64_t id) const {
  for (const Entry& e : entries)
    if (e.id == id) return &e;
  return nullptr;
}

}  // namespace werk::cron
