// The standby's answer to DIVERGED (docs/replication.md "Rejoin"): decide
// whether the tail may go, and if so write the pending cut and restart; and
// its bootstrap (docs/replication.md "Bootstrap"): write down the checkpoints
// staged and restart. The next start finishes both before recovery.
#include <algorithm>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "net/rejoin.h"
#include "net/server.h"
#include "net/server_slot.h"
#include "wal/diverged_copy.h"

namespace werk::net {

void Server::OnDiverged(uint32_t shard, core::Lsn fork, std::optional<core::Lsn> alone_since) {
  // Whether it refuses or cuts, this log must stay cuttable: a checkpoint
  // past the fork (the stop takes one) could release what the cut keeps.
  hold_checkpoints_ = true;
  // Blocking reads of the shard's files: this shard follows nothing more.
  core::Epoch epoch{0};
  const DivergedTail tail =
      InspectDivergedTail(options_.data_dir, shard, fork, alone_since, &epoch);
  const RejoinDecision d = DecideRejoin(tail, options_.discard_diverged);
  if (!d.discard) {
    spdlog::critical("rejoin: {}", d.message);
    {
      // A cut another shard decided in this run is not made either: a
      // refusal leaves the data directory as it was (nothing is cut before
      // the next start).
      std::lock_guard<std::mutex> l(fatal_mu_);
      if (fatal_.empty()) fatal_ = d.message;
      if (rejoin_plan_) {
        rejoin_plan_.reset();
        if (auto st = ClearRejoinMarker(options_.data_dir); !st.ok())
          spdlog::error("rejoin: {}", std::string(st.message()));
      }
    }
    return StopFatally(absl::FailedPreconditionError(d.message));
  }
  if (d.possibly_acknowledged) {
    spdlog::error("rejoin: {}", d.message);
  } else {
    spdlog::warn("rejoin: {}", d.message);
  }
  {
    std::lock_guard<std::mutex> l(fatal_mu_);
    if (!fatal_.empty()) return;  // stopping for good: nothing is cut
    if (!rejoin_plan_) {
      const int64_t now_s = core::SystemClock::Instance().WallNow() / core::kNanosPerSecond;
      rejoin_plan_ = RejoinPlan{
          wal::DivergedDirName(std::max(epoch, core::Epoch(1)), now_s), {}};
    }
    rejoin_plan_->cuts.push_back({shard, fork, false, d.bootstrap});
    // Durable before anything stops: the next start cuts what it names.
    if (auto st = WriteRejoinMarker(options_.data_dir, *rejoin_plan_); !st.ok())
      fatal_ = "rejoin: " + std::string(st.message());  // Run stops for good
  }
  RequestRestart("shard " + std::to_string(shard) + " cuts its diverged log after LSN " +
                 std::to_string(fork.value() - 1));
}

absl::Status Server::FinishPendingInstalls(bool standby) {
  // A rejoin's cut decided by the last run, before any shard recovers.
  auto rejoin = ReadRejoinMarker(options_.data_dir);
  if (!rejoin.ok()) return rejoin.status();
  if (rejoin->has_value()) {
    if (!standby)
      return absl::FailedPreconditionError(
          RejoinMarkerPath(options_.data_dir) + ": a rejoin as a standby is half done (the "
          "diverged tail of a shard is still to be cut): start with --replica-of to finish it, "
          "or remove that file to keep the log whole");
    std::vector<std::string> rejoin_notes;
    absl::Status st = FinishPendingCuts(options_.data_dir, &rejoin_notes);
    for (const auto& n : rejoin_notes) spdlog::warn("rejoin: {}", n);
    if (!st.ok()) return st;
  }
  // A bootstrap staged and written down is installed whatever the role: the
  // checkpoint was verified whole, and is newer than the log it replaces.
  std::vector<std::string> notes;
  absl::Status st = FinishPendingBootstraps(options_.data_dir, &notes);
  for (const auto& n : notes) spdlog::warn("bootstrap: {}", n);
  return st;
}

ReplicationStandby::Bootstrap Server::StandbyBootstrap(uint32_t id) {
  ReplicationStandby::Bootstrap b;
  b.staging_dir = BootstrapStagingDir(options_.data_dir, id);
  b.begin = [this](uint32_t) {
    std::lock_guard<std::mutex> l(fatal_mu_);
    ++bootstraps_running_;
  };
  b.end = [this](uint32_t shard, std::optional<core::Lsn> staged) {
    bool restart = false;
    size_t staged_count = 0;
    absl::Status failed;
    {
      std::lock_guard<std::mutex> l(fatal_mu_);
      --bootstraps_running_;
      if (staged) {
        bootstraps_staged_.push_back({shard, *staged});
        // Durable before anything stops: the next start installs what it
        // names.
        if (auto st = WriteBootstrapMarker(options_.data_dir, bootstraps_staged_); !st.ok()) {
          failed = absl::Status(st.code(), "bootstrap: " + std::string(st.message()));
          bootstraps_staged_.pop_back();
        }
      }
      // Once no shard is still receiving its checkpoint: the others follow
      // on from their logs after the restart.
      restart = failed.ok() && fatal_.empty() && bootstraps_running_ == 0 &&
                !bootstraps_staged_.empty();
      staged_count = bootstraps_staged_.size();
    }
    if (!failed.ok()) return StopFatally(failed);
    if (restart)
      RequestRestart("the checkpoints of " + std::to_string(staged_count) +
                     " shard(s) are staged; they are installed at the next start");
  };
  return b;
}

void Server::RequestRestart(const std::string& why) {
  if (!restart_.exchange(true)) spdlog::warn("werk restarts: {}", why);
  group_.stop = true;
  for (auto& s : slots_)
    if (s->shard) s->shard->WakeFromOtherThread();
}

}  // namespace werk::net
