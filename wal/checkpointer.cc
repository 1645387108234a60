#include "wal/checkpointer.h"

#include <cstring>

#include <spdlog/spdlog.h>

#include "core/shard_runtime.h"
#include "wal/checkpoint.h"

namespace werk::wal {

Checkpointer::Checkpointer(Storage* storage, Wal* wal, const core::Clock& clock, Options options,
                           core::Lsn recovered_lsn, uint64_t recovered_bytes)
    : storage_(storage),
      wal_(wal),
      clock_(clock),
      options_(options),
      log_bytes_at_last_(wal->bytes_appended()),
      last_time_ns_(clock.MonotonicNow()),
      alive_(std::make_shared<bool>(true)) {
  stats_.last_lsn = recovered_lsn;
  stats_.last_bytes = recovered_bytes;
  if (recovered_lsn > core::Lsn(0)) previous_name_ = CheckpointName(recovered_lsn.value());
}

Checkpointer::~Checkpointer() { *alive_ = false; }

void Checkpointer::OnStopped(core::ShardRuntime& runtime) {
  if (!source_ || wal_->failed()) return;
  RequestNow();
  Poll(*source_);
  while (busy() && !wal_->failed()) {
    runtime.reactor().Poll(10'000'000);
    wal_->Commit();
    Poll(*source_);
  }
}

bool Checkpointer::Due() const {
  const uint64_t logged = wal_->bytes_appended() - log_bytes_at_last_;
  if (requested_ && wal_->appended_lsn() > stats_.last_lsn) return true;
  if (logged == 0) return false;
  if (logged >= std::max(options_.min_log_bytes, 2 * stats_.last_bytes)) return true;
  return clock_.MonotonicNow() - last_time_ns_ >= options_.interval_ns;
}

void Checkpointer::Poll(const core::SnapshotSource& state) {
  if (wal_->failed()) return;
  switch (state_) {
    case State::kIdle: {
      if (!Due()) return;
      requested_ = false;
      started_ns_ = clock_.MonotonicNow();
      pending_lsn_ = wal_->appended_lsn().value();
      log_bytes_at_last_ = wal_->bytes_appended();
      last_time_ns_ = started_ns_;
      image_ = std::make_shared<const std::string>(
          BuildCheckpoint(state, options_.shard, core::Lsn(pending_lsn_), wal_->epoch(),
                          clock_.WallNow()));
      stats_.last_pause_ns = clock_.MonotonicNow() - started_ns_;
      state_ = State::kWaitDurable;
      [[fallthrough]];
    }
    case State::kWaitDurable: {
      // A checkpoint must never be ahead of the durable log.
      if (wal_->durable_lsn().value() < pending_lsn_) return;
      state_ = State::kWriting;
      std::weak_ptr<bool> alive = alive_;
      storage_->WriteAtomic(CheckpointName(pending_lsn_), image_, [this, alive](int32_t res) {
        if (auto a = alive.lock(); a && *a) OnWritten(res);
      });
      return;
    }
    case State::kWriting:
      return;
  }
}

void Checkpointer::OnWritten(int32_t res) {
  state_ = State::kIdle;
  const uint64_t bytes = image_->size();
  image_.reset();
  if (res < 0) {
    ++stats_.failed;
    spdlog::error("checkpoint at LSN {} failed: {}; the log keeps everything meanwhile",
                  pending_lsn_, std::strerror(-res));
    return;
  }
  ++stats_.taken;
  stats_.last_lsn = core::Lsn(pending_lsn_);
  stats_.last_bytes = bytes;
  stats_.last_total_ns = clock_.MonotonicNow() - started_ns_;
  spdlog::info("checkpoint at LSN {}: {} bytes, {:.1f} ms pause, {:.1f} ms to durable",
               pending_lsn_, bytes, double(stats_.last_pause_ns) / 1e6,
               double(stats_.last_total_ns) / 1e6);
  // The new checkpoint is durable: the previous one and the segments it
  // covered are redundant.
  if (!previous_name_.empty()) {
    const std::string old = previous_name_;
    ++removals_pending_;
    std::weak_ptr<bool> alive = alive_;
    storage_->RemoveAsync(old, [this, alive, old](int32_t r) {
      if (auto a = alive.lock(); a && *a) --removals_pending_;
      if (r < 0) spdlog::warn("cannot remove {}: {}", old, std::strerror(-r));
    });
  }
  previous_name_ = CheckpointName(pending_lsn_);
  wal_->ReleaseThrough(core::Lsn(pending_lsn_));
}

}  // namespace werk::wal
