#pragma once
// The composition root: binds the listener, builds the shard with its
// journal, and runs it until SIGTERM/SIGINT.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <absl/status/status.h>

#include "core/clock.h"
#include "core/global_ops.h"
#include "core/journal.h"
#include "core/mailbox.h"
#include "core/op_status.h"
#include "net/data_dir_lock.h"
#include "net/epoch_notifier.h"
#include "net/bootstrap.h"
#include "net/rejoin.h"
#include "net/replication_standby.h"
#include "net/replication_acceptor.h"
#include "net/replication_auth.h"
#include "net/replication_connector.h"
#include "net/server_options.h"
#include "net/server_web.h"
#include "net/shard.h"
#include "net/shard_storage.h"
#include "net/web/web_server.h"

namespace werk::net {

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // Binds the command port, builds and recovers every shard (each on its own
  // thread, which owns its io_uring). An error says why werk cannot start.
  absl::Status Start();
  // Serves until a stop signal, then shuts down cleanly. Returns the exit code.
  int Run();
  int port() const { return port_; }
  // The replication port bound (--replication-bind), or 0.
  int replication_port() const { return replication_port_; }
  // The web UI's port bound (-w), or 0 (disabled).
  int web_port() const { return web_ ? web_->port() : 0; }
  // Run returned because this server must be built again from the same
  // options (a standby that cut nothing yet but will at the next start:
  // docs/replication.md "Rejoin"). The caller re-binds the ports this run
  // bound.
  bool restart_requested() const { return restart_.load(); }

 private:
  struct Slot;
  void ShardThread(uint32_t id);
  void Report(uint32_t id);
  // --replica-of with a data directory that has no MANIFEST: adopt the
  // primary's cluster id and shard count.
  absl::Status AdoptPrimaryShape();
  // Starts the replication side this server has (primary or standby) on
  // shard `id`'s thread, before its loop runs.
  void StartReplication(uint32_t id);
  void ReleaseShards();
  // Binds -w and serves the web UI (unless disabled with ":0").
  absl::Status StartWeb();
  // Any thread: a standby cannot go on; the server stops with `why`.
  void StopFatally(const absl::Status& why);
  // A standby shard heard DIVERGED (net/rejoin.h): refuse (stop), or record
  // the cut and restart. On the shard's thread.
  void OnDiverged(uint32_t shard, core::Lsn fork, std::optional<core::Lsn> alone_since);
  // At start, before any shard recovers: a rejoin's cuts and a bootstrap's
  // installs the last run decided (net/rejoin.h, net/bootstrap.h).
  absl::Status FinishPendingInstalls(bool standby);
  // A standby shard's bootstrap hooks: the checkpoints staged are written
  // down (BOOTSTRAP) and the server restarts once no shard is still
  // receiving one.
  ReplicationStandby::Bootstrap StandbyBootstrap(uint32_t id);
  // Any thread: the shards stop and Run returns for a restart.
  void RequestRestart(const std::string& why);
  // The global operations a crash (or a primary's death) left applied on
  // some shards only, planned over the shards' states, which nothing
  // changes meanwhile: at start, before the shards run, and at a
  // promotion, with every shard parked.
  core::RollForwardPlan PlanRollForward();
  // Shard `id`'s side of a primary with --replication-bind: its
  // ReplicationPrimary and INFO's replication part. `alone`: a promoted
  // primary (net/replication_primary.h). On the shard's thread.
  void AttachPrimary(uint32_t id, bool alone);
  // The replication port's acceptor, handing standbys to the shards.
  void StartAcceptor();

  // Promotion (server_promote.cc; docs/replication.md "Promotion").
  // PROMOTE on shard `from`'s thread: a refusal at once, or nullopt and
  // `done` later on that thread.
  std::optional<core::OpStatus> Promote(uint32_t from, std::function<void(core::OpStatus)> done);
  // On the promotion's own thread: every shard becomes the primary.
  core::OpStatus RunPromotion();
  enum class Promotion : uint8_t { kNone, kRunning, kDone };

