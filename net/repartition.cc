#include "net/repartition.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <spdlog/spdlog.h>

#include "core/global_ops.h"
#include "core/mutation.h"
#include "core/reactor.h"
#include "core/repartition.h"
#include "core/state_machine.h"
#include "core/time_format.h"
#include "net/durable_files.h"
#include "net/manifest.h"
#include "net/shard_storage.h"
#include "wal/checkpoint.h"
#include "wal/log_format.h"
#include "wal/recovery.h"
#include "wal/uring_storage.h"

namespace werk::net {

namespace fs = std::filesystem;

namespace {

constexpr const char* kComplete = "COMPLETE";

struct Recovered {
  std::unique_ptr<core::StateMachine> sm;
  uint64_t last_lsn = 0;
  core::Epoch epoch{1};
};

// Recovers one old shard's state (checkpoint + log) into memory.
absl::StatusOr<Recovered> RecoverOld(const ServerOptions& options, const core::Clock& clock,
                                     uint32_t shard, core::Reactor* reactor,
                                     std::vector<std::string>* notes) {
  wal::UringStorage::Options so;
  so.direct_io = false;
  so.unsafe_no_sync = options.unsafe_no_fsync;
  auto storage = wal::UringStorage::Open(ShardLogDir(options.data_dir, shard), reactor, so);
  if (!storage.ok()) return storage.status();
  Recovered out;
  out.sm = std::make_unique<core::StateMachine>(clock.WallNow() / core::kNanosPerMilli);
  wal::RecoveryOptions ro;
  ro.shard = shard;
  ro.repair = options.repair;
  wal::RecoverySinks sinks;
  core::StateMachine* sm = out.sm.get();
  sinks.item = [sm](core::SnapshotItemType t, std::string_view body) {
    return sm->RestoreItem(t, body);
  };
  sinks.items_done = [sm] { sm->FinishRestore(); };
  std::vector<std::string> skipped;
  sinks.record = [&](core::Lsn lsn, std::string_view body) {
    return ReplayOrSkip(options, shard, lsn.value(), body, *sm, &skipped);
  };
  auto result = wal::Recover(**storage, ro, sinks);
  if (!result.ok()) return result.status();
  for (auto& n : result->notes) notes->push_back("shard " + std::to_string(shard) + ": " + n);
  for (auto& what : skipped)
    notes->push_back("shard " + std::to_string(shard) + ": skipped the record at " + what);
  out.last_lsn = std::max(result->last_lsn, result->checkpoint_lsn).value();
  out.epoch = result->epoch;
  return out;
}

}  // namespace

absl::Status FinishLayoutSwitch(const std::string& data_dir, std::vector<std::string>* notes) {
  const std::string wal = data_dir + "/wal", next = data_dir + "/wal.new",
                    old = data_dir + "/wal.old";
  std::error_code ec;
  const bool has_next = fs::is_directory(next, ec);
  if (has_next && !fs::exists(next + "/" + kComplete, ec)) {
    // Interrupted before the new layout was complete: the old one stands.
    notes->push_back("removed an incomplete re-partitioned log (wal.new)");
    if (auto st = RemoveTree(next, data_dir); !st.ok()) return st;
  } else if (has_next) {
    // The manifest records the new shard count before the switch, so a
    // crash between the two finds wal.new complete and switches again.
    auto manifest = ReadManifest(data_dir);
    if (!manifest.ok()) return manifest.status();
    const uint32_t shards = uint32_t(ListShardDirsIn(next).size());
    if (manifest->has_value() && (*manifest)->shards != shards) {
      Manifest m = **manifest;
      m.history.push_back({m.shards, shards,
                           core::FormatRfc3339Nano(core::SystemClock::Instance().WallNow())});
      m.shards = shards;
      if (auto st = WriteManifest(data_dir, m); !st.ok()) return st;
      notes->push_back("MANIFEST records the change from " +
                       std::to_string(m.history.back().from) + " to " + std::to_string(shards) +
                       " shards");
    }
    if (fs::is_directory(wal, ec)) {
      if (fs::exists(old, ec)) {
        if (auto st = RemoveTree(old, data_dir); !st.ok()) return st;
      }
      if (auto st = Rename(wal, old, data_dir); !st.ok()) return st;
    }
    if (auto st = Rename(next, wal, data_dir); !st.ok()) return st;
    notes->push_back("finished switching to a re-partitioned log");
  }
  if (fs::exists(old, ec)) {
    if (auto st = RemoveTree(old, data_dir); !st.ok()) return st;
  }
  if (fs::exists(wal + "/" + kComplete, ec)) {
    fs::remove(wal + "/" + kComplete, ec);
    if (auto st = SyncPath(wal); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status RepartitionLog(const ServerOptions& options, const core::Clock& clock, uint32_t from,
                            uint32_t to, std::vector<std::string>* notes) {
  const std::string& dir = options.data_dir;
  const int64_t start = clock.MonotonicNow();
  core::Reactor reactor(64);
  std::vector<Recovered> olds;
  uint64_t lsn = 0;
  core::Epoch epoch{1};
  size_t jobs = 0;
  for (uint32_t i = 0; i < from; ++i) {
    auto r = RecoverOld(options, clock, i, &reactor, notes);
    if (!r.ok()) {
      return absl::Status(r.status().code(), "re-partitioning from " + std::to_string(from) +
                                                 " shards: " + std::string(r.status().message()));
    }
    lsn = std::max(lsn, r->last_lsn);
    epoch = std::max(epoch, r->epoch);
    olds.push_back(std::move(*r));
  }
  std::vector<const core::StateMachine*> from_sms;
  for (const auto& r : olds) from_sms.push_back(r.sm.get());
  // A global operation a crash left half applied is completed before the
  // state is split (the new shards do not carry the old operation numbers).
  core::RollForwardPlan plan = core::PlanRollForward(from_sms, clock.WallNow());
  for (auto& n : plan.notes) notes->push_back(std::move(n));
  for (uint32_t i = 0; i < from; ++i) {
    for (const auto& m : plan.per_shard[i]) {
      notes->push_back("completed on shard " + std::to_string(i) +
                       " a global operation a crash left applied on other shards only");
      (void)olds[i].sm->Apply(m);  // each step's own outcome is final, as in a live apply
    }
  }
  for (const auto& r : olds) jobs += r.sm->job_count();
  std::vector<std::unique_ptr<core::StateMachine>> news;
  if (!core::Repartition(from_sms, to, clock.WallNow() / core::kNanosPerMilli, &news))
    return absl::InternalError("re-partitioning failed: a state item did not carry over");
  olds.clear();
  size_t jobs_after = 0;
  for (const auto& sm : news) jobs_after += sm->job_count();
  if (jobs_after != jobs)
    return absl::InternalError("re-partitioning lost jobs: " + std::to_string(jobs) + " before, " +
                               std::to_string(jobs_after) + " after");

  // Each new shard starts from a checkpoint at the highest LSN any old shard
  // reached (a shard's LSNs never go back), in the epoch they had reached.
  const std::string next = dir + "/wal.new";
  std::error_code ec;
  fs::remove_all(next, ec);
  for (uint32_t i = 0; i < to; ++i) {
    const std::string shard_dir = next + "/" + fs::path(ShardLogDir(dir, i)).filename().string();
    fs::create_directories(shard_dir, ec);
    if (ec) return absl::InternalError("create " + shard_dir + ": " + ec.message());
    const std::string image =
        wal::BuildCheckpoint(*news[i], i, core::Lsn(lsn), epoch, clock.WallNow());
    if (auto st = WriteSynced(shard_dir + "/" + wal::CheckpointName(lsn), image); !st.ok())
      return st;
    if (auto st = SyncPath(shard_dir); !st.ok()) return st;
  }
  if (auto st = SyncPath(next); !st.ok()) return st;
  if (auto st = WriteSynced(next + "/" + kComplete, ""); !st.ok()) return st;
  if (auto st = SyncPath(next); !st.ok()) return st;
  if (auto st = FinishLayoutSwitch(dir, notes); !st.ok()) return st;
  spdlog::info("re-partitioned {} jobs from {} to {} shards in {:.1f} ms", jobs, from, to,
               double(clock.MonotonicNow() - start) / 1e6);
  return absl::OkStatus();
}

}  // namespace werk::net
