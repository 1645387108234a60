#pragma once
// Instants for the cron tests, written as RFC 3339 text.

#include <absl/time/time.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace werk::cron::testing {

// "2026-03-08T03:00:00-05:00" → seconds since the epoch.
inline int64_t Unix(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) {
    ADD_FAILURE() << "bad instant " << rfc3339 << ": " << error;
    return 0;
  }
  return absl::ToUnixSeconds(t);
}

// An instant as RFC 3339 UTC ("" for none), for readable failures.
inline std::string ShowUtc(std::optional<int64_t> unix_s) {
  if (!unix_s) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(*unix_s),
                          absl::UTCTimeZone());
}

// An instant in `zone` with its offset ("2026-11-01T01:30:00-05:00").
inline std::string ShowIn(std::optional<int64_t> unix_s, const std::string& zone) {
  if (!unix_s) return "";
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(zone, &tz)) return "no zone " + zone;
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", absl::FromUnixSeconds(*unix_s), tz);
}

}  // namespace werk::cron::testing
