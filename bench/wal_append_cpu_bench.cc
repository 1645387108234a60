// The log's own work per record — encoding, hashing, batching, the write's
// bookkeeping — without the disk: storage whose writes complete as soon as
// the loop runs their completions and keep nothing. Under callgrind, the
// runs with a fixed number of rounds ("iterations:") give exact counts:
//   valgrind --tool=callgrind --toggle-collect='*WalAppendCpuRound*'
//     build/bench/werk_micro_bench --benchmark_filter='WalAppendCpu/64/65536/iter'
// counts the instructions of the rounds alone (divide by rounds x records).

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "wal/wal.h"

namespace werk::wal {
namespace {

// Completions queue until Run(); data is dropped.
class NullStorage final : public Storage {
 public:
  size_t Run() {
    size_t n = 0;
    while (!pending_.empty()) {
      auto ops = std::move(pending_);
      pending_.clear();
      for (auto& op : ops) op();
      n += ops.size();
    }
    return n;
  }

  std::vector<std::string> List() override { return {}; }
  absl::StatusOr<std::string> ReadAll(const std::string& name) override {
    return absl::NotFoundError(name);
  }
  absl::Status Remove(const std::string&) override { return absl::OkStatus(); }
  absl::Status Overwrite(const std::string&, uint64_t, std::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<SegmentFile>> Open(const std::string& name) override {
    return absl::NotFoundError(name);
  }
  absl::Status Sync(const std::string&) override { return absl::OkStatus(); }
  void CreatePreallocated(
      const std::string&, uint64_t,
      std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override {
    pending_.push_back([this, done] { done(std::unique_ptr<SegmentFile>(new File(this))); });
  }
  void RenameAsync(const std::string&, const std::string&, IoDone done) override {
    pending_.push_back([done] { done(0); });
  }
  void Reuse(const std::string&, const std::string&,
             std::function<void(absl::StatusOr<std::unique_ptr<SegmentFile>>)> done) override {
    CreatePreallocated("", 0, std::move(done));
  }
  void WriteAtomic(const std::string&, std::shared_ptr<const std::string>, IoDone done) override {
    pending_.push_back([done] { done(0); });
  }
  void RemoveAsync(const std::string&, IoDone done) override {
    pending_.push_back([done] { done(0); });
  }
  void OpenRead(const std::string& name,
                std::function<void(absl::StatusOr<std::unique_ptr<ReadableFile>>)> done) override {
    pending_.push_back([done, name] { done(absl::NotFoundError(name)); });
  }

 private:
  class File final : public SegmentFile {
   public:
    explicit File(NullStorage* s) : s_(s) {}
    void WriteDurable(uint64_t, std::string_view data, IoDone done) override {
      const auto n = int32_t(data.size());
      s_->pending_.push_back([done = std::move(done), n] { done(n); });
    }

   private:
    NullStorage* s_;
  };

  std::vector<std::function<void()>> pending_;
};

// One loop iteration's worth of log work: `records` appends, the commit, and
// the completions.
[[gnu::noinline]] void WalAppendCpuRound(Wal& wal, NullStorage& storage, const std::string& record,
                                         int records) {
  for (int i = 0; i < records; ++i) wal.Append(record);
  wal.Commit();
  storage.Run();
}

void BM_WalAppendCpu(benchmark::State& state) {
  const int records = int(state.range(0));
  NullStorage storage;
  Wal::Options o;
  o.segment_bytes = uint64_t(state.range(1));
  o.idle_marker_ns = 0;
  Wal wal(&storage, core::SystemClock::Instance(), o, Wal::Position{});
  storage.Run();  // the first spare segment
  const std::string record(200, 'r');
  for (auto _ : state) WalAppendCpuRound(wal, storage, record, records);
  state.SetItemsProcessed(state.iterations() * records);
}
// The same with a follower that reads everything at the end of each round,
// as a replicator would in the loop's OnDurable: what following costs.
[[gnu::noinline]] void WalAppendCpuFollowedRound(Wal& wal, NullStorage& storage, LogCursor& cursor,
                                                 const std::string& record, int records) {
  WalAppendCpuRound(wal, storage, record, records);
  uint64_t bytes = 0;
  auto n = cursor.Read(SIZE_MAX, [&](const FollowedRecord& r) {
    bytes += r.frame.size();
    return true;
  });
  benchmark::DoNotOptimize(bytes);
  if (!n.ok() || *n != size_t(records)) std::abort();
}

void BM_WalAppendCpuFollowed(benchmark::State& state) {
  const int records = int(state.range(0));
  NullStorage storage;
  Wal::Options o;
  o.idle_marker_ns = 0;
  Wal wal(&storage, core::SystemClock::Instance(), o, Wal::Position{});
  storage.Run();
  auto cursor = wal.Follow(core::Lsn(1));
  if (!cursor.ok()) std::abort();
  const std::string record(200, 'r');
  for (auto _ : state) WalAppendCpuFollowedRound(wal, storage, **cursor, record, records);
  state.SetItemsProcessed(state.iterations() * records);
}
BENCHMARK(BM_WalAppendCpuFollowed)->Arg(1)->Arg(64);
BENCHMARK(BM_WalAppendCpuFollowed)->Arg(64)->Iterations(2000);

// 64 MiB segments (the default), and 64 KiB ones: a switch every few rounds.
BENCHMARK(BM_WalAppendCpu)->Args({1, 64 << 20})->Args({64, 64 << 20})->Args({64, 64 << 10});
BENCHMARK(BM_WalAppendCpu)->Args({1, 64 << 20})->Iterations(20000);
BENCHMARK(BM_WalAppendCpu)->Args({64, 64 << 20})->Iterations(2000);
BENCHMARK(BM_WalAppendCpu)->Args({64, 64 << 10})->Iterations(2000);

}  // namespace
}  // namespace werk::wal
