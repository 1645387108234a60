#pragma once
// A cron schedule: a five-field expression (minute hour day-of-month month
// day-of-week) or a macro, evaluated in one IANA time zone (docs/cron.md).
//
// Ticks are civil minutes of the zone that match the expression, turned
// into instants:
//   - a minute that happens once is that instant;
//   - a minute that happens twice (the repeated hour when clocks go back)
//     fires once, at its first occurrence;
//   - a minute that does not happen (the skipped hour when clocks go
//     forward) fires at the first valid instant after it, the transition;
//     several skipped minutes that land on one instant are one tick.
// So the ticks of a schedule are a strictly increasing sequence of
// instants, and NextAfter walks it.
//
// Thread affinity: none (immutable once parsed).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <absl/status/statusor.h>
#include <absl/time/civil_time.h>
#include <absl/time/time.h>

namespace werk::cron {

class Schedule {
 public:
  // `expr`: "m h dom mon dow" with `*`, lists (`1,15`), ranges (`1-5`),
  // steps (`*/15`, `10-50/20`, `5/15`), month names JAN-DEC and weekday
  // names SUN-SAT (any case; 0 and 7 are Sunday), or one of @hourly @daily
  // @midnight @weekly @monthly @yearly @annually. Cron's rule: when both
  // day-of-month and day-of-week are restricted (neither starts with `*`),
  // a day matches if either does. `zone`: an IANA name of the system's
  // tzdata ("" and "UTC" are UTC). kInvalidArgument says which field and why
  // ("day-of-month: 32 is out of range 1-31", "unknown time zone 'Mars/X'",
  // "never fires": no tick in the next kHorizonYears years).
  static absl::StatusOr<Schedule> Parse(std::string_view expr, std::string_view zone = "UTC");

  // The first tick strictly after `unix_s` (seconds since the epoch);
  // nullopt if none within kHorizonYears.
  std::optional<int64_t> NextAfter(int64_t unix_s) const;
  // The latest tick at or before `unix_s`; nullopt if none within
  // kHorizonYears before it.
  std::optional<int64_t> LatestAtOrBefore(int64_t unix_s) const;

  const std::string& expression() const { return expression_; }
  const std::string& zone_name() const { return zone_name_; }

  static constexpr int kHorizonYears = 10;  // > 8: Feb 29 skips 2100

 private:
  Schedule() = default;
  // schedule_walk.cc: matching civil minutes, and their instants.
  bool DayMatches(absl::CivilDay d) const;
  // The first matching civil minute in [from, limit), or the last one in
  // (limit, from]; nullopt if there is none.
  std::optional<absl::CivilMinute> NextMatch(absl::CivilMinute from,
                                             absl::CivilMinute limit) const;
  std::optional<absl::CivilMinute> PrevMatch(absl::CivilMinute from,
                                             absl::CivilMinute limit) const;
  // The tick of a matching civil minute: its first occurrence, or the
  // transition when the zone skips it.
  int64_t TickOf(absl::CivilMinute m) const;

  std::string expression_;
  std::string zone_name_;
  absl::TimeZone zone_;
  // Bit i set: value i matches.
  uint64_t minutes_ = 0;      // 0-59
  uint32_t hours_ = 0;        // 0-23
  uint32_t days_ = 0;         // 1-31
  uint16_t months_ = 0;       // 1-12
  uint8_t weekdays_ = 0;      // 0-6, Sunday = 0
  bool dom_star_ = false;     // day-of-month field starts with '*'
  bool dow_star_ = false;     // day-of-week field starts with '*'
};

}  // namespace werk::cron
