#pragma once
// Faktory's timestamp formats. The server emits Go's RFC3339Nano in UTC
// ("2026-11-22T15:45:10.121577708Z", trailing fractional zeros dropped, no dot
// for whole seconds) and accepts RFC 3339 with optional fraction and a
// mandatory zone ("Z" or "+hh:mm"/"-hh:mm").

#include <string>
#include <string_view>

#include "core/op_status.h"
#include "core/types.h"

namespace werk::core {

// Appends the RFC3339Nano form of `t` to `out`.
void AppendRfc3339Nano(std::string& out, UnixNanos t);
std::string FormatRfc3339Nano(UnixNanos t);

// Parses an RFC 3339 timestamp. On failure: kInvalidArgument with a
// human-readable reason.
OpResult<UnixNanos> ParseRfc3339(std::string_view s);

// "YYYY-MM-DD" of `t` in UTC: the key of the daily history counters.
std::string UtcDate(UnixNanos t);
// Days since 1970-01-01 of `t` in UTC (floor).
int64_t UtcDayNumber(UnixNanos t);
// "HH:MM:SS UTC", INFO's server_utc_time.
std::string UtcTimeOfDay(UnixNanos t);

}  // namespace werk::core
