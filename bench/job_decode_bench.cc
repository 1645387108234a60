#include <benchmark/benchmark.h>

#include "core/time_format.h"
#include "net/job_decoder.h"

namespace werk::net {
namespace {

void BM_DecodeJob(benchmark::State& state) {
  JobDecoder d;
  const std::string json =
      R"({"jid":"7c9f0a7e-55b3-4c5f-a3a4-ad0f24ed7a6c","jobtype":"SendEmail","queue":"default","args":[12345,"user@example.com",{"template":"welcome","locale":"en"}],"retry":25,"created_at":"2026-11-22T15:45:10.121577708Z","custom":{"trace":"abc"}})";
  core::JobSpec job;
  JobLimits limits;
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.DecodeOne(json, &job));
    benchmark::DoNotOptimize(ValidateJob(job, 1, limits));
  }
  state.SetBytesProcessed(int64_t(state.iterations() * json.size()));
}
BENCHMARK(BM_DecodeJob);

// The same job without `custom`, and with Faktory Enterprise fields in it
// (counted as the shard counts them): what reading custom's keys costs.
void BM_DecodeJobVariant(benchmark::State& state, const std::string& custom) {
  JobDecoder d;
  const std::string json =
      R"({"jid":"7c9f0a7e-55b3-4c5f-a3a4-ad0f24ed7a6c","jobtype":"SendEmail","queue":"default","args":[12345,"user@example.com",{"template":"welcome","locale":"en"}],"retry":25,"created_at":"2026-11-22T15:45:10.121577708Z")" +
      custom + "}";
  core::JobSpec job;
  EnterpriseFieldUses uses;
  for (auto _ : state) benchmark::DoNotOptimize(d.DecodeOne(json, &job, &uses));
  state.SetBytesProcessed(int64_t(state.iterations() * json.size()));
}
BENCHMARK_CAPTURE(BM_DecodeJobVariant, no_custom, std::string());
BENCHMARK_CAPTURE(BM_DecodeJobVariant, custom_plain, std::string(R"(,"custom":{"trace":"abc"})"));
BENCHMARK_CAPTURE(BM_DecodeJobVariant, custom_enterprise,
                  std::string(R"(,"custom":{"unique_for":3600,"bid":"b-9Xq2","trace":"abc"})"));

void BM_ParseRfc3339(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(core::ParseRfc3339("2026-11-22T15:45:10.121577708+01:00"));
}
BENCHMARK(BM_ParseRfc3339);

}  // namespace
}  // namespace werk::net