  // Fencing (server_fencing.cc; docs/replication.md "Fencing").
  // Any thread: a newer epoch `by` exists, held by `holder` (its
  // replication address, empty if unknown). Every shard is deposed (its
  // gate fenced, its writes and the replies waiting for the standby
  // refused), loudly, and the data directory is marked DEPOSED.
  // Deposes every shard by `by` (once per newer epoch) and marks the data
  // directory (again, if an earlier try failed). Returns whether it is
  // marked.
  bool Depose(core::Epoch by, std::string holder);
  bool MarkDeposed();  // under depose_mu_
  // The deposed error (OK unless deposed).
  core::OpStatus DeposedStatus();
  // At start: a deposed data directory refuses to start as a primary; a
  // start with --replica-of (a rejoin) removes the marker.
  absl::Status CheckDeposedMarker(bool standby);
  // After a promotion: tell the old primary (--replica-of) of the new
  // epoch, until it has heard (net/epoch_notifier.h).
  void StartNotifier(core::Epoch epoch);

  ServerOptions options_;
  uint32_t shard_count_ = 1;
  uint32_t joined_ = 0;  // shards ready to serve (see ShardThread)
  std::vector<int> cores_;  // the CPUs this process may run on
  std::vector<std::unique_ptr<Slot>> slots_;
  std::unique_ptr<core::Mailbox> mailbox_;
  GroupShared group_;
  std::unique_ptr<DataDirLock> lock_;  // held until the server is destroyed
  std::string cluster_id_;
  std::string replication_address_;  // --replication-bind, with the port bound
  std::atomic<uint64_t> epoch_{1};  // the group's (the highest of its logs')
  const uint64_t run_id_ = MakeEpochRunId();  // this run's, if it is a primary's
  std::unique_ptr<ReplicationAcceptor> acceptor_;    // a primary with --replication-bind
  std::unique_ptr<ReplicationConnector> connector_;  // a standby
  std::mutex fatal_mu_;
  std::string fatal_;  // why a standby stopped
  std::atomic<bool> restart_{false};
  // A shard heard DIVERGED: no checkpoint begins any more, the stop's
  // included (wal::Checkpointer::set_hold), so the log can still be cut.
  std::atomic<bool> hold_checkpoints_{false};
  std::optional<RejoinPlan> rejoin_plan_;  // the cuts decided in this run (fatal_mu_)
  // Bootstraps under way and staged in this run (fatal_mu_).
  int bootstraps_running_ = 0;
  std::vector<PendingBootstrap> bootstraps_staged_;
  core::Epoch min_primary_epoch_{0};  // a promoted directory's: its promotion's + 1
  int replication_port_ = 0;
  int replication_fd_ = -1;  // --replication-bind, until the acceptor owns it
  std::atomic<Promotion> promotion_{Promotion::kNone};
  std::thread promote_thread_;
  std::unique_ptr<EpochNotifier> notifier_;  // started by a promotion
  std::mutex depose_mu_;
  uint64_t deposed_by_ = 0;  // 0: not deposed
  std::string new_primary_;
  bool deposed_marked_ = false;  // the DEPOSED marker is written
  // The web UI, /metrics and the probes (-w), on threads of their own; it
  // reads the shards' snapshots, so it stops before they are released.
  std::unique_ptr<ServerWebBackend> web_backend_;
  std::unique_ptr<web::WebServer> web_;
  const core::UnixNanos started_at_ = core::SystemClock::Instance().WallNow();
  int listen_fd_ = -1;                 // shared by every shard
  int signal_fd_ = -1;
  int port_ = 0;

  // Start-up barrier: every shard built and recovered, then all run.
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t built_ = 0;
  bool go_ = false;
  bool abort_ = false;
};

}  // namespace werk::net
