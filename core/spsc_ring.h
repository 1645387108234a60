#pragma once
// A bounded single-producer single-consumer ring (style P9): one producer
// thread, one consumer thread, no locks. Head and tail live on their own
// cache lines, and each side keeps a cached copy of the other's index so the
// shared line is read only when the cached view says full/empty. A full ring
// is reported to the producer (backpressure), never grown.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace werk::core {

inline constexpr size_t kCacheLineBytes = 64;

template <typename T, size_t kCapacity>
class SpscRing {
  static_assert(kCapacity >= 2 && (kCapacity & (kCapacity - 1)) == 0,
                "capacity must be a power of two");

 public:
  SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  static constexpr size_t capacity() { return kCapacity; }

  // Producer side. False when full.
  bool TryPush(const T& v) {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_head_ == kCapacity) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail - cached_head_ == kCapacity) return false;
    }
    slots_[tail & (kCapacity - 1)] = v;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side. False when empty.
  bool TryPop(T* out) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == cached_tail_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head == cached_tail_) return false;
    }
    *out = slots_[head & (kCapacity - 1)];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer side: up to `max` items, one release store for the batch.
  size_t PopBatch(T* out, size_t max) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (head == cached_tail_) cached_tail_ = tail_.load(std::memory_order_acquire);
    size_t n = size_t(cached_tail_ - head);
    if (n > max) n = max;
    for (size_t i = 0; i < n; ++i) out[i] = slots_[(head + i) & (kCapacity - 1)];
    if (n) head_.store(head + n, std::memory_order_release);
    return n;
  }

  // Either side; a snapshot that may be stale by the time it is used.
  bool ApproxEmpty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  alignas(kCacheLineBytes) std::atomic<uint64_t> head_{0};  // consumer writes
  uint64_t cached_tail_ = 0;                                // consumer's view
  alignas(kCacheLineBytes) std::atomic<uint64_t> tail_{0};  // producer writes
  uint64_t cached_head_ = 0;                                // producer's view
  alignas(kCacheLineBytes) T slots_[kCapacity];
};

}  // namespace werk::core
