// The standby's answer to DIVERGED (docs/replication.md "Rejoin"): decide
// whether the tail may go, and if so write the pending cut and restart.
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
    rejoin_plan_->cuts.push_back({shard, fork, false});
    // Durable before anything stops: the next start cuts what it names.
    if (auto st = WriteRejoinMarker(options_.data_dir, *rejoin_plan_); !st.ok())
      fatal_ = "rejoin: " + std::string(st.message());  // Run stops for good
  }
  RequestRestart("shard " + std::to_string(shard) + " cuts its diverged log after LSN " +
                 std::to_string(fork.value() - 1));
}

void Server::RequestRestart(const std::string& why) {
  if (!restart_.exchange(true)) spdlog::warn("werk restarts: {}", why);
  group_.stop = true;
  for (auto& s : slots_)
    if (s->shard) s->shard->WakeFromOtherThread();
}

}  // namespace werk::net
