// Schedule::Parse: the five fields of an expression into bitsets, and the
// zone. The walk over civil time is in schedule_walk.cc.

#include "cron/schedule.h"

#include <absl/time/civil_time.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

namespace werk::cron {

namespace {

// abseil's string helpers take absl::string_view, which need not be
// std::string_view in the system's build: these few are written out.
std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A decimal of at most 4 digits and nothing else.
bool SmallNumber(std::string_view s, int* out) {
  if (s.empty() || s.size() > 4) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() &&
         std::isdigit(static_cast<unsigned char>(s[0]));
}

std::vector<std::string_view> Split(std::string_view s, std::string_view separators,
                                    bool skip_empty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find_first_of(separators, start);
    const std::string_view part = s.substr(start, end == s.npos ? s.npos : end - start);
    if (!(skip_empty && part.empty())) out.push_back(part);
    if (end == s.npos) return out;
    start = end + 1;
  }
}

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == s.npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

struct Field {
  const char* name;
  int min;
  int max;
  // Names of the values min.. (JAN.. or SUN..), or none.
  const std::array<std::string_view, 12>* names;
};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
// SUN..SAT are 0..6; the rest of the array is unused.
constexpr std::array<std::string_view, 12> kWeekdayNames = {"SUN", "MON", "TUE", "WED",
                                                            "THU", "FRI", "SAT"};

// Day-of-week takes 0-7: 7 is Sunday too, folded into bit 0 after parsing.
constexpr Field kFields[5] = {
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, &kMonthNames},
    {"day-of-week", 0, 7, &kWeekdayNames},
};

absl::Status FieldError(const Field& f, const std::string& why) {
  return absl::InvalidArgumentError(std::string(f.name) + ": " + why);
}

// A number or (for month and day-of-week) a name, within the field's range.
absl::StatusOr<int> ParseValue(const Field& f, std::string_view text) {
  if (text.empty()) return FieldError(f, "a value is missing");
  int v = 0;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    if (!SmallNumber(text, &v)) return FieldError(f, "'" + std::string(text) + "' is not a number");
  } else {
    if (f.names == nullptr) return FieldError(f, "'" + std::string(text) + "' is not a number");
    const std::string upper = Upper(text);
    int found = -1;
    for (size_t i = 0; i < f.names->size(); ++i)
      if (!(*f.names)[i].empty() && (*f.names)[i] == upper) found = int(i);
    if (found < 0)
      return FieldError(f, "'" + std::string(text) + "' is not a number or a " +
                               (f.names == &kMonthNames ? "month" : "weekday") + " name");
    return f.min + found;
  }
  if (v < f.min || v > f.max)
    return FieldError(f, std::to_string(v) + " is out of range " + std::to_string(f.min) + "-" +
                             std::to_string(f.max));
  return v;
}

// One item of a list: `*`, `v`, `a-b`, each optionally `/step`. Sets the
// matching bits of `bits` (bit i = value i).
absl::Status ParseItem(const Field& f, std::string_view item, uint64_t* bits) {
  if (item.empty()) return FieldError(f, "empty list item");
  std::string_view range = item;
  int step = 1;
  bool has_step = false;
  if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
    range = item.substr(0, slash);
    const std::string_view s = item.substr(slash + 1);
    if (!SmallNumber(s, &step))
      return FieldError(f, "step '" + std::string(s) + "' is not a number");
    if (step == 0) return FieldError(f, "step 0 (a step must be at least 1)");
    has_step = true;
  }
  int lo = f.min, hi = f.max;
  if (range == "*") {
    // The whole range (0-6 for day-of-week: 7 would repeat Sunday).
    if (f.max == 7) hi = 6;
  } else if (const size_t dash = range.find('-'); dash != std::string_view::npos) {
    absl::StatusOr<int> a = ParseValue(f, range.substr(0, dash));
    if (!a.ok()) return a.status();
    absl::StatusOr<int> b = ParseValue(f, range.substr(dash + 1));
    if (!b.ok()) return b.status();
    if (*a > *b)
      return FieldError(f, std::string(range) + " is a reversed range (write " +
                               std::to_string(*b) + "-" + std::to_string(*a) + ")");
    lo = *a;
    hi = *b;
  } else {
    absl::StatusOr<int> a = ParseValue(f, range);
    if (!a.ok()) return a.status();
    lo = *a;
    // `5/15`: from 5 to the end of the range, every 15.
    hi = has_step ? (f.max == 7 ? 6 : f.max) : *a;
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return absl::OkStatus();
}

