#pragma once
// Vocabulary types shared by every module (style P14): ids and positions that
// must not be mixed up get their own type.

#include <compare>
#include <cstdint>
#include <functional>

namespace werk::core {

// A distinct integer type: an Lsn and an Epoch cannot be passed for each
// other or for a byte offset by accident (a frame is encoded from an LSN, an
// epoch and a salt, three 64-bit integers side by side).
template <typename Tag, typename T>
class StrongInt {
 public:
  using value_type = T;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr auto operator<=>(const StrongInt&) const = default;
  constexpr StrongInt next() const { return StrongInt(v_ + 1); }

 private:
  T v_{};
};

struct LsnTag {};
struct EpochTag {};

// Log sequence number: strictly +1 per record within one shard's log. 0 means
// "nothing" (the first record has LSN 1).
using Lsn = StrongInt<LsnTag, uint64_t>;
// The log's generation: a segment or frame of an older epoch than the log
// has reached was written by a deposed primary (docs/wal-format.md, R10).
using Epoch = StrongInt<EpochTag, uint64_t>;

// A shard's id stays a plain uint32_t: it is an index (into the shard group,
// the mailbox's N x N rings, the server's slots, a vector of state machines)
// wherever it goes, and nothing else of that type travels with it that it
// could be swapped for; a strong type would add .value() at every index and
// prevent no mistake.

// Wall-clock time as nanoseconds since the Unix epoch (UTC). Records carry it;
// nothing inside the state machine reads a clock.
using UnixNanos = int64_t;

constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;

// Saturating: a record may carry any time (a client's `at`, a far retry), and
// arithmetic on it must not overflow.
constexpr UnixNanos SecondsToNanos(int64_t s) {
  if (s > INT64_MAX / kNanosPerSecond) return INT64_MAX;
  if (s < INT64_MIN / kNanosPerSecond) return INT64_MIN;
  return s * kNanosPerSecond;
}
constexpr UnixNanos AddNanos(UnixNanos t, int64_t d) {
  UnixNanos out;
  if (__builtin_add_overflow(t, d, &out)) return d > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

}  // namespace werk::core

template <typename Tag, typename T>
struct std::hash<werk::core::StrongInt<Tag, T>> {
  size_t operator()(const werk::core::StrongInt<Tag, T>& v) const noexcept {
    return std::hash<T>{}(v.value());
  }
};
