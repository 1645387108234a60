#pragma once
// One shard's side of a standby (--replica-of; docs/replication.md): takes
// the link the connector authenticated, applies and logs the primary's
// records as they come (wal::ReplicaReceiver: the same Apply, the same
// LSNs, its own log and syncs) and acknowledges what it synced. When the
// link ends (or goes silent: net/link_liveness.h) it asks the connector for a
// new one from where its log stops.
//
// What the standby cannot go on from ends the server with the reason:
// records the state refuses (the logs disagree), or a primary that refuses
// it. A primary whose log diverged from this one (DIVERGED) is handed to
// the server (Diverged), which decides whether the tail may be cut
// (docs/replication.md "Rejoin"); the shard follows nothing more either way.
// A data directory that was promoted follows only a primary of a newer
// epoch than its promotion's (min_primary_epoch): one of the same epoch is
// not its successor (an old primary restarted has a new epoch of its own,
// which may be numbered the same), and its records would be appended after
// this log's own writes unnoticed.
//
// A primary that answers BOOTSTRAP sends its newest checkpoint: the shard
// stages it (wal::CheckpointReceiver, in Bootstrap::staging_dir), and once
// it is whole and verified tells the server (Bootstrap::done), which
// installs it at the next start (net/bootstrap.h). The shard follows
// nothing more in this run.
//
// Thread affinity: the shard's thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/status.h>

#include "core/participant.h"
#include "core/partition.h"
#include "core/shard_runtime.h"
#include "net/link_liveness.h"
#include "net/replication_connector.h"
#include "net/replication_socket.h"
#include "wal/checkpoint_receiver.h"
#include "wal/replica_receiver.h"
#include "wal/wal.h"

namespace werk::net {

// What INFO shows of a standby shard's link.
struct StandbyLinkStats {
  bool linked = false;
  uint64_t applied_lsn = 0;
  uint64_t acked_lsn = 0;
  uint64_t primary_durable_lsn = 0;  // as last heard
  uint64_t records = 0;
  uint64_t sessions = 0;
};

class ReplicationStandby final : public core::Participant {
 public:
  using Fatal = std::function<void(const absl::Status& why)>;
  // The primary answered DIVERGED at `fork`; `alone_since` is the state's
  // (core::EpochHistory). On the shard's thread.
  using Diverged =
      std::function<void(uint32_t shard, core::Lsn fork, std::optional<core::Lsn> alone_since)>;

  ReplicationStandby(uint32_t shard, core::ShardRuntime* runtime, wal::Wal* wal,
                     core::Partition* partition, ReplicationConnector* connector, Fatal fatal,
                     Diverged diverged = {}, core::Epoch min_primary_epoch = core::Epoch(0));
  ~ReplicationStandby() override;

  // Bootstrapping from the primary's checkpoint (docs/replication.md
  // "Bootstrap"). begin: a bootstrap started; end: it ended, with the
  // checkpoint's LSN once staged whole and verified (nullopt: it failed, and
  // the shard asks for a new link). On the shard's thread.
  struct Bootstrap {
    std::string staging_dir;
    std::function<void(uint32_t shard)> begin;
    std::function<void(uint32_t shard, std::optional<core::Lsn> staged)> end;
  };
  void set_bootstrap(Bootstrap b) { bootstrap_ = std::move(b); }

  // Asks the connector for the first link (after the shard joined the loop).
  void Begin();
  // The connector's link for this shard.
  void Attach(ProvenPrimary link);

  StandbyLinkStats stats() const;

  // Promotion (docs/replication.md "Promotion"): the link ends for good —
  // the receiver goes first, so no record is appended and no ACK leaves
  // after this call — and links the connector still hands over are closed.
  // Returns the highest epoch this shard knows (its log's, or the
  // primary's as last heard). Idempotent.
  core::Epoch StopForPromotion();

  void OnTurn() override;
  void OnDurable(core::Lsn durable) override;
  void OnStop() override;
  int64_t WaitBudgetNs() override;
  bool Quiescent() const override { return !live_ && closing_.empty(); }
  bool IoIdle() const override { return !live_ && closing_.empty(); }

 private:
  struct Session {
    std::unique_ptr<ReplicationSocket> socket;
    std::unique_ptr<wal::ReplicaReceiver> receiver;
    // A bootstrap's checkpoint, while it comes (instead of records).
    std::unique_ptr<wal::CheckpointReceiver> checkpoint;
    core::Lsn checkpoint_lsn{0};
    LinkLiveness liveness;
  };
  // WELCOME said BOOTSTRAP: a session that takes the checkpoint.
  void BeginBootstrap(ProvenPrimary link);
  absl::Status OnCheckpointMessage(Session* s, const wal::Message& m);
  using OnSessionMessage = std::function<absl::Status(Session*, const wal::Message&)>;
  // A new live session on `link`'s socket (not started yet).
  Session* StartSession(ProvenPrimary& link, OnSessionMessage on_message);
  StandbyPosition Position() const;
  void OnClosed(Session* s, const absl::Status& why);
  void Stop(const absl::Status& why);

  uint32_t shard_;
  core::ShardRuntime* runtime_;
  wal::Wal* wal_;
  core::Partition* partition_;
  ReplicationConnector* connector_;
  Fatal fatal_;
  Diverged diverged_;
  Bootstrap bootstrap_;
  bool bootstrapping_ = false;  // begin told, end not yet
  core::Epoch min_primary_epoch_;
  std::unique_ptr<Session> live_;
  std::vector<std::unique_ptr<Session>> closing_;
  core::Epoch primary_epoch_{0};
  core::Lsn primary_durable_{0};
  uint64_t records_ = 0;
  uint64_t sessions_ = 0;
  bool stopping_ = false;
};

}  // namespace werk::net
