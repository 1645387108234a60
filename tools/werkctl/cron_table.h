#pragma once
// `werkctl cron`: INFO's "cron" block (docs/cron.md "Watching it") as a
// table for a person: each entry's schedule, zone, next run, last fired
// tick and its jid.

#include <string>
#include <string_view>

#include <absl/status/statusor.h>

namespace werk::ctl {

// kNotFound when INFO has no "cron" block (a Faktory server, or a werk
// without cron); kInvalidArgument for JSON that does not parse.
absl::StatusOr<std::string> FormatCronTable(std::string_view info_json);

// The "cron" block itself, as JSON text (for --json).
absl::StatusOr<std::string> CronJson(std::string_view info_json);

}  // namespace werk::ctl
