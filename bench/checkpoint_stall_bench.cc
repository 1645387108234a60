// The longest pause a checkpoint causes on its shard's thread
// (docs/replication-plan.md §3): a state of N live jobs serialized into one
// image, as `wal::Checkpointer` does between two loop iterations. While the
// snapshot is synchronous the pause is the whole serialization.
//
//   build/bench/werk_micro_bench --benchmark_filter=CheckpointStall

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "core/mutation.h"
#include "core/state_machine.h"
#include "wal/checkpoint.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;

// Live jobs as a busy server holds them: mostly queued over a few queues,
// some scheduled, some reserved.
void Fill(StateMachine& sm, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    JobSpec s;
    s.jid = "job-" + std::to_string(1'000'000'000 + i);
    s.jobtype = "SendEmail";
    s.queue = "q" + std::to_string(i % 4);
    s.args_json = R"([12345,"user@example.com",{"template":"welcome","locale":"en"}])";
    s.created_at = "2026-11-22T15:45:10.121577708Z";
    if (i % 10 == 1) {
      s.at = "later";
      s.at_ns = kT0 + (3600 + i % 1000) * kNanosPerSecond;
    }
    const std::string jid = s.jid;
    (void)sm.Apply(Mutation::Push(kT0, std::move(s)));
    if (i % 10 == 2)
      (void)sm.Apply(Mutation::Reserve(kT0, jid, "w", kT0 + 1800 * kNanosPerSecond));
  }
}

void BM_CheckpointStall(benchmark::State& state) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Fill(sm, state.range(0));
  size_t bytes = 0;
  int64_t longest = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string image = wal::BuildCheckpoint(sm, 0, Lsn(1), Epoch(1), kT0);
    longest = std::max<int64_t>(
        longest, std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
    bytes = image.size();
    benchmark::DoNotOptimize(image.data());
  }
  state.counters["image_MB"] = double(bytes) / 1e6;
  state.counters["longest_slice_ms"] = double(longest) / 1e6;
}
BENCHMARK(BM_CheckpointStall)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace werk::core
