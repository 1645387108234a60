// The longest pause a checkpoint causes on its shard's thread
// (docs/replication-plan.md §3): a state of N live jobs serialized into one
// image, as `wal::Checkpointer` does: in one go (the pause is the whole
// serialization: what repartition and the fallback after repeated aborts
// do), or in slices of `slice_jobs` jobs, one per loop turn (the pause is
// the longest slice; the beginning, which emits the small items, counts as
// one).
//
//   build/bench/werk_micro_bench --benchmark_filter=CheckpointStall
//     --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "core/mutation.h"
#include "core/snapshot_session.h"
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

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void BM_CheckpointStallSliced(benchmark::State& state) {
  StateMachine sm(kT0 / kNanosPerMilli);
  Fill(sm, state.range(0));
  const size_t slice_jobs = size_t(state.range(1));
  int64_t longest = 0;
  uint64_t slices = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    wal::CheckpointWriter w(Epoch(1), sm.snapshot_bytes_hint());
    int64_t t0 = NowNs();
    auto session =
        sm.BeginSnapshot([&](SnapshotItemType t, std::string_view b) { w.Add(t, b); });
    longest = std::max(longest, NowNs() - t0);
    slices = 1;
    for (;;) {
      t0 = NowNs();
      const auto s = session->Step(slice_jobs);
      longest = std::max(longest, NowNs() - t0);
      ++slices;
      if (s != SnapshotSession::Status::kRunning) break;
    }
    const std::string image = std::move(w).Finish(0, Lsn(1), kT0);
    bytes = image.size();
    benchmark::DoNotOptimize(image.data());
  }
  state.counters["image_MB"] = double(bytes) / 1e6;
  state.counters["longest_slice_ms"] = double(longest) / 1e6;
  state.counters["slices"] = double(slices);
}
BENCHMARK(BM_CheckpointStallSliced)
    ->Args({1'000'000, 1024})
    ->Args({1'000'000, 256})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace
}  // namespace werk::core
