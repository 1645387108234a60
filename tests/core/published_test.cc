// A value one thread publishes and others read (core/published.h): readers
// see whole values, never a mix, and never an older one after a newer (also
// run under ThreadSanitizer).

#include "core/published.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace werk::core {
namespace {

struct Pair {
  uint64_t a = 0;
  std::vector<uint64_t> b;  // a copy of `a`, many times: a torn value would differ
};

TEST(Published, ReadersSeeWholeValuesInOrder) {
  Published<Pair> p;
  EXPECT_FALSE(p.Read().has_value());
  Pair first;
  p.Publish(first);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load(std::memory_order_relaxed)) {
        std::optional<Pair> v = p.Read();
        ASSERT_TRUE(v.has_value());
        for (uint64_t x : v->b) ASSERT_EQ(x, v->a);
        ASSERT_GE(v->a, last);
        last = v->a;
      }
    });
  }
  Pair v;
  for (uint64_t i = 1; i <= 20000; ++i) {
    v.a = i;
    v.b.assign(16, i);
    p.Publish(v);  // `v` gets the replaced value back, and is built into again
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(p.Read()->a, 20000u);
}

// A value whose copy waits at a gate: readers can be held inside slots.
struct Gated {
  static inline std::atomic<int> copying{0};
  static inline std::atomic<bool> open{false};
  int v = 0;
  Gated() = default;
  explicit Gated(int x) : v(x) {}
  Gated(const Gated& o) : v(o.v) {
    copying.fetch_add(1);
    while (!open.load()) std::this_thread::yield();
  }
  Gated& operator=(const Gated&) = default;
  Gated(Gated&&) = default;
  Gated& operator=(Gated&&) = default;
};

TEST(Published, APublisherNeverWritesASlotAReaderIsIn) {
  Published<Gated> p;
  std::vector<std::thread> readers;
  std::vector<int> seen(Published<Gated>::kSlots - 1, -1);
  // Each reader enters the slot current at the time, and stays in it.
  for (int r = 0; r < int(seen.size()); ++r) {
    Gated g(r + 1);
    ASSERT_TRUE(p.Publish(g));
    readers.emplace_back([&, r] { seen[r] = p.Read()->v; });
    while (Gated::copying.load() < r + 1) std::this_thread::yield();
  }
  Gated last(100);
  ASSERT_TRUE(p.Publish(last));  // the one slot nobody is in
  Gated refused(200);
  EXPECT_FALSE(p.Publish(refused));  // every other slot has a reader
  EXPECT_EQ(refused.v, 200);          // and the value stays with the caller
  Gated::open.store(true);
  for (auto& t : readers) t.join();
  for (int r = 0; r < int(seen.size()); ++r) EXPECT_EQ(seen[r], r + 1);
  EXPECT_TRUE(p.Publish(refused));
  EXPECT_EQ(p.Read()->v, 200);
}

}  // namespace
}  // namespace werk::core
