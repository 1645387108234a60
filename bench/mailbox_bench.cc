// Cross-shard mailbox: round trip (a task runs on the other shard and comes
// back) and one-way throughput per shard pair. Both shards busy-poll, as
// shards under load do.

#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "core/mailbox.h"

namespace werk::core {
namespace {

struct Counting final : CrossShardTask {
  std::atomic<uint64_t>* done;
  void Run() override {}
  void Done() override { done->fetch_add(1, std::memory_order_relaxed); }
};

// Shard 0 (the benchmark's thread) and shard 1, a thread that only polls
// its mailbox (runs tasks and sends them home) until the pair goes away.
struct Pair {
  Mailbox mailbox{2};
  std::atomic<bool> stop{false};
  std::thread other{[this] {
    ShardMailbox peer(&mailbox, 1);
    while (!stop.load(std::memory_order_relaxed)) peer.Poll();
  }};
  ShardMailbox box{&mailbox, 0};
  std::atomic<uint64_t> done{0};
  ~Pair() {
    stop = true;
    other.join();
  }
};

void BM_MailboxRoundTrip(benchmark::State& state) {
  Pair pair;
  ShardMailbox& box = pair.box;
  std::atomic<uint64_t>& done = pair.done;
  uint64_t expected = 0;
  for (auto _ : state) {
    auto* t = new Counting;
    t->done = &done;
    box.Submit(1, t);
    ++expected;
    while (done.load(std::memory_order_relaxed) < expected) box.Poll();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MailboxRoundTrip)->UseRealTime();

void BM_MailboxThroughput(benchmark::State& state) {
  Pair pair;
  ShardMailbox& box = pair.box;
  std::atomic<uint64_t>& done = pair.done;
  uint64_t sent = 0;
  for (auto _ : state) {
    // Keep the ring busy: up to half its depth in flight.
    while (sent - done.load(std::memory_order_relaxed) >= kMailboxDepthMax / 2) box.Poll();
    auto* t = new Counting;
    t->done = &done;
    box.Submit(1, t);
    ++sent;
  }
  while (done.load() < sent) box.Poll();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MailboxThroughput)->UseRealTime();

// The ring alone: one producer, one consumer, 8-byte items.
void BM_SpscRingThroughput(benchmark::State& state) {
  static SpscRing<uint64_t, 1024> ring;
  std::atomic<bool> stop{false};
  std::thread consumer([&] {
    uint64_t buf[64];
    while (!stop.load(std::memory_order_relaxed)) ring.PopBatch(buf, 64);
    while (ring.PopBatch(buf, 64)) {
    }
  });
  uint64_t i = 0;
  for (auto _ : state)
    while (!ring.TryPush(i)) {
    }
  stop = true;
  consumer.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpscRingThroughput)->UseRealTime();

}  // namespace
}  // namespace werk::core
