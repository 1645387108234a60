// The SPSC ring and the cross-shard mailbox under real threads (also built
// with ThreadSanitizer in CI).

#include "core/mailbox.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

namespace werk::core {
namespace {

TEST(SpscRing, FifoAndFull) {
  SpscRing<int, 8> r;
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(r.TryPush(i));
  EXPECT_FALSE(r.TryPush(99));  // full: backpressure, nothing overwritten
  int v;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(r.TryPop(&v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(r.TryPop(&v));
  int batch[8];
  for (int i = 0; i < 5; ++i) r.TryPush(i);
  EXPECT_EQ(r.PopBatch(batch, 3), 3u);
  EXPECT_EQ(batch[2], 2);
  EXPECT_EQ(r.PopBatch(batch, 8), 2u);
  EXPECT_TRUE(r.ApproxEmpty());
}

TEST(SpscRing, TwoThreadsKeepOrderAndLoseNothing) {
  SpscRing<uint64_t, 256> r;
  constexpr uint64_t kN = 2'000'000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kN; ++i)
      while (!r.TryPush(i)) std::this_thread::yield();
  });
  uint64_t expected = 0;
  uint64_t buf[32];
  while (expected < kN) {
    const size_t n = r.PopBatch(buf, 32);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(buf[i], expected++);
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
}

class EventfdWaker final : public ShardWaker {
 public:
  EventfdWaker() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~EventfdWaker() override { ::close(fd_); }
  void Wake() override {
    uint64_t one = 1;
    (void)::write(fd_, &one, sizeof one);
    ++wakes;
  }
  // Sleeps until woken or `ms` passed.
  void Wait(int ms) {
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, ms);
    uint64_t v;
    (void)::read(fd_, &v, sizeof v);
  }
  std::atomic<uint64_t> wakes{0};

 private:
  int fd_;
};

// Shards on their own threads send each other tasks that bump a counter on
// the target and report back; every task runs exactly once and returns
// exactly once, through full rings and sleeping shards.
TEST(Mailbox, ManyShardsManyTasksNoLossNoDuplicate) {
  for (uint32_t shards : {2u, 3u, 4u}) {
    Mailbox mailbox(shards);
    std::vector<std::unique_ptr<EventfdWaker>> wakers;
    for (uint32_t s = 0; s < shards; ++s) {
      wakers.push_back(std::make_unique<EventfdWaker>());
      mailbox.SetWaker(s, wakers.back().get());
    }
    constexpr uint64_t kPerShard = 20'000;
    std::vector<std::atomic<uint64_t>> ran(shards);     // tasks run on each shard
    std::vector<std::atomic<uint64_t>> returned(shards);  // results back at each origin
    std::atomic<uint64_t> counted_wakeups{0};
    std::vector<std::thread> threads;
    for (uint32_t s = 0; s < shards; ++s) {
      threads.emplace_back([&, s] {
        ShardMailbox box(&mailbox, s);
        std::mt19937 rng(s);
        uint64_t submitted = 0;
        uint64_t local_ran = 0;  // touched only on this thread: no data race
        while (returned[s].load() < kPerShard || box.backlog() > 0) {
          for (int i = 0; i < 64 && submitted < kPerShard; ++i, ++submitted) {
            uint32_t to = rng() % shards;
            if (to == s) to = (to + 1) % shards;
            box.Submit(to, new LambdaTask([&ran, to] { ++ran[to]; },
                                          [&returned, s] { ++returned[s]; }));
          }
          if (box.Poll() == 0 && submitted == kPerShard) {
            if (box.PrepareToSleep()) {
              wakers[s]->Wait(5);
              box.Awake();
            }
          }
          ++local_ran;
        }
        // Keep serving others until everyone is done.
        while (true) {
          bool all = true;
          for (uint32_t o = 0; o < shards; ++o) all &= returned[o].load() == kPerShard;
          if (all && box.backlog() == 0) break;
          if (box.Poll() == 0 && box.PrepareToSleep()) {
            wakers[s]->Wait(1);
            box.Awake();
          }
        }
        counted_wakeups += box.wakeups();
      });
    }
    for (auto& t : threads) t.join();
    uint64_t total_ran = 0;
    for (uint32_t s = 0; s < shards; ++s) {
      EXPECT_EQ(returned[s].load(), kPerShard) << shards << " shards";
      total_ran += ran[s].load();
    }
    EXPECT_EQ(total_ran, kPerShard * shards);
    uint64_t woken = 0;
    for (auto& w : wakers) woken += w->wakes.load();
    EXPECT_EQ(counted_wakeups.load(), woken);
  }
}

// Only a sleeping target is woken, once per sleep, and the sender counts it.
TEST(Mailbox, WakesASleepingShardOnce) {
  Mailbox mailbox(2);
  EventfdWaker waker;
  mailbox.SetWaker(1, &waker);
  ShardMailbox a(&mailbox, 0), b(&mailbox, 1);
  a.Submit(1, new LambdaTask([] {}, [] {}));
  a.Flush();
  EXPECT_EQ(a.wakeups(), 0u);  // awake: nothing to do
  b.Poll();
  a.Poll();
  ASSERT_TRUE(b.PrepareToSleep());
  a.Submit(1, new LambdaTask([] {}, [] {}));
  a.Submit(1, new LambdaTask([] {}, [] {}));
  a.Flush();
  a.Submit(1, new LambdaTask([] {}, [] {}));
  a.Flush();
  EXPECT_EQ(a.wakeups(), 1u);
  EXPECT_EQ(waker.wakes.load(), 1u);
  b.Awake();
  EXPECT_EQ(b.Poll(), 3u);
  EXPECT_EQ(b.received(), 4u);
  a.Poll();
  EXPECT_EQ(a.sent(), 4u);
  EXPECT_EQ(a.received(), 4u);
}

TEST(Mailbox, FullRingKeepsOrderInTheOutbox) {
  Mailbox mailbox(2);
  ShardMailbox a(&mailbox, 0), b(&mailbox, 1);
  std::vector<int> order;
  const int n = int(kMailboxDepthMax) * 3;
  for (int i = 0; i < n; ++i)
    a.Submit(1, new LambdaTask([&order, i] { order.push_back(i); }, [] {}));
  EXPECT_EQ(a.backlog(), size_t(n) - kMailboxDepthMax);
  while (order.size() < size_t(n)) {
    b.Poll();
    a.Poll();
  }
  for (int i = 0; i < n; ++i) ASSERT_EQ(order[i], i);
  while (a.sent() != a.received()) {
    b.Poll();
    a.Poll();
  }
  EXPECT_EQ(a.backlog(), 0u);
}

}  // namespace
}  // namespace werk::core
