#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace werk::core {
namespace {

struct T : TimerHook {
  int id = 0;
};

std::vector<int> AdvanceAll(TimerWheel& w, int64_t now) {
  std::vector<int> ids;
  TimerHook* out[16];
  while (true) {
    const size_t n = w.Advance(now, out, 16);
    for (size_t i = 0; i < n; ++i) ids.push_back(static_cast<T*>(out[i])->id);
    if (n < 16) break;
  }
  return ids;
}

TEST(TimerWheel, FiresAtExpiryNotBefore) {
  TimerWheel w(1000);
  T a;
  a.id = 1;
  w.Arm(&a, 1500);
  EXPECT_TRUE(AdvanceAll(w, 1499).empty());
  EXPECT_TRUE(a.armed());
  EXPECT_EQ(AdvanceAll(w, 1500), std::vector<int>{1});
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, PastExpiryFiresOnNextAdvance) {
  TimerWheel w(1000);
  T a;
  a.id = 7;
  w.Arm(&a, 10);
  EXPECT_EQ(w.NextEventTick(), 1000);
  EXPECT_EQ(AdvanceAll(w, 1000), std::vector<int>{7});
}

// Regression: an expiry whose bits above the wheel's top level differ from
// now's (a job scheduled after 2109, in wall-clock milliseconds from today)
// was placed at a level that does not exist, writing past the wheel.
TEST(TimerWheel, ExpiriesBeyondTheTopLevelFireAtItsEnd) {
  const int64_t now = 1'764'633'600'000;  // 2025-12-02 in ms
  TimerWheel w(now);
  constexpr int64_t kTopSpan = TimerWheel::kHorizonTicks;
  T far, farther, max;
  far.id = 1;
  farther.id = 2;
  max.id = 3;
  w.Arm(&far, 4'418'064'000'000);  // 2110-01-01
  w.Arm(&farther, 10'413'792'000'000);  // 2300-01-01
  w.Arm(&max, INT64_MAX);
  EXPECT_EQ(w.size(), 3u);
  const int64_t end = now | (kTopSpan - 1);
  EXPECT_TRUE(AdvanceAll(w, end - 1).empty());
  auto fired = AdvanceAll(w, end);
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

// Any tick is accepted, including ones before 1970 and a wheel started there.
TEST(TimerWheel, NegativeTicksAreDueAtOnce) {
  TimerWheel w(-5);
  T a, b;
  a.id = 1;
  b.id = 2;
  w.Arm(&a, INT64_MIN);
  w.Arm(&b, 3);
  EXPECT_EQ(AdvanceAll(w, 0), std::vector<int>{1});
  EXPECT_EQ(AdvanceAll(w, 3), std::vector<int>{2});
}

TEST(TimerWheel, CancelPreventsFiring) {
  TimerWheel w(0);
  T a, b;
  a.id = 1;
  b.id = 2;
  w.Arm(&a, 100);
  w.Arm(&b, 100);
  w.Cancel(&a);
  w.Cancel(&a);  // idempotent
  EXPECT_EQ(AdvanceAll(w, 1000), std::vector<int>{2});
}

TEST(TimerWheel, LongJumpCascadesThroughLevels) {
  // A dead-set purge 180 days out, in milliseconds, with a clock jump.
  TimerWheel w(1'700'000'000'000);
  T a;
  a.id = 3;
  const int64_t at = 1'700'000'000'000 + 180LL * 86400 * 1000;
  w.Arm(&a, at);
  EXPECT_TRUE(AdvanceAll(w, at - 1).empty());
  EXPECT_EQ(AdvanceAll(w, at + 5), std::vector<int>{3});
}

TEST(TimerWheel, AdvanceIsBoundedPerCall) {
  TimerWheel w(0);
  std::vector<T> ts(100);
  for (int i = 0; i < 100; ++i) {
    ts[i].id = i;
    w.Arm(&ts[i], 50);
  }
  TimerHook* out[100];
  EXPECT_EQ(w.Advance(60, out, 30), 30u);
  EXPECT_EQ(w.Advance(60, out, 100), 70u);
}

TEST(TimerWheel, NextEventTickIsALowerBound) {
  TimerWheel w(0);
  EXPECT_FALSE(w.NextEventTick().has_value());
  T a;
  w.Arm(&a, 5000);
  ASSERT_TRUE(w.NextEventTick().has_value());
  EXPECT_LE(*w.NextEventTick(), 5000);
  EXPECT_GT(*w.NextEventTick(), 0);
}

// Randomised against a reference model: every timer fires exactly once, in
// a step whose time is >= its expiry and < the next step's time.
TEST(TimerWheel, MatchesReferenceModel) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    const int64_t start = int64_t(rng() % 1'000'000'000'000);
    TimerWheel w(start);
    std::vector<T> ts(2000);
    std::map<int, int64_t> expiry;  // armed id -> expiry
    int64_t now = start;
    for (int step = 0; step < 3000; ++step) {
      const int op = int(rng() % 10);
      const int id = int(rng() % ts.size());
      ts[id].id = id;
      if (op < 5 && !ts[id].armed()) {
        const int64_t span = (rng() % 4 == 0) ? int64_t(rng() % 100'000'000) : int64_t(rng() % 5000);
        const int64_t at = now + span - 10;
        w.Arm(&ts[id], at);
        expiry[id] = at;
      } else if (op < 7 && ts[id].armed()) {
        w.Cancel(&ts[id]);
        expiry.erase(id);
      } else {
        const int64_t jump = (rng() % 50 == 0) ? int64_t(rng() % 200'000'000) : int64_t(rng() % 300);
        now += jump;
        for (int fired : AdvanceAll(w, now)) {
          ASSERT_TRUE(expiry.count(fired)) << "seed " << seed << " fired twice or cancelled";
          ASSERT_LE(expiry[fired], now) << "seed " << seed << " fired early";
          expiry.erase(fired);
        }
        for (auto& [id2, at] : expiry) ASSERT_GT(at, now) << "seed " << seed << " missed " << id2;
      }
      ASSERT_EQ(w.size(), expiry.size());
    }
  }
}

}  // namespace
}  // namespace werk::core
