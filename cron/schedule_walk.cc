// Walking a schedule: matching civil minutes of the zone, found by jumping
// over whole months, days and hours that do not match (a yearly entry looks
// at a few dozen minutes per year, not 525,600), then turned into instants
// by the zone's rules (schedule.h).
//
// The instant of a civil minute (TickOf) never decreases as the civil minute
// grows: a repeated minute maps to its first occurrence and a skipped one to
// the transition, the first instant after the gap. So NextAfter is the first
// matching civil minute from t's own whose instant is after t, and
// LatestAtOrBefore the last one whose instant is at or before t.

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <bit>
#include <cstdint>
#include <optional>

#include "cron/schedule.h"

namespace werk::cron {

namespace {

// Instants outside years 1-9999 are not walked (their civil arithmetic is
// not worth defending); no tick is returned outside them either.
constexpr int64_t kUnixSecondsMin = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kUnixSecondsMax = 253402300799;  // 9999-12-31T23:59:59Z

int WeekdayBit(absl::CivilDay d) {
  const absl::Weekday w = absl::GetWeekday(d);
  return w == absl::Weekday::sunday ? 0 : int(w) + 1;  // absl: monday = 0
}

}  // namespace

bool Schedule::DayMatches(absl::CivilDay d) const {
  const bool dom = (days_ >> d.day()) & 1;
  const bool dow = (weekdays_ >> WeekdayBit(d)) & 1;
  // Cron's rule: a starred field does not widen the other one.
  if (dom_star_ || dow_star_) return dom && dow;
  return dom || dow;
}

std::optional<absl::CivilMinute> Schedule::NextMatch(absl::CivilMinute m,
                                                     absl::CivilMinute limit) const {
  while (m < limit) {
    if (!((months_ >> m.month()) & 1)) {
      m = absl::CivilMinute(absl::CivilMonth(m) + 1);
      continue;
    }
    const absl::CivilDay day(m);
    if (!DayMatches(day)) {
      m = absl::CivilMinute(day + 1);
      continue;
    }
    const uint32_t hours = hours_ & (~uint32_t{0} << m.hour());
    if (hours == 0) {
      m = absl::CivilMinute(day + 1);
      continue;
    }
    if (const int h = std::countr_zero(hours); h != m.hour()) {
      m = absl::CivilMinute(absl::CivilHour(day) + h);
      continue;
    }
    const uint64_t minutes = minutes_ & (~uint64_t{0} << m.minute());
    if (minutes == 0) {
      m = absl::CivilMinute(absl::CivilHour(m) + 1);
      continue;
    }
    m = absl::CivilMinute(absl::CivilHour(m)) + std::countr_zero(minutes);
    if (m >= limit) break;
    return m;
  }
  return std::nullopt;
}

std::optional<absl::CivilMinute> Schedule::PrevMatch(absl::CivilMinute m,
                                                     absl::CivilMinute limit) const {
  while (m > limit) {
    if (!((months_ >> m.month()) & 1)) {
      m = absl::CivilMinute(absl::CivilMonth(m)) - 1;  // the last minute of the month before
      continue;
    }
    const absl::CivilDay day(m);
    if (!DayMatches(day)) {
      m = absl::CivilMinute(day) - 1;
      continue;
    }
    const uint32_t hours = hours_ & ((uint32_t{2} << m.hour()) - 1);
    if (hours == 0) {
      m = absl::CivilMinute(day) - 1;
      continue;
    }
    if (const int h = 31 - std::countl_zero(hours); h != m.hour()) {
      m = absl::CivilMinute(absl::CivilHour(day) + h) + 59;
      continue;
    }
    const uint64_t minutes = minutes_ & ((uint64_t{2} << m.minute()) - 1);
    if (minutes == 0) {
      m = absl::CivilMinute(absl::CivilHour(m)) - 1;
      continue;
    }
    m = absl::CivilMinute(absl::CivilHour(m)) + (63 - std::countl_zero(minutes));
    if (m <= limit) break;
    return m;
  }
  return std::nullopt;
}

int64_t Schedule::TickOf(absl::CivilMinute m) const {
  const absl::TimeZone::TimeInfo ti = zone_.At(absl::CivilSecond(m));
  return absl::ToUnixSeconds(ti.kind == absl::TimeZone::TimeInfo::SKIPPED ? ti.trans : ti.pre);
}

std::optional<int64_t> Schedule::NextAfter(int64_t unix_s) const {
  if (unix_s < kUnixSecondsMin || unix_s >= kUnixSecondsMax) return std::nullopt;
  absl::CivilMinute m(zone_.At(absl::FromUnixSeconds(unix_s)).cs);
  const absl::CivilMinute limit(m.year() + kHorizonYears, m.month(), m.day(), m.hour(), m.minute());
  // Minutes whose instant is not after unix_s are passed over: the rest of
  // unix_s's own minute, and in the second pass of a repeated hour the
  // minutes that already ticked in the first.
  while (std::optional<absl::CivilMinute> c = NextMatch(m, limit)) {
    const int64_t tick = TickOf(*c);
    if (tick > unix_s) return tick <= kUnixSecondsMax ? std::optional<int64_t>(tick) : std::nullopt;
    m = *c + 1;
  }
  return std::nullopt;
}

std::optional<int64_t> Schedule::LatestAtOrBefore(int64_t unix_s) const {
  if (unix_s < kUnixSecondsMin || unix_s > kUnixSecondsMax) return std::nullopt;
  const absl::Time at = absl::FromUnixSeconds(unix_s);
  const absl::TimeZone::CivilInfo ci = zone_.At(at);
  absl::CivilMinute m(ci.cs);
  // In the second pass of a repeated hour, every minute of the repeat up to
  // its end has ticked already (at its first occurrence), even those later
  // in civil time than unix_s's.
  const absl::TimeZone::TimeInfo ti = zone_.At(ci.cs);
  if (ti.kind == absl::TimeZone::TimeInfo::REPEATED && at >= ti.trans)
    m = absl::CivilMinute(zone_.At(ti.trans - absl::Seconds(1)).cs);
  const absl::CivilMinute limit(m.year() - kHorizonYears, m.month(), m.day(), m.hour(), m.minute());
  while (std::optional<absl::CivilMinute> c = PrevMatch(m, limit)) {
    const int64_t tick = TickOf(*c);
    if (tick <= unix_s)
      return tick >= kUnixSecondsMin ? std::optional<int64_t>(tick) : std::nullopt;
    m = *c - 1;
  }
  return std::nullopt;
}

}  // namespace werk::cron
