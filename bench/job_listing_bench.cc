// Pages of a large retry set (core/job_listing.h): the operator's first
// page must not depend on the set's size. One shard's state machine with
// 1,000,000 jobs in its retry set; each figure is one ListShard call.

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "core/job_listing.h"
#include "core/mutation.h"
#include "core/state_machine.h"

namespace werk::core {
namespace {

constexpr UnixNanos kT0 = 1'795'362'310LL * kNanosPerSecond;
constexpr int kJobs = 1'000'000;

// Built once: pushed, reserved and failed into the retry set.
const StateMachine& MillionRetries() {
  static std::unique_ptr<StateMachine> sm = [] {
    auto m = std::make_unique<StateMachine>(kT0 / kNanosPerMilli);
    for (int i = 0; i < kJobs; ++i) {
      JobSpec s;
      s.jid = "job-" + std::to_string(1'000'000'000 + i);
      s.jobtype = i % 100 == 0 ? "Rare" : "SendEmail";
      s.queue = "default";
      s.args_json = R"([12345,"user@example.com"])";
      s.created_at = "2026-11-22T15:45:10.121577708Z";
      const std::string jid = s.jid;
      (void)m->Apply(Mutation::Push(kT0, std::move(s)));
      (void)m->Apply(Mutation::Reserve(kT0, jid, "w", kT0 + 1800 * kNanosPerSecond));
      (void)m->Apply(Mutation::Fail(
          kT0, DecideFailure(*m->FindJob(jid), kT0, FailCause::kFail, "E", "boom", {}, i % 30)));
    }
    return m;
  }();
  return *sm;
}

void BM_FirstPageOfMillionRetries(benchmark::State& state) {
  const StateMachine& sm = MillionRetries();
  ListRequest req;
  req.target = ListTarget::kRetries;
  req.limit = size_t(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(ListShard(sm, 0, req));
  state.counters["retries"] = double(sm.retries_size());
}
BENCHMARK(BM_FirstPageOfMillionRetries)->Arg(25)->Arg(1000)->Unit(benchmark::kMicrosecond);

// A page from the middle: one lower_bound, then the page.
void BM_MiddlePageOfMillionRetries(benchmark::State& state) {
  const StateMachine& sm = MillionRetries();
  ListRequest req;
  req.target = ListTarget::kRetries;
  req.limit = 25000;
  ListPart deep = ListShard(sm, 0, req);
  req.limit = 25;
  req.after = deep.rows.back().key;
  for (auto _ : state) benchmark::DoNotOptimize(ListShard(sm, 0, req));
}
BENCHMARK(BM_MiddlePageOfMillionRetries)->Unit(benchmark::kMicrosecond);

// A filtered page: a jobtype one job in a hundred has (field compare), and
// a glob over the JSON; each looks at up to kListScanMax entries.
void BM_FilteredPageOfMillionRetries(benchmark::State& state) {
  const StateMachine& sm = MillionRetries();
  ListRequest req;
  req.target = ListTarget::kRetries;
  req.filter = state.range(0) == 0 ? MutateFilter{{}, "", "Nowhere"} : MutateFilter{{}, "*Nowhere*", ""};
  for (auto _ : state) benchmark::DoNotOptimize(ListShard(sm, 0, req));
}
BENCHMARK(BM_FilteredPageOfMillionRetries)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace werk::core
