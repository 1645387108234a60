#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/timer_wheel.h"

namespace werk::core {
namespace {

struct T : TimerHook {};

// The reservation pattern: arm 30 minutes out, cancel (the ACK) soon after.
void BM_TimerArmCancel(benchmark::State& state) {
  TimerWheel w(1'700'000'000'000);
  std::vector<T> ts(1024);
  size_t i = 0;
  for (auto _ : state) {
    T& t = ts[i++ & 1023];
    if (t.armed()) w.Cancel(&t);
    w.Arm(&t, w.now() + 1'800'000);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerArmCancel);

// Arm N timers spread over an hour, then advance through them all.
void BM_TimerAdvance(benchmark::State& state) {
  const int n = int(state.range(0));
  std::vector<T> ts(static_cast<size_t>(n));
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    state.PauseTiming();
    TimerWheel w(0);
    for (auto& t : ts) w.Arm(&t, int64_t(rng() % 3'600'000));
    state.ResumeTiming();
    TimerHook* out[4096];
    size_t fired = 0;
    for (int64_t now = 0; now <= 3'600'000; now += 1000) {
      size_t k;
      while ((k = w.Advance(now, out, 4096)) > 0) fired += k;
    }
    benchmark::DoNotOptimize(fired);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TimerAdvance)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace werk::core
