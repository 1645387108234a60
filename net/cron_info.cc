// INFO's "cron" object: the table and each entry's state (cron/view.h).

#include <absl/strings/str_cat.h>

#include "core/json_writer.h"
#include "core/time_format.h"
#include "net/info.h"

namespace werk::net {
namespace {

void AppendKey(std::string& o, std::string_view key, bool first = false) {
  if (!first) o.push_back(',');
  core::AppendJsonString(o, key);
  o.push_back(':');
}

void AppendTick(std::string& o, std::string_view key, const std::optional<int64_t>& tick) {
  AppendKey(o, key);
  if (!tick) {
    o.append("null");
    return;
  }
  o.push_back('"');
  core::AppendRfc3339Nano(o, core::SecondsToNanos(*tick));
  o.push_back('"');
}

}  // namespace

void AppendCronInfo(std::string& o, const cron::View& v) {
  o.push_back('{');
  AppendKey(o, "active", /*first=*/true);
  o.append(v.active ? "true" : "false");
  AppendKey(o, "fired");
  core::AppendJsonInt(o, int64_t(v.fired_total));
  AppendKey(o, "missed");
  core::AppendJsonInt(o, int64_t(v.missed_total));
  AppendKey(o, "failed");
  core::AppendJsonInt(o, int64_t(v.failed_total));
  AppendKey(o, "entries");
  o.push_back('[');
  for (size_t i = 0; i < v.entries.size(); ++i) {
    const cron::EntryView& e = v.entries[i];
    if (i) o.push_back(',');
    o.push_back('{');
    AppendKey(o, "id", true);
    core::AppendJsonString(o, absl::StrCat(absl::Hex(e.id, absl::kZeroPad16)));
    AppendKey(o, "name");
    core::AppendJsonString(o, e.label);
    AppendKey(o, "schedule");
    core::AppendJsonString(o, e.schedule);
    AppendKey(o, "timezone");
    core::AppendJsonString(o, e.timezone);
    AppendKey(o, "catch_up");
    core::AppendJsonString(o, e.catch_up);
    AppendKey(o, "grace");
    core::AppendJsonInt(o, e.grace_s);
    AppendKey(o, "jobtype");
    core::AppendJsonString(o, e.jobtype);
    AppendKey(o, "queue");
    core::AppendJsonString(o, e.queue);
    AppendTick(o, "next", e.next);
    AppendTick(o, "last", e.last);
    AppendKey(o, "last_jid");
    core::AppendJsonString(o, e.last_jid);
    AppendKey(o, "last_late_ms");
    core::AppendJsonInt(o, e.last_late_ms);
    AppendKey(o, "fired");
    core::AppendJsonInt(o, int64_t(e.fired));
    AppendKey(o, "missed");
    core::AppendJsonInt(o, int64_t(e.missed));
    o.push_back('}');
  }
  o.append("]}");
}

}  // namespace werk::net
