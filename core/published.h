#pragma once
// A value one thread publishes and any thread reads (design: a shard's
// stats snapshot, read by INFO on other shards, and by /metrics and the Web
// UI from their own threads). Each published value is immutable; a reader
// gets a reference to the whole of one value, never a mix of two, and
// keeps it alive as long as it holds it. Publishing swaps one pointer; a
// reader never waits for the publisher to build the next value, nor the
// publisher for a reader (libstdc++'s atomic shared_ptr guards the swap
// itself with a bit of the pointer, held for a few instructions).

#include <atomic>
#include <memory>

namespace werk::core {

template <class T>
class Published {
 public:
  // The publisher's thread only.
  void Publish(std::shared_ptr<const T> value) {
    value_.store(std::move(value), std::memory_order_release);
  }
  // Any thread; nullptr until the first Publish.
  std::shared_ptr<const T> Read() const { return value_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const T>> value_;
};

}  // namespace werk::core
