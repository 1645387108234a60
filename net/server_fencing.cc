// Fencing: a server that learns of a newer epoch stops acknowledging writes
// at once, on every shard, and never serves as a primary again from this
// data directory (docs/replication.md "Fencing"); and a promoted server
// tells its old primary (net/epoch_notifier.h).
//
// How a primary learns of a newer epoch, always from a peer that proved it
// knows the server password:
//   - on its standby's link: any message of a newer epoch, or an
//     EPOCH_NOTICE (wal::ReplicationSender fences its gate; the shard's
//     ReplicationPrimary calls Depose);
//   - in a replication handshake: a standby whose HELLO knows a newer epoch
//     than this primary's, with the EPOCH_NOTICE it sends after its proof
//     (ReplicationPrimary::Attach, first thing: DecideEpoch);
//   - the promoted server's notifier, which is such a handshake.

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/time_format.h"
#include "net/deposition_marker.h"
#include "net/server.h"
#include "net/server_slot.h"

namespace werk::net {

bool Server::Depose(core::Epoch by, std::string holder) {
  std::lock_guard<std::mutex> l(depose_mu_);
  if (by.value() <= deposed_by_) return deposed_marked_ || MarkDeposed();
  deposed_by_ = by.value();
  new_primary_ = holder;
  spdlog::critical(
      "DEPOSED: epoch {} exists, held by {}; this server (epoch {}) is no longer the primary: "
      "every write is refused and nothing more is acknowledged. To rejoin, restart it with "
      "--replica-of {}",
      by.value(), holder.empty() ? std::string("a server not named") : holder, epoch_.load(),
      holder.empty() ? std::string("the new primary's replication address") : holder);
  // Each shard on its own thread (this one's included, at its next turn:
  // its gate is already fenced by whoever called).
  for (auto& owned : slots_) {
    Slot* slot = owned.get();
    if (!slot->shard) continue;
    slot->shard->runtime().PostFromOtherThread([slot, by, holder] {
      slot->storage.gate->Fence();
      slot->storage.gate->set_writes_refused(true);
      if (slot->primary) slot->primary->Deposed(by);
      slot->shard->Depose(by, holder);
    });
  }
  // A promoted server that is deposed in turn has nothing to tell any more.
  if (notifier_) notifier_->RequestStop();
  deposed_marked_ = false;
  return MarkDeposed();
}

bool Server::MarkDeposed() {
  const DeposedMarker marker{deposed_by_, new_primary_,
                             core::FormatRfc3339Nano(core::SystemClock::Instance().WallNow())};
  if (absl::Status w = WriteDeposedMarker(options_.data_dir, marker); !w.ok()) {
    spdlog::critical("DEPOSED, but the data directory could not be marked ({}): do NOT restart "
                     "this server without --replica-of",
                     std::string(w.message()));
    return false;
  }
  deposed_marked_ = true;
  return true;
}

core::OpStatus Server::DeposedStatus() {
  std::lock_guard<std::mutex> l(depose_mu_);
  if (deposed_by_ == 0) return core::OkStatus();
  return core::Deposed(deposed_by_, new_primary_);
}

absl::Status Server::CheckDeposedMarker(bool standby) {
  auto marker = ReadDeposedMarker(options_.data_dir);
  if (standby) {
    // The way out: a rejoin as the new primary's standby, which serves no
    // writes. The marker stays until this server is promoted (PROMOTE
    // removes it): a rejoin that is refused, or a start with --replica-of
    // given by mistake, must not let a later start serve as a primary.
    if (marker.ok() && marker->has_value())
      spdlog::warn("{}: this server was deposed by epoch {}; it starts as a standby of {} (the "
                   "marker stays until a promotion)",
                   DeposedMarkerPath(options_.data_dir), (*marker)->epoch, options_.replica_of);
    return absl::OkStatus();
  }
  if (!marker.ok()) return marker.status();
  if (!marker->has_value()) return absl::OkStatus();
  return absl::FailedPreconditionError(DeposedStartRefusal(options_.data_dir, **marker));
}

void Server::StartNotifier(core::Epoch epoch) {
  if (options_.replica_of.empty()) return;
  std::lock_guard<std::mutex> l(depose_mu_);
  if (deposed_by_ != 0) return;
  NoticeSettings s{options_.replica_of, options_.password, cluster_id_, shard_count_, epoch,
                   replication_address_};
  notifier_ = std::make_unique<EpochNotifier>(std::move(s));
  notifier_->Start();
}

}  // namespace werk::net
