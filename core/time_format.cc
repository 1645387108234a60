#include "core/time_format.h"

#include <cstdio>

namespace werk::core {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian civil date (H. Hinnant).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

void Append2(std::string& out, unsigned v) {
  out.push_back(char('0' + v / 10));
  out.push_back(char('0' + v % 10));
}

}  // namespace

int64_t UtcDayNumber(UnixNanos t) { return FloorDiv(t, 86400 * kNanosPerSecond); }

void AppendRfc3339Nano(std::string& out, UnixNanos t) {
  const int64_t days = UtcDayNumber(t);
  // t - days * ns-per-day would overflow near INT64_MIN; the modulo cannot.
  int64_t rem_ns = t % (86400 * kNanosPerSecond);
  if (rem_ns < 0) rem_ns += 86400 * kNanosPerSecond;
  const Civil c = CivilFromDays(days);
  const int64_t secs = rem_ns / kNanosPerSecond;
  int64_t frac = rem_ns % kNanosPerSecond;
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04lld-", static_cast<long long>(c.year));
  out.append(buf, size_t(n));
  Append2(out, c.month);
  out.push_back('-');
  Append2(out, c.day);
  out.push_back('T');
  Append2(out, unsigned(secs / 3600));
  out.push_back(':');
  Append2(out, unsigned(secs / 60 % 60));
  out.push_back(':');
  Append2(out, unsigned(secs % 60));
  if (frac != 0) {
    char digits[9];
    for (int i = 8; i >= 0; --i) {
      digits[i] = char('0' + frac % 10);
      frac /= 10;
    }
    int len = 9;
    while (len > 0 && digits[len - 1] == '0') --len;
    out.push_back('.');
    out.append(digits, size_t(len));
  }
  out.push_back('Z');
}

std::string FormatRfc3339Nano(UnixNanos t) {
  std::string s;
  s.reserve(32);
  AppendRfc3339Nano(s, t);
  return s;
}

std::string UtcDate(UnixNanos t) {
  const Civil c = CivilFromDays(UtcDayNumber(t));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.year), c.month,
                c.day);
  return buf;
}

std::string UtcTimeOfDay(UnixNanos t) {
  const int64_t days = UtcDayNumber(t);
  const int64_t secs = (t - days * 86400 * kNanosPerSecond) / kNanosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld UTC", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf;
}

namespace {

class TimeParser {
 public:
  explicit TimeParser(std::string_view s) : s_(s) {}

  bool Digits(int count, int64_t* out, const char* what) {
    int64_t v = 0;
    *out = 0;
    for (int i = 0; i < count; ++i) {
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return Fail(what);
      v = v * 10 + (s_[pos_++] - '0');
    }
    *out = v;
    return true;
  }
  bool Literal(char c, const char* what) {
    if (pos_ >= s_.size() || s_[pos_] != c) return Fail(what);
    ++pos_;
    return true;
  }
  bool Fail(const char* what) {
    if (error_.empty()) {
      error_ = "expected ";
      error_ += what;
      error_ += " at offset ";
      error_ += std::to_string(pos_);
    }
    return false;
  }
  bool Range(int64_t v, int64_t lo, int64_t hi, const char* what) {
    if (v < lo || v > hi) {
      error_ = std::string(what) + " out of range";
      return false;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

OpResult<UnixNanos> ParseRfc3339(std::string_view s) {
  TimeParser p(s);
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  auto fail = [&]() -> OpResult<UnixNanos> {
    return absl::InvalidArgumentError(p.error_.empty() ? "invalid timestamp" : p.error_);
  };
  if (!p.Digits(4, &year, "a 4-digit year") || !p.Literal('-', "'-'") ||
      !p.Digits(2, &month, "a 2-digit month") || !p.Literal('-', "'-'") ||
      !p.Digits(2, &day, "a 2-digit day") || !p.Literal('T', "'T'") ||
      !p.Digits(2, &hour, "a 2-digit hour") || !p.Literal(':', "':'") ||
      !p.Digits(2, &minute, "a 2-digit minute") || !p.Literal(':', "':'") ||
      !p.Digits(2, &second, "2-digit seconds"))
    return fail();
  // Nanoseconds since 1970 in 64 bits reach from 1677 to 2262.
  if (!p.Range(year, 1678, 2261, "year (werk supports 1678-2261)")) return fail();
  if (!p.Range(month, 1, 12, "month") || !p.Range(hour, 0, 23, "hour") ||
      !p.Range(minute, 0, 59, "minute") || !p.Range(second, 0, 59, "second"))
    return fail();
  if (!p.Range(day, 1, DaysInMonth(year, unsigned(month)), "day")) return fail();
  int64_t frac_ns = 0;
  if (p.pos_ < s.size() && (s[p.pos_] == '.' || s[p.pos_] == ',')) {
    ++p.pos_;
    int digits = 0;
    while (p.pos_ < s.size() && s[p.pos_] >= '0' && s[p.pos_] <= '9') {
      if (digits < 9) frac_ns = frac_ns * 10 + (s[p.pos_] - '0');
      ++digits;
      ++p.pos_;
    }
    if (digits == 0) return (p.Fail("fractional second digits"), fail());
    for (int i = digits; i < 9; ++i) frac_ns *= 10;
  }
  int64_t offset_s = 0;
  if (p.pos_ < s.size() && s[p.pos_] == 'Z') {
    ++p.pos_;
  } else if (p.pos_ < s.size() && (s[p.pos_] == '+' || s[p.pos_] == '-')) {
    const int sign = s[p.pos_] == '-' ? -1 : 1;
    ++p.pos_;
    int64_t oh = 0, om = 0;
    if (!p.Digits(2, &oh, "a 2-digit zone hour") || !p.Literal(':', "':' in the zone") ||
        !p.Digits(2, &om, "2-digit zone minutes"))
      return fail();
    if (!p.Range(oh, 0, 23, "zone hour") || !p.Range(om, 0, 59, "zone minute")) return fail();
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    p.Fail("a zone ('Z' or +hh:mm)");
    return fail();
  }
  if (p.pos_ != s.size()) {
    p.error_ = "extra text after the timestamp";
    return fail();
  }
  const int64_t days = DaysFromCivil(year, unsigned(month), unsigned(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * kNanosPerSecond + frac_ns;
}

}  // namespace werk::core
