#pragma once
// Time is injected (style P15). The shard loop reads the clock once per
// iteration and hands the value to everything it runs; records carry the time
// they were created at, so replay never consults a clock.

#include <ctime>

#include "core/types.h"

namespace werk::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixNanos WallNow() const = 0;
  // Nanoseconds from an arbitrary origin; never jumps.
  virtual int64_t MonotonicNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixNanos WallNow() const override { return Read(CLOCK_REALTIME); }
  int64_t MonotonicNow() const override { return Read(CLOCK_MONOTONIC); }
  static const SystemClock& Instance() {
    static SystemClock clock;
    return clock;
  }

 private:
  static int64_t Read(clockid_t id) {
    timespec ts;
    clock_gettime(id, &ts);
    return int64_t(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
  }
};

// A clock tests move by hand, including jumps in either direction.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixNanos wall = 1'700'000'000 * kNanosPerSecond) : wall_(wall) {}
  UnixNanos WallNow() const override { return wall_; }
  int64_t MonotonicNow() const override { return mono_; }
  void Advance(int64_t ns) {
    wall_ += ns;
    mono_ += ns;
  }
  void SetWall(UnixNanos wall) { wall_ = wall; }

 private:
  UnixNanos wall_;
  int64_t mono_ = 0;
};

}  // namespace werk::core
