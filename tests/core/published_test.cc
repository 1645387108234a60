// A value one thread publishes and others read (core/published.h): readers
// see whole values, never a mix, and never an older one after a newer (also
// run under ThreadSanitizer).

#include "core/published.h"

#include <gtest/gtest.h>

#include <atomic>
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
  EXPECT_EQ(p.Read(), nullptr);
  p.Publish(std::make_shared<const Pair>());
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      while (!done.load(std::memory_order_relaxed)) {
        std::shared_ptr<const Pair> v = p.Read();
        ASSERT_NE(v, nullptr);
        for (uint64_t x : v->b) ASSERT_EQ(x, v->a);
        ASSERT_GE(v->a, last);
        last = v->a;
      }
    });
  }
  for (uint64_t i = 1; i <= 20000; ++i) {
    auto v = std::make_shared<Pair>();
    v->a = i;
    v->b.assign(16, i);
    p.Publish(std::move(v));
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(p.Read()->a, 20000u);
}

}  // namespace
}  // namespace werk::core
