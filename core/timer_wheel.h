#pragma once
// A hierarchical timer wheel (style P16), unit-agnostic: callers choose what a
// tick is (the shard uses wall-clock milliseconds).
//
// Seven levels of 64 slots; level L slot covers 64^L ticks, so the wheel spans
// 64^7 ticks (~139 years of milliseconds) — expiries beyond are clamped to the
// horizon. Occupancy bitmaps let Advance() jump straight to the next tick at
// which something happens, so an idle wheel costs nothing and a clock jump
// of days costs a handful of steps.
//
// Hooks are intrusive: Arm and Cancel are O(1) and never allocate, which fits
// timers that are mostly cancelled (reservations are usually ACKed in time).
// Advance() never runs callbacks: it hands back expired hooks, at most `max`
// per call, so a million timers due at once are drained over several loop
// iterations instead of stalling the shard.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/intrusive_list.h"

namespace werk::core {

class TimerWheel;

class TimerHook : public ListNode {
 public:
  bool armed() const { return linked(); }
  int64_t expiry() const { return expiry_; }

 private:
  friend class TimerWheel;
  int64_t expiry_ = 0;
  uint8_t level_ = 0;
  uint8_t slot_ = 0;
};

class TimerWheel {
 public:
  static constexpr int kLevels = 7;
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;
  static constexpr int64_t kHorizonTicks = int64_t(1) << (kLevels * kSlotBits);

  explicit TimerWheel(int64_t now_tick);
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Arms `h` to expire at `expiry_tick`. An expiry at or before now() fires on
  // the next Advance(). `h` must not be armed.
  void Arm(TimerHook* h, int64_t expiry_tick);
  // Disarms `h`; a no-op if it is not armed.
  void Cancel(TimerHook* h);

  // Moves time forward to `now_tick` (never backwards; an earlier value only
  // drains already-expired hooks) and stores up to `max` expired, now disarmed,
  // hooks in `out`. Returns how many were stored. If it returns `max`, more may
  // be due: call again.
  size_t Advance(int64_t now_tick, TimerHook** out, size_t max);

  // The earliest tick at which Advance() could return something: a lower
  // bound used to decide how long the loop may sleep. nullopt if empty.
  std::optional<int64_t> NextEventTick() const;

  int64_t now() const { return now_; }
  size_t size() const { return size_; }
  bool has_expired() const { return !IsEmpty(&expired_); }

 private:
  static constexpr uint8_t kExpiredLevel = 0xff;

  void Place(TimerHook* h);
  static void Append(ListNode* head, ListNode* n);
  static bool IsEmpty(const ListNode* head) { return head->next == head; }
  int64_t NextCascadeOrExpiry() const;

  int64_t now_;
  size_t size_ = 0;
  std::array<uint64_t, kLevels> occupied_{};
  std::array<std::array<ListNode, kSlots>, kLevels> slots_;
  ListNode expired_;
};

}  // namespace werk::core