absl::Status ParseField(const Field& f, std::string_view text, uint64_t* bits) {
  for (std::string_view item : Split(text, ",", false)) {
    if (absl::Status st = ParseItem(f, item, bits); !st.ok()) return st;
  }
  return absl::OkStatus();
}

std::string_view ExpandMacro(std::string_view expr) {
  const std::string upper = Upper(expr);
  if (upper == "@HOURLY") return "0 * * * *";
  if (upper == "@DAILY" || upper == "@MIDNIGHT") return "0 0 * * *";
  if (upper == "@WEEKLY") return "0 0 * * 0";
  if (upper == "@MONTHLY") return "0 0 1 * *";
  if (upper == "@YEARLY" || upper == "@ANNUALLY") return "0 0 1 1 *";
  return {};
}

// IANA names are letters, digits and "/_+-"; anything else (a path, "..",
// "file:") must not reach the tzdata loader, which would open it.
bool PlausibleZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '/' || name.find("..") != name.npos)
    return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '+' &&
        c != '-')
      return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Schedule> Schedule::Parse(std::string_view expr, std::string_view zone) {
  Schedule s;
  s.expression_ = std::string(Trim(expr));
  std::string_view fields_text = s.expression_;
  if (!fields_text.empty() && fields_text[0] == '@') {
    fields_text = ExpandMacro(fields_text);
    if (fields_text.empty())
      return absl::InvalidArgumentError(
          "unknown macro '" + s.expression_ +
          "' (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)");
  }
  const std::vector<std::string_view> fields = Split(fields_text, " \t", true);
  if (fields.size() != 5)
    return absl::InvalidArgumentError(
        "expected 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(fields.size()));
  uint64_t bits[5] = {};
  for (int i = 0; i < 5; ++i) {
    if (absl::Status st = ParseField(kFields[i], fields[i], &bits[i]); !st.ok()) return st;
  }
  s.minutes_ = bits[0];
  s.hours_ = uint32_t(bits[1]);
  s.days_ = uint32_t(bits[2]);
  s.months_ = uint16_t(bits[3]);
  s.weekdays_ = uint8_t((bits[4] | (bits[4] >> 7)) & 0x7f);  // 7 is Sunday
  s.dom_star_ = fields[2][0] == '*';
  s.dow_star_ = fields[4][0] == '*';

  if (zone.empty() || zone == "UTC") {
    s.zone_name_ = "UTC";
    s.zone_ = absl::UTCTimeZone();
  } else if (!PlausibleZoneName(zone) || !absl::LoadTimeZone(std::string(zone), &s.zone_)) {
    return absl::InvalidArgumentError("unknown time zone '" + std::string(zone) + "'");
  } else {
    s.zone_name_ = std::string(zone);
  }
  // Whether it fires is a question of civil time alone (a skipped minute
  // still fires), and the calendar repeats every 400 years, so any span of
  // kHorizonYears answers it.
  const absl::CivilMinute from(2000, 1, 1, 0, 0);
  if (!s.NextMatch(from, absl::CivilMinute(2000 + kHorizonYears, 1, 1, 0, 0)))
    return absl::InvalidArgumentError("never fires (no day matches: e.g. February 30)");
  return s;
}

}  // namespace werk::cron
