#pragma once
// A value one thread publishes and any thread reads without a lock (a
// shard's stats snapshot: read by INFO on other shards, and by /metrics and
// the Web UI from their own threads). A reader gets a copy of one whole
// published value, never a mix of two, and never an older one after a newer.
//
// kSlots slots, each with a count of the readers inside it; `current_` names
// the published one. The publisher moves a value into a slot that is not
// current and has no reader, then makes it current. A reader announces
// itself in the current slot, checks that it is still current (else it
// leaves and tries again), copies, and leaves. The announce-then-check of
// the reader and the check-then-write of the publisher are sequentially
// consistent, so one of them always sees the other: a publisher never
// writes a slot a reader copies, and a reader that passed its check copies
// a value whose writing happened before it was made current.
//
// Neither side ever waits for the other. A publisher finds no free slot only
// while kSlots - 1 readers each linger in a different old slot; Publish()
// then keeps the value and says so, and the publisher tries again later.
// (std::atomic<std::shared_ptr> would also do, but libstdc++ 12 guards its
// pointer with a lock bit ThreadSanitizer cannot follow; this is checked.)

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

namespace werk::core {

template <class T>
class Published {
 public:
  static constexpr uint32_t kSlots = 4;
  static constexpr uint32_t kNone = kSlots;

  // The publisher's thread only. Swaps `value` into a free slot and makes it
  // current; `value` gets that slot's old value back (to build the next one
  // into, keeping its memory). Returns false, leaving `value` alone, if no
  // slot is free (readers linger in all the others).
  bool Publish(T& value) {
    const uint32_t current = current_.load(std::memory_order_seq_cst);
    for (uint32_t i = 0; i < kSlots; ++i) {
      const uint32_t s = (current == kNone ? 0 : current + 1 + i) % kSlots;
      if (s == current) continue;
      if (slots_[s].readers.load(std::memory_order_seq_cst) != 0) continue;
      std::swap(slots_[s].value, value);
      current_.store(s, std::memory_order_seq_cst);
      return true;
    }
    return false;
  }

  // Any thread: a copy of the latest value (none before the first Publish).
  std::optional<T> Read() const {
    for (;;) {
      const uint32_t s = current_.load(std::memory_order_seq_cst);
      if (s == kNone) return std::nullopt;
      const Slot& slot = slots_[s];
      slot.readers.fetch_add(1, std::memory_order_seq_cst);
      if (current_.load(std::memory_order_seq_cst) == s) {
        std::optional<T> copy(slot.value);
        slot.readers.fetch_sub(1, std::memory_order_release);
        return copy;
      }
      slot.readers.fetch_sub(1, std::memory_order_release);  // republished: again
    }
  }

 private:
  struct alignas(64) Slot {
    mutable std::atomic<uint32_t> readers{0};
    T value{};
  };
  std::array<Slot, kSlots> slots_;
  std::atomic<uint32_t> current_{kNone};
};

}  // namespace werk::core
