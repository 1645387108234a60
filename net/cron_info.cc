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

void AppendString(std::string& o, std::string_view key, std::string_view value) {
  AppendKey(o, key);
  core::AppendJsonString(o, value);
}

void AppendInt(std::string& o, std::string_view key, int64_t value) {
  AppendKey(o, key);
  core::AppendJsonInt(o, value);
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
  AppendInt(o, "fired", int64_t(v.fired_total));
  AppendInt(o, "missed", int64_t(v.missed_total));
  AppendInt(o, "failed", int64_t(v.failed_total));
  AppendKey(o, "entries");
  o.push_back('[');
  for (size_t i = 0; i < v.entries.size(); ++i) {
    const cron::EntryView& e = v.entries[i];
    if (i) o.push_back(',');
    o.push_back('{');
    AppendKey(o, "id", /*first=*/true);
    core::AppendJsonString(o, absl::StrCat(absl::Hex(e.id, absl::kZeroPad16)));
    AppendString(o, "name", e.label);
    AppendString(o, "schedule", e.schedule);
    AppendString(o, "timezone", e.timezone);
    AppendString(o, "catch_up", e.catch_up);
    AppendInt(o, "grace", e.grace_s);
    AppendString(o, "jobtype", e.jobtype);
    AppendString(o, "queue", e.queue);
    AppendTick(o, "next", e.next);
    AppendTick(o, "last", e.last);
    AppendString(o, "last_jid", e.last_jid);
    AppendInt(o, "last_late_ms", e.last_late_ms);
    AppendInt(o, "fired", int64_t(e.fired));
    AppendInt(o, "missed", int64_t(e.missed));
    o.push_back('}');
  }
  o.append("]}");
}

}  // namespace werk::net
