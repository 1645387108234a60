// Write-ahead log append + commit throughput against batch size, on the real
// disk (a temporary directory), every batch made durable (O_DIRECT +
// RWF_DSYNC, or page cache + fdatasync with the "Buffered" variants). This is
// group commit's raw material: records/s = batch / sync latency.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "core/clock.h"
#include "core/reactor.h"
#include "wal/recovery.h"
#include "wal/uring_storage.h"
#include "wal/wal.h"

namespace werk::wal {
namespace {

void RunAppend(benchmark::State& state, bool direct) {
  const int batch = int(state.range(0));
  char tmpl[] = "/tmp/werk-walbench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    core::Reactor reactor(256);
    auto storage = UringStorage::Open(dir, &reactor, {.direct_io = direct});
    auto rec = Recover(**storage, {}, {[](core::SnapshotItemType, std::string_view) { return true; },
                                      [](core::Lsn, std::string_view) { return absl::OkStatus(); }});
    Wal wal(storage->get(), core::SystemClock::Instance(), {}, std::move(rec->position));
    const std::string record(200, 'r');
    auto drain = [&] {
      while (wal.commit_pending()) {
        wal.Commit();
        reactor.Poll(-1);
      }
    };
    wal.Append(record);
    drain();  // the first spare segment
    for (auto _ : state) {
      for (int i = 0; i < batch; ++i) wal.Append(record);
      drain();
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["syncs/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  }
  std::filesystem::remove_all(dir);
}

void BM_WalAppendCommit(benchmark::State& state) { RunAppend(state, true); }
void BM_WalAppendCommitBuffered(benchmark::State& state) { RunAppend(state, false); }
BENCHMARK(BM_WalAppendCommit)->Arg(1)->Arg(8)->Arg(64)->Arg(512)->Arg(4096)->UseRealTime();
BENCHMARK(BM_WalAppendCommitBuffered)->Arg(1)->Arg(64)->Arg(4096)->UseRealTime();

}  // namespace
}  // namespace werk::wal
