#include "core/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace werk::core {

// Ticks before 0 (1970, for wall-clock milliseconds) count as 0: the slot
// arithmetic below needs expiries and now_ of the same sign.
TimerWheel::TimerWheel(int64_t now_tick) : now_(std::max<int64_t>(now_tick, 0)) {
  for (auto& level : slots_)
    for (auto& head : level) head.prev = head.next = &head;
  expired_.prev = expired_.next = &expired_;
}

void TimerWheel::Append(ListNode* head, ListNode* n) {
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

void TimerWheel::Arm(TimerHook* h, int64_t expiry_tick) {
  WERK_CHECK(!h->armed());
  // Any tick is accepted: one at or before now_ is due at once; one outside
  // the span of the top level — ticks that share now_'s bits above the
  // wheel's 42 (139 years of milliseconds) — fires at the span's last tick.
  // (Clamping to now_ + horizon instead would leave a differing bit above
  // the top level, and Place would index a level that does not exist.)
  if (expiry_tick > now_ && ((uint64_t(expiry_tick) ^ uint64_t(now_)) >> (kLevels * kSlotBits)))
    expiry_tick = now_ | (kHorizonTicks - 1);
  h->expiry_ = expiry_tick;
  ++size_;
  Place(h);
}

// Level = the highest 6-bit group in which expiry and now differ; within that
// level the slot is the expiry's group. Invariant: every hook at level L has
// the same groups above L as now_, and a slot index greater than now_'s.
void TimerWheel::Place(TimerHook* h) {
  if (h->expiry_ <= now_) {
    h->level_ = kExpiredLevel;
    Append(&expired_, h);
    return;
  }
  const uint64_t diff = uint64_t(h->expiry_) ^ uint64_t(now_);
  const int level = (63 - std::countl_zero(diff)) / kSlotBits;
  WERK_DCHECK(level < kLevels);
  const int slot = int((uint64_t(h->expiry_) >> (level * kSlotBits)) & (kSlots - 1));
  h->level_ = uint8_t(level);
  h->slot_ = uint8_t(slot);
  Append(&slots_[level][slot], h);
  occupied_[level] |= uint64_t(1) << slot;
}

void TimerWheel::Cancel(TimerHook* h) {
  if (!h->armed()) return;
  h->Unlink();
  --size_;
  if (h->level_ != kExpiredLevel && IsEmpty(&slots_[h->level_][h->slot_]))
    occupied_[h->level_] &= ~(uint64_t(1) << h->slot_);
}

// The next tick at which a slot becomes current: for level 0 that is an
// expiry; for higher levels it is the start of the slot's span, when its hooks
// cascade down.
int64_t TimerWheel::NextCascadeOrExpiry() const {
  int64_t best = std::numeric_limits<int64_t>::max();
  for (int level = 0; level < kLevels; ++level) {
    const int shift = level * kSlotBits;
    const int current = int((uint64_t(now_) >> shift) & (kSlots - 1));
    const uint64_t later =
        current == kSlots - 1 ? 0 : occupied_[level] & (~uint64_t(0) << (current + 1));
    if (later == 0) continue;
    const int slot = std::countr_zero(later);
    const int upper_shift = shift + kSlotBits;
    const uint64_t base = (uint64_t(now_) >> upper_shift) << upper_shift;
    const int64_t tick = int64_t(base | (uint64_t(slot) << shift));
    if (tick < best) best = tick;
  }
  return best;
}

std::optional<int64_t> TimerWheel::NextEventTick() const {
  if (size_ == 0) return std::nullopt;
  if (!IsEmpty(&expired_)) return now_;
  return NextCascadeOrExpiry();
}

size_t TimerWheel::Advance(int64_t now_tick, TimerHook** out, size_t max) {
  size_t n = 0;
  auto drain = [&] {
    while (n < max && !IsEmpty(&expired_)) {
      auto* h = static_cast<TimerHook*>(expired_.next);
      h->Unlink();
      --size_;
      out[n++] = h;
    }
  };
  drain();
  while (n < max && now_ < now_tick) {
    const int64_t next = NextCascadeOrExpiry();
    if (next > now_tick) {
      now_ = now_tick;
      break;
    }
    now_ = next;
    // Cascade from the top so hooks re-placed from a high level into a lower
    // level's current slot are handled in this same step.
    for (int level = kLevels - 1; level >= 0; --level) {
      const int shift = level * kSlotBits;
      if (level > 0 && (uint64_t(now_) & ((uint64_t(1) << shift) - 1)) != 0) continue;
      const int slot = int((uint64_t(now_) >> shift) & (kSlots - 1));
      if (!(occupied_[level] & (uint64_t(1) << slot))) continue;
      occupied_[level] &= ~(uint64_t(1) << slot);
      ListNode& head = slots_[level][slot];
      while (!IsEmpty(&head)) {
        auto* h = static_cast<TimerHook*>(head.next);
        h->Unlink();
        Place(h);  // expiry == now_ lands in expired_
      }
    }
    drain();
  }
  return n;
}

}  // namespace werk::core
