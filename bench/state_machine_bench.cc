#include <benchmark/benchmark.h>

#include <string>

#include "core/job_json.h"
#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;

JobSpec Spec(uint64_t i) {
  JobSpec s;
  s.jid = "job-" + std::to_string(1'000'000'000 + i);
  s.jobtype = "SendEmail";
  s.queue = "default";
  s.args_json = R"([12345,"user@example.com",{"template":"welcome","locale":"en"}])";
  s.created_at = "2026-11-22T15:45:10.121577708Z";
  return s;
}

// One job's whole life through Apply: push, reserve, ack.
void BM_ApplyLifecycle(benchmark::State& state) {
  StateMachine sm(kT0 / kNanosPerMilli);
  uint64_t i = 0;
  for (auto _ : state) {
    JobSpec s = Spec(i++);
    const std::string jid = s.jid;
    (void)sm.Apply(Mutation::Push(kT0, std::move(s)));
    (void)sm.Apply(Mutation::Reserve(kT0, jid, "w", kT0 + 1800 * kNanosPerSecond));
    (void)sm.Apply(Mutation::Ack(kT0, jid));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ApplyLifecycle);

void BM_EncodeMutation(benchmark::State& state) {
  const Mutation m = Mutation::Push(kT0, Spec(1));
  std::string out;
  for (auto _ : state) {
    out.clear();
    EncodeMutation(m, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeMutation);

void BM_DecodeMutation(benchmark::State& state) {
  const std::string bytes = EncodeMutation(Mutation::Push(kT0, Spec(1)));
  for (auto _ : state) benchmark::DoNotOptimize(DecodeMutation(bytes));
  state.SetBytesProcessed(int64_t(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodeMutation);

void BM_RenderJobJson(benchmark::State& state) {
  auto job = Job::Create(Spec(1), 1);
  job->enqueued_at = kT0;
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendJobJson(out, *job);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_RenderJobJson);

}  // namespace
}  // namespace werk::core
