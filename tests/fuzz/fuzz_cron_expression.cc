// Parses arbitrary text as a cron expression, in one of a few zones chosen by
// the first byte (UTC, and zones with DST in both hemispheres and a
// half-hour offset). A schedule that parses must walk as schedule.h says:
// NextAfter strictly increasing, and every tick its own LatestAtOrBefore.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "cron/schedule.h"

using namespace werk;

namespace {

constexpr std::string_view kZones[] = {"UTC", "America/Chicago", "Europe/Berlin",
                                       "Australia/Sydney", "Asia/Kolkata", "Australia/Lord_Howe"};

// Instants around 2026's transitions and the turn of a leap year.
constexpr int64_t kStarts[] = {
    1767225600,  // 2026-01-01T00:00:00Z
    1772953200,  // 2026-03-08T07:00:00Z, an hour before Chicago springs forward
    1793509200,  // 2026-11-01T05:00:00Z, midnight in Chicago before its repeated hour
    1792886400,  // 2026-10-25T00:00:00Z, Berlin's repeated hour is next
    1775318400,  // 2026-04-04T16:00:00Z, Sydney's repeated hour is ahead
    4107542399,  // 2100-02-28T23:59:59Z, not a leap year
};

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view zone = kZones[data[0] % std::size(kZones)];
  const std::string_view expr(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<cron::Schedule> s = cron::Schedule::Parse(expr, zone);
  if (!s.ok()) return 0;
  // What parses is never "never fires": a tick within the horizon.
  Check(s->NextAfter(kStarts[0]).has_value());
  for (int64_t start : kStarts) {
    int64_t t = start;
    for (int step = 0; step < 4; ++step) {
      const std::optional<int64_t> next = s->NextAfter(t);
      if (!next) break;
      Check(*next > t);
      Check(s->LatestAtOrBefore(*next) == next);
      // Nothing ticks between t and next.
      const std::optional<int64_t> before = s->LatestAtOrBefore(*next - 1);
      Check(!before || *before <= t);
      t = *next;
    }
  }
  return 0;
}
