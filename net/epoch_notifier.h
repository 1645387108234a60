#pragma once
// The promoted server tells its old primary that it is deposed
// (docs/replication.md "Fencing"). After a PROMOTE, the server dials the
// address it followed (--replica-of, the old primary's replication port),
// proves itself there as a standby of shard 0 would, and says which epoch
// it holds and where (EPOCH_NOTICE after its PROOF; net/replication_handshake.h).
// The old primary's shard deposes its server and answers with an
// authenticated WELCOME refusal: that answer is the delivery.
//
//   promoted (epoch E)                     old primary (epoch e < E)
//   HELLO (shard 0, highest epoch E)  →
//                                      ← CHALLENGE (epoch e)
//   PROOF, EPOCH_NOTICE (E, address)  →
//                                      ← WELCOME REFUSED (its proof): deposed
//
// An old primary cut off from it may come back much later: each failed
// attempt is retried after a backoff that doubles up to a bound, for as
// long as this server runs (or until it is deposed itself). A peer whose
// CHALLENGE carries an epoch of E or newer has nothing to learn: the
// notifier stops without proving itself (a newer epoch there is not
// believed before a proof; it is logged).
//
// Thread affinity: Start/Stop from the owner's thread; the attempts run on
// the notifier's own thread, with blocking calls and a deadline.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include <absl/status/statusor.h>

#include "core/types.h"

namespace werk::net {

// How long to wait before the next attempt: `first_ms` after the first
// failure, doubling, at most `max_ms`.
struct NotifierBackoff {
  int64_t first_ms = 250;
  int64_t max_ms = 5'000;
  int64_t DelayMs(uint32_t failures) const;
};

struct NoticeSettings {
  std::string target;  // the old primary's replication address
  std::string password;
  std::string cluster_id;
  uint32_t shard_count = 1;
  core::Epoch epoch{0};  // the epoch this server holds
  std::string holder;    // this server's replication address
  int64_t timeout_ms = 5'000;
};

enum class NoticeOutcome : uint8_t {
  kDelivered,     // the old primary proved itself and answered: it is deposed
  kPeerNotOlder,  // the peer's epoch is not older than ours: nothing to tell
};

// One attempt, blocking. An error: the peer could not be reached, did not
// prove itself, or broke the protocol (retry). `peer_epoch` receives the
// epoch the peer's CHALLENGE carried, if it came.
absl::StatusOr<NoticeOutcome> DeliverEpochNotice(const NoticeSettings& settings,
                                                 core::Epoch* peer_epoch);

class EpochNotifier {
 public:
  explicit EpochNotifier(NoticeSettings settings, NotifierBackoff backoff = {});
  ~EpochNotifier();
  EpochNotifier(const EpochNotifier&) = delete;
  EpochNotifier& operator=(const EpochNotifier&) = delete;

  void Start();
  // Any thread: no attempt starts after this (one under way ends at its
  // deadline at the latest). Does not join.
  void RequestStop();
  // Stops and joins.
  void Stop();

 private:
  void Loop();

  NoticeSettings settings_;
  NotifierBackoff backoff_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace werk::net
