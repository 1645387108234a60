#include "net/shard_storage.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "core/replay.h"

namespace werk::net {

std::string ShardLogDir(const std::string& data_dir, uint32_t shard) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard-%03u", shard);
  return data_dir + "/wal/" + buf;
}

uint32_t CountShardDirs(const std::string& data_dir) {
  uint32_t n = 0;
  std::error_code ec;
  while (std::filesystem::is_directory(ShardLogDir(data_dir, n), ec)) ++n;
  return n;
}

absl::Status ReplayOrSkip(const ServerOptions& options, uint32_t shard, uint64_t lsn,
                          std::string_view body, core::StateMachine& sm,
                          std::vector<std::string>* skipped) {
  const ServerOptions::RecordRef ref{shard, lsn};
  if (std::find(options.skip_records.begin(), options.skip_records.end(), ref) !=
      options.skip_records.end()) {
    auto m = core::DecodeMutation(body);
    std::string what = "LSN " + std::to_string(lsn) + " (" +
                       (m ? core::DescribeMutation(*m) : std::string("undecodable")) + ")";
    spdlog::critical("shard {}: --skip-record: NOT applying the record at {}; its effect is lost",
                     shard, what);
    skipped->push_back(std::move(what));
    return absl::OkStatus();
  }
  absl::Status st = core::ReplayRecord(sm, body);
  if (st.ok()) return st;
  return absl::Status(
      st.code(), std::string(st.message()) +
                     ". The log and the recovered state disagree, so werk does not start. "
                     "Inspect the record with werk-wal-dump --lsn " + std::to_string(lsn) + " " +
                     ShardLogDir(options.data_dir, shard) + "; to start without it, pass "
                     "--skip-record " + std::to_string(shard) + ":" + std::to_string(lsn) +
                     " (its effect is lost)");
}

absl::StatusOr<ShardStorage> OpenShardStorage(Shard& shard, const ServerOptions& options,
                                              const core::Clock& clock, uint32_t shard_id) {
  ShardStorage out;
  wal::UringStorage::Options so;
  so.unsafe_no_sync = options.unsafe_no_fsync;
  // Without syncs, "fsync off" means page-cache writes, the fair baseline.
  so.direct_io = options.wal_direct_io && !options.unsafe_no_fsync;
  auto storage =
      wal::UringStorage::Open(ShardLogDir(options.data_dir, shard_id), &shard.reactor(), so);
  if (!storage.ok()) return storage.status();
  out.storage = std::move(*storage);

  const int64_t start = clock.MonotonicNow();
  wal::RecoveryOptions ro;
  ro.shard = shard_id;
  ro.repair = options.repair;
  wal::RecoverySinks sinks;
  sinks.item = [&shard](core::SnapshotItemType t, std::string_view body) {
    return shard.state().RestoreItem(t, body);
  };
  sinks.items_done = [&shard] { shard.state().FinishRestore(); };
  sinks.record = [&](core::Lsn lsn, std::string_view body) {
    return ReplayOrSkip(options, shard_id, lsn.value(), body, shard.state(), &out.skipped_records);
  };
  auto result = wal::Recover(*out.storage, ro, sinks);
  if (!result.ok()) return result.status();
  out.recovery_ms = double(clock.MonotonicNow() - start) / 1e6;

  wal::Wal::Options wo;
  wo.shard = shard_id;
  wo.epoch = result->epoch;
  wo.segment_bytes = options.segment_bytes;
  // As many covered segments kept for reuse as a checkpoint interval writes
  // (at most 64).
  wo.recycled_segments_max = size_t(std::min<uint64_t>(
      64, (options.checkpoint_log_bytes + options.segment_bytes - 1) / options.segment_bytes));
  out.wal = std::make_unique<wal::Wal>(out.storage.get(), clock, wo, std::move(result->position));
  wal::Checkpointer::Options co;
  co.shard = shard_id;
  co.min_log_bytes = options.checkpoint_log_bytes;
  co.interval_ns = options.checkpoint_interval_s * core::kNanosPerSecond;
  out.checkpointer = std::make_unique<wal::Checkpointer>(
      out.storage.get(), out.wal.get(), clock, co, result->checkpoint_lsn,
      result->checkpoint_bytes);
  out.gate = std::make_unique<wal::DurabilityGate>(
      out.wal.get(), clock, options.standby_timeout_ms * core::kNanosPerMilli);
  out.recovery = std::move(*result);
  shard.AttachWal(out.wal.get(), out.checkpointer.get(), out.gate.get());
  shard.AdoptRecoveredWorkers();
  return out;
}

}  // namespace werk::net
