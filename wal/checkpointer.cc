#include "wal/checkpointer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
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
  if (recovered_lsn > core::Lsn(0)) {
    previous_name_ = CheckpointName(recovered_lsn.value());
    newest_lsn_ = recovered_lsn;
    newest_bytes_ = recovered_bytes;
    // A crash may have cut short the release of the segments the recovered
    // checkpoint covers, leaving some of them around one already gone:
    // recovery accepts that, but the log would list those files as holding
    // every record from the first one on (Wal::SegmentsFrom), and a standby
    // catching up from them would meet the hole. The release is finished.
    wal_->ReleaseThrough(recovered_lsn);
  }
}

Checkpointer::~Checkpointer() { *alive_ = false; }

void Checkpointer::OnStopped(core::ShardRuntime& runtime) {
  if (!source_ || wal_->failed()) return;
  if (held() && !busy()) return;
  if (!held()) RequestNow();
  Poll(*source_);
  while (busy() && !wal_->failed()) {
    // Nothing else runs any more: a snapshot under way is built without
    // waiting between slices.
    if (state_ != State::kBuilding) {
      runtime.reactor().Poll(10'000'000);
      wal_->Commit();
    }
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

void Checkpointer::Begin(const core::SnapshotSource& state) {
  requested_ = false;
  started_ns_ = clock_.MonotonicNow();
  created_at_ = clock_.WallNow();
  // Between two loop iterations: every record up to here is applied (a
  // command is applied, then logged), none after.
  pending_lsn_ = wal_->appended_lsn().value();
  log_bytes_at_last_ = wal_->bytes_appended();
  last_time_ns_ = started_ns_;
  stats_.last_pause_ns = 0;
  stats_.last_slices = 0;
  writer_ = std::make_unique<CheckpointWriter>(wal_->epoch(), state.snapshot_bytes_hint());
  if (aborts_in_row_ < options_.aborts_before_whole) {
    CheckpointWriter* w = writer_.get();
    session_ = state.BeginSnapshot(
        [w](core::SnapshotItemType type, std::string_view body) { w->Add(type, body); });
  }
  if (!session_) {
    // In one go: the source cannot slice, or flushes keep aborting.
    if (aborts_in_row_ > 0) ++stats_.whole;
    state.Snapshot(
        [this](core::SnapshotItemType type, std::string_view body) { writer_->Add(type, body); });
  }
  const int64_t now = clock_.MonotonicNow();
  stats_.last_pause_ns = now - started_ns_;
  stats_.last_slices = 1;
  state_ = State::kBuilding;
}

bool Checkpointer::BuildSlice() {
  if (session_) {
    const int64_t t0 = clock_.MonotonicNow();
    const auto status = session_->Step(options_.slice_jobs);
    stats_.last_pause_ns = std::max(stats_.last_pause_ns, clock_.MonotonicNow() - t0);
    ++stats_.last_slices;
    if (status == core::SnapshotSession::Status::kRunning) return false;
    session_.reset();
    if (status == core::SnapshotSession::Status::kAborted) {
      // A flush or a queue removal: the partial image goes, the next poll
      // starts over (the checkpoint is still due).
      ++aborts_in_row_;
      ++stats_.aborted;
      writer_.reset();
      requested_ = true;
      state_ = State::kIdle;
      return false;
    }
  }
  aborts_in_row_ = 0;
  image_ = std::make_shared<const std::string>(
      std::move(*writer_).Finish(options_.shard, core::Lsn(pending_lsn_), created_at_));
  writer_.reset();
  state_ = State::kWaitDurable;
  return true;
}

void Checkpointer::ReleaseSpentSlice() {
  // The pages of the image's interior go back a slice at a time (the
  // contents are not read again); freeing what is left is then cheap. Only
  // once the storage let go of it.
  if (spent_.use_count() > 1) return;
  static constexpr size_t kSliceBytes = 8u << 20;
  const size_t page = size_t(::sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<uintptr_t>(spent_->data());
  const uintptr_t first = (base + page - 1) / page * page;
  const uintptr_t end = (base + spent_->size()) / page * page;
  const uintptr_t from = first + spent_done_;
  if (from < end) {
    const size_t n = std::min<size_t>(kSliceBytes, end - from);
    (void)::madvise(reinterpret_cast<void*>(from), n, MADV_DONTNEED);
    spent_done_ += n;
    if (from + n < end) return;
  }
  spent_.reset();
}

void Checkpointer::Poll(const core::SnapshotSource& state) {
  if (spent_) ReleaseSpentSlice();
  if (wal_->failed()) {
    // Nothing more can be durable: a snapshot under way would only grow.
    session_.reset();
    writer_.reset();
    return;
  }
  if (held() && (state_ == State::kBuilding || state_ == State::kWaitDurable)) {
    // Held (net/rejoin.h): a checkpoint under way is abandoned, not
    // finished — it would be past the cut and release what the cut keeps.
    session_.reset();
    writer_.reset();
    image_.reset();
    state_ = State::kIdle;
    spdlog::info("checkpoint at LSN {} abandoned: checkpoints are held", pending_lsn_);
    return;
  }
  switch (state_) {
    case State::kIdle:
      if (held() || !Due()) return;
      Begin(state);
      // The first slice only on the next turn: beginning emitted the small
      // items already.
      if (session_) return;
      [[fallthrough]];
    case State::kBuilding:
      if (!BuildSlice()) return;
      [[fallthrough]];
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
  spent_ = std::move(image_);
  spent_done_ = 0;
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
  spdlog::info("checkpoint at LSN {}: {} bytes, {} slices, longest {:.2f} ms, {:.1f} ms to durable",
               pending_lsn_, bytes, stats_.last_slices, double(stats_.last_pause_ns) / 1e6,
               double(stats_.last_total_ns) / 1e6);
  if (held()) {
    // Its write was under way when checkpoints were held: it stays a file
    // (a cut removes checkpoints past it), and nothing it covers is
    // released, so the log before it is still there for the cut.
    spdlog::info("checkpoint at LSN {}: written while checkpoints are held; the previous one and "
                 "the log it covers are kept",
                 pending_lsn_);
    return;
  }
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
  newest_lsn_ = core::Lsn(pending_lsn_);
  newest_bytes_ = bytes;
  wal_->ReleaseThrough(core::Lsn(pending_lsn_));
}

}  // namespace werk::wal
