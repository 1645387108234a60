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

}  // namespace
}  // namespace werk::core
