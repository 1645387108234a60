#pragma once
// A Faktory shard: one state machine and the connections it accepted, run
// by a core::ShardRuntime (one thread, one io_uring, one journal; design §3
// "Process") as its first participant. In each iteration of the runtime's
// loop:
//
//   1. the I/O completions run: lines are parsed and commands applied as
//      mutations (after a late wake-up, OnWake reads every socket dry
//      first: shard_catch_up.cc);
//   2. OnTurn fires due job timers (scheduled, retries, reservations, dead
//      purge) and connection timers (handshake, FETCH wait, heartbeats,
//      idle) — after a late wake-up only once the other shards passed on
//      what they read — and hands jobs that became available to blocked
//      fetchers;
//   3. the runtime commits the journal (group commit); OnDurable releases
//      every staged reply whose LSN is durable.
//
// Everything here runs on the shard's thread; nothing is locked.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_map.h>

#include "core/clock.h"
#include "core/histogram.h"
#include "core/mailbox.h"
#include "core/job_service.h"
#include "core/journal.h"
#include "core/op_status.h"
#include "core/partition.h"
#include "core/participant.h"
#include "core/reclaimer.h"
#include "core/shard_runtime.h"
#include "core/reactor.h"
#include "core/state_machine.h"
#include "core/string_hash.h"
#include "core/timer_wheel.h"
#include "cron/driver.h"
#include "net/command_kind.h"
#include "net/connection.h"
#include "net/command_decoders.h"
#include "net/info.h"
#include "net/job_decoder.h"
#include "net/server_options.h"
#include "net/stats_publisher.h"
#include "net/worker_registry.h"
#include "wal/checkpointer.h"
#include "wal/durability_gate.h"
#include "wal/wal.h"

namespace werk::net {

// Commands of one connection forwarded to their owners and not answered yet;
// past this the connection reads no further command until one comes back.
inline constexpr size_t kForwardsInFlightMax = 64;

struct ShardStats {
  uint64_t commands = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;
  uint64_t handshakes_evicted = 0;  // oldest unauthenticated socket closed for a new one
  uint64_t idle_closed = 0;
  uint64_t flush_expired = 0;  // closing connections that did not read their replies in time
  uint64_t reads_with_data = 0;  // recv completions that brought bytes
  uint64_t catch_ups = 0;        // late wake-ups (shard_catch_up.cc)
};

// What the shards of a group share; any thread.
struct GroupShared {
  std::atomic<bool> stop{false};        // one shard stopping stops them all
  std::atomic<bool> signalled{false};   // a SIGTERM or SIGINT stopped them (not a restart)
  std::atomic<int64_t> connections{0};  // client connections past the handshake
  std::atomic<int64_t> sockets{0};      // accepted sockets, handshake or not
  std::atomic<int64_t> handshakes{0};   // sockets still in the handshake
  std::atomic<uint64_t> accepts{0};     // sockets dealt to the shards in turn
  // The cron driver (on the first shard), for INFO on any shard.
  std::atomic<const cron::Driver*> cron{nullptr};
};

class Shard final : public core::Participant, public core::WorkerListener {
 public:
  Shard(const ServerOptions& options, const core::Clock& clock);
  ~Shard() override;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Where mutations are logged. Must be attached before Run/RunOnce.
  void AttachJournal(core::Journal* journal) {
    journal_ = journal;
    runtime_.AttachJournal(journal);
  }
  // The write-ahead log, its checkpointer and the gate in front of it (the
  // journal: what is durable as far as clients may be told; null: the log
  // itself); all join the loop as participants.
  void AttachWal(wal::Wal* wal, wal::Checkpointer* checkpointer,
                 wal::DurabilityGate* gate = nullptr);
  // After recovery: workers known only from the log get a heartbeat deadline
  // so they are forgotten if they do not come back.
  void AdoptRecoveredWorkers();
  core::Reactor& reactor() { return runtime_.reactor(); }
  core::ShardRuntime& runtime() { return runtime_; }
  // Null until AttachWal.
  const wal::Checkpointer* checkpointer() const { return checkpointer_; }
  // True once the journal failed: the shard closed every connection and stops.
  bool journal_failed() const { return runtime_.log_failed(); }

  // Publishes the shard's stats at once (after recovery, before serving:
  // INFO on any shard reads every shard's snapshot).
  void PublishStats() { stats_publisher_.PublishNow(); }
  // Any thread: the latest published snapshot (none before the first).
  std::optional<ShardSummary> ReadStats() const { return stats_publisher_.Read(); }
  // Starts accepting on a listening socket (owned by the caller). Shared by
  // every shard of the group (the server's one socket): the sockets accepted
  // are dealt to the shards in turn. Not shared: they stay here.
  enum class Listener : uint8_t { kOwn, kShared };
  void AddListener(int listen_fd, Listener kind);
  // Also wakes on `fd` readable (a signalfd) and calls `on_readable`.
  void WatchStopFd(int fd);
  // This shard fires the cron table (cron/driver.h; the server's first
  // shard, after JoinGroup, before the loop runs). Null: no table.
  void EnableCron(std::shared_ptr<const cron::Table> table);
  const cron::Driver* cron() const { return cron_.get(); }
  // SIGHUP: reads conf.d again and applies what can change while running
  // (the cron table); an invalid conf.d changes nothing (net/shard_reload.cc).
  void ReloadConfig();
  // Runs the loop until a stop was requested and every connection is closed
  // (or the shutdown grace period ran out).
  void Run() { runtime_.Run(); }
  void RequestStop() { runtime_.RequestStop(); }
  // One loop iteration, waiting at most `max_wait_ns` for I/O (tests drive
  // the shard with this and a ManualClock).
  void RunOnce(int64_t max_wait_ns) { runtime_.RunOnce(max_wait_ns); }
  bool stopped() const { return runtime_.stopped(); }
  // After the loop stopped: waits (bounded) until no storage request is in
  // flight, so nothing is left half done in the ring at exit.
  void DrainStorage() { runtime_.DrainIo(); }

  // --- As the runtime's participant (core/participant.h) ------------------
  void OnWake(int64_t late_ms) override;
  void OnTurn() override;
  void OnDurable(core::Lsn durable) override;
  void OnLogFailed() override;
  void OnStop() override;
  void OnStopped(core::ShardRuntime& runtime) override;
  int64_t WaitBudgetNs() override;
  bool Quiescent() const override {
    return connections_.empty() && service_.fetcher().outstanding() == 0;
  }

  // Joins a group of shards before running (design §3 "Ownership"): jobs
  // belong to shard hash(jid) % count, and commands reach the owner through
  // the mailbox. Without it the shard is alone and owns everything.
  // `group` is shared by all (stop flag, connection and socket limits).
  void JoinGroup(uint32_t id, std::vector<Shard*> peers, core::Mailbox* mailbox,
                 GroupShared* group);
  uint32_t id() const { return id_; }
  uint32_t shard_count() const { return uint32_t(peers_.size()); }
  uint32_t OwnerOf(std::string_view key) const;  // core::ShardOf
  // Any thread: makes the shard's loop look at its mailbox and stop flag.
  void WakeFromOtherThread() { runtime_.WakeFromOtherThread(); }

  core::StateMachine& state() { return partition_.state(); }
  // The job operations as a typed service (core/job_service.h): what the
  // commands below, and anything else that acts on jobs, call.
  core::JobService& service() { return service_; }
  // The group's role: a standby refuses every write (core::Partition).
  void set_role(core::Role role, std::string primary = {}) {
    partition_.set_role(role, std::move(primary));
  }
  core::Partition& partition() { return partition_; }
  // Required mode with the standby gone (net/replication_primary.h, which
  // also tells the journal: core::Journal::writes_refused): refuses every
  // write with `why` until AcceptWrites(). Results other shards wait for
  // here go home as `why`, and each reply here that waits for the standby
  // becomes `why` (net/reply_queue.h: Refuse), in its place.
  void RefuseWrites(const core::OpStatus& why);
  void AcceptWrites() { partition_.set_write_refusal(core::OkStatus()); }
  // A newer epoch `by` exists, held by `primary` (docs/replication.md
  // "Fencing"): the partition is deposed, and every write and every reply
  // still waiting for the standby gets the deposed error, as RefuseWrites
  // does. The caller has fenced the journal first.
  void Depose(core::Epoch by, std::string primary);
  // Fills the replication part of this shard's INFO (the server's
  // replication participant for this shard).
  void set_replication_reporter(std::function<void(ReplicationSummary*)> report) {
    replication_reporter_ = std::move(report);
  }
  // PROMOTE (shard_admin.cc) hands the promotion to the server, which
  // either refuses at once (the status returned) or starts it (nullopt) and
  // later calls `done` on this shard's thread with the outcome. Without a
  // handler the command is refused.
  using PromoteHandler = std::function<std::optional<core::OpStatus>(
      std::function<void(core::OpStatus)> done)>;
  void set_promote_handler(PromoteHandler handler) { promote_ = std::move(handler); }
  const ShardStats& stats() const { return stats_; }
  size_t connection_count() const { return ready_connections_; }

  // --- Called by Connection::Op --------------------------------------------
  void OnRecv(Connection* c, int32_t res);
  void OnSend(Connection* c, int32_t res);
  void OnClosed(Connection* c);

 private:
  friend class ShardTest;
  struct AcceptOp final : core::IoCompletion {
    Listener kind = Listener::kOwn;
    Shard* shard;
    int fd;
    void Complete(int32_t res, uint32_t flags) override;
  };
  struct StopOp final : core::IoCompletion {
    Shard* shard;
    int fd;
    char buf[128];
    void Complete(int32_t res, uint32_t flags) override;
  };

  // The time as of this iteration's wake-up (core::ShardRuntime).
  core::UnixNanos now() const { return runtime_.now(); }
  int64_t mono_ms() const { return runtime_.mono_ms(); }

  // Connections (shard_io.cc).
  void ArmAccept(AcceptOp* op);
  void OnAccept(AcceptOp* op, int32_t res, uint32_t flags);
  // A socket dealt to this shard by the one that accepted it: the handshake
  // pool, the connection, the greeting.
  void TakeSocket(int fd);
  void ArmRecv(Connection* c);
  // The connection cannot run its next command yet (a blocked FETCH, a
  // command on other shards, too many forwarded, output not drained).
  bool InputBlocked(const Connection* c) const;
  size_t LineLimit(const Connection* c) const;  // the handshake's or the option's
  void StartSend(Connection* c);
  // Runs the complete lines buffered while the connection is not blocked,
  // then reads on (ArmRecv). Every path that unblocks a connection calls it.
  void ProcessInput(Connection* c);
  void CloseConnection(Connection* c);
  void CloseAfterFlush(Connection* c);
  void MaybeFinishClose(Connection* c);
  // TLS connections (shard_tls.cc). ArmRecv's last step once the
  // connection may read: plaintext the session holds comes first, the
  // socket is read only when it has none.
  void ReadTls(Connection* c);
  // Decrypts what fits into the input buffer and sends what the handshake
  // produced; false when the connection is closing or its input ended.
  bool DecryptTls(Connection* c);
  // StartSend's first step: encrypts out_ (once the handshake is done) and
  // moves the session's ciphertext into sending_; false when there is none.
  bool EncryptTls(Connection* c);
  // Before the lingering close: queues close_notify; true while it is
  // being sent (MaybeFinishClose comes back when it is).
  bool FinishTls(Connection* c);
  void Handshake(Connection* c, std::string_view line);
  // The socket no longer counts as one in the handshake (HELLO accepted, or
  // closing); a no-op after the first call.
  void LeaveHandshake(Connection* c);
  void ArmIdle(Connection* c);
  void OnIdleTimer(Connection* c);
  void Dispatch(Connection* c, std::string_view line);
  // The dispatch table (shard_commands.cc): a verb, its handler (none: a
  // Faktory Enterprise command, refused), and what the handler is given.
  struct Command {
    enum class Arg : uint8_t { kAfterSpace, kRest };  // see Dispatch()
    std::string_view verb;
    void (Shard::*run)(Connection* c, std::string_view arg);
    Arg arg;
    CommandKind kind;  // its latency histogram
  };
  static const Command kCommands[];

  // Replies.
  void Reply(Connection* c, std::string_view bytes);
  // A reply that depends on no record (HELLO's +OK): released as soon as
  // the replies before it, not held until everything appended is durable.
  void ReplyIndependent(Connection* c, std::string_view bytes);
  void ReplyOk(Connection* c);
  void ReplyError(Connection* c, std::string_view message);
  void ReplyBulk(Connection* c, std::string_view data);
  void ReplyNull(Connection* c);
  void ReplyStatus(Connection* c, const core::OpStatus& status);  // +OK or -ERR
  void AwaitRelease(Connection* c);  // ReleaseReplies() looks at c
  void ReleaseReplies();
  // `ready_ns`: the monotonic time the replies released are ready to send.
  void Release(Connection* c, core::Lsn durable, int64_t ready_ns);


  // Commands (shard_commands.cc, shard_admin.cc).
  void CmdPush(Connection* c, std::string_view arg);
  void CmdPushBulk(Connection* c, std::string_view arg);
  // A PUSHB too long to decode at once (kPushBulkDecodeAtOnceBytes).
  static constexpr size_t kBulkChunkJobs = 1024;
  struct BulkDecode {
    JobBatchDecoder decoder;
    std::vector<std::vector<core::JobSpec>> jobs;  // chunks of kBulkChunkJobs
    core::UnixNanos now = 0;
  };
  void DecodeBulkSlice(Connection* c, std::shared_ptr<BulkDecode> d);
  // Logs the Enterprise job fields this shard has newly seen
  // (net/enterprise_fields.h); called when field_uses_.seen moved.
  void WarnEnterpriseFields();
  // Stores decoded jobs (core::JobService::PushBatch) and replies.
  void StoreBulk(Connection* c, std::vector<std::vector<core::JobSpec>> jobs, core::UnixNanos now);
  void CmdFetch(Connection* c, std::string_view arg);
  void CmdAck(Connection* c, std::string_view arg);
  void CmdFail(Connection* c, std::string_view arg);
  void CmdBeat(Connection* c, std::string_view arg);
  void CmdInfo(Connection* c, std::string_view arg);
  void CmdFlush(Connection* c, std::string_view arg);
  void CmdEnd(Connection* c, std::string_view arg);
  void CmdMutate(Connection* c, std::string_view arg);
  void CmdQueue(Connection* c, std::string_view arg);
  void CmdPromote(Connection* c, std::string_view arg);
  // WERK (shard_werk.cc): the operator's tools' own commands.
  void CmdWerk(Connection* c, std::string_view arg);
  void WerkJobs(Connection* c, std::string_view json);
  // QUEUE LATENCY's reply: per name, seconds since `oldest` (0: none queued).
  void ReplyLatency(Connection* c, const std::vector<std::string>& names,
                    const std::vector<core::UnixNanos>& oldest);

  // Replies to `c` with an operation's status (core::Pending): at once when
  // it ran here, else in a hole held in the connection's reply queue, so the
  // commands pipelined behind it run meanwhile (up to kForwardsInFlightMax
  // per connection): a command that runs here touches only this shard's
  // jobs, and later commands bound for the same owner run there after it
  // (the mailbox ring is FIFO), so the effects are those of running the
  // connection's commands in order.
  void Answer(Connection* c, core::Pending<core::OpStatus> result);
  // Replies to `c` with render(result) once the result is in; `c` reads
  // nothing further meanwhile (for operations on several shards, which
  // the connection's later commands must see done).
  template <class T>
  void AnswerInOrder(Connection* c, core::Pending<T> result, std::function<void(T)> render);
  // Runs `fn` for `c` on a later loop iteration; `c` reads nothing
  // meanwhile (a long PUSHB decoded a slice at a time).
  void Defer(Connection* c, std::function<void()> fn);

  // A forwarded command's answer is back (Answer()).
  void OnForwardReply(Connection* c, ReplyQueue::Hole hole, const core::OpStatus& status);

  // FETCH (shard_fetch.cc): parsing and replies; the fetch itself is
  // core::Fetcher's.
  bool FetcherIsQuiet(const Connection* c) const;

 public:
  // The answer to `c`'s FETCH (Connection::OnFetched).
  void OnFetched(Connection* c, core::FetchResult result);

 private:

  // Timers.
  void FireConnTimers();

  // Catching up after a late wake-up (shard_catch_up.cc): input that arrived
  // before a deadline is handled before the deadline's timer fires.
  void CatchUp(int64_t late_ms);
  // No connection holds read commands back behind one running elsewhere.
  bool InputSettled() const;
  // True while a catch-up still waits for input to settle (here and on the
  // other shards); ends the catch-up otherwise.
  bool TimersHeld();
  void AnswerCatchUpQueries();
  struct CatchUpAsker {
    uint32_t shard;
    uint64_t round;
    int64_t asked_ms;
  };

 public:
  // A shard that woke late asks whether what this one read has been passed on.
  void OnCatchUpQuery(uint32_t from, uint64_t round);
  void OnCatchUpAnswer(uint64_t round);

 private:

  // Worker processes' connections (shard_workers.cc); the processes are
  // core::JobService's.
  void AttachWorker(Connection* c, HelloArgs hello);
  void DetachWorker(Connection* c);
  core::WorkerState WorkerStateOf(const Connection* c) const;
  // Runs `fn` on shard `target` later; nothing comes back.
  void Notify(uint32_t target, std::function<void(Shard&)> fn);

 public:
  // As the service's core::WorkerListener.
  void OnWorkerState(const std::string& wid, core::WorkerState state) override;
  void OnWorkerExpired(const std::string& wid) override;

  // Before serving: completes the global operations a crash left applied
  // on other shards only (core::PlanRollForward), and returns once they —
  // and anything else appended before serving — are durable (or the log
  // failed).
  void RollForward(const std::vector<core::Mutation>& ops);
  // RollForward's first half, for a promotion (the shard is serving: the
  // loop makes them durable, the caller waits for that).
  void CommitRollForward(const std::vector<core::Mutation>& ops);

 private:
  // This shard's part of INFO (published by stats_publisher_).
  void Summarize(ShardSummary* s);
  // What INFO shows of the whole group: every shard's published snapshot.
  std::vector<ShardSummary> ReadSummaries() const;

  ServerOptions options_;
  core::Journal* journal_ = nullptr;
  wal::Wal* wal_ = nullptr;
  wal::DurabilityGate* gate_ = nullptr;
  wal::Checkpointer* checkpointer_ = nullptr;
  const core::Clock& clock_;
  core::ShardRuntime runtime_;
  core::Partition partition_;  // the jobs this shard owns
  core::JobService service_;
  core::Reclaimer reclaimer_;
  StatsPublisher stats_publisher_;
  std::function<void(ReplicationSummary*)> replication_reporter_;
  PromoteHandler promote_;
  core::TimerWheel conn_timers_;  // monotonic ms
  JobDecoder decoder_;
  EnterpriseFieldUses field_uses_;        // jobs decoded here, for INFO
  EnterpriseFieldSet fields_warned_ = 0;  // field_uses_.seen already logged
  WorkerRegistry workers_;
  ShardStats stats_;
  // Per command kind, µs from the command's dispatch to its reply being
  // ready to send (Release); docs/running.md "Metrics".
  std::array<core::LatencyHistogram, kCommandKinds> command_latency_us_{};
  std::mt19937_64 rng_;

  core::UnixNanos started_at_ = 0;

  std::vector<std::unique_ptr<AcceptOp>> accept_ops_;
  std::unique_ptr<StopOp> stop_op_;
  core::IntrusiveList<Connection, AllConnectionsTag> connections_;
  core::IntrusiveList<Connection, HandshakeTag> handshaking_;  // accept order
  size_t socket_count_ = 0;
  size_t ready_connections_ = 0;
  uint64_t next_conn_id_ = 1;
  std::vector<Connection*> awaiting_;  // connections with staged replies
  std::vector<Connection*> release_scratch_;  // ReleaseReplies' working list
  // Summarize()'s caches: the queues sorted by name, the processes owned here.
  std::vector<const core::Queue*> sorted_queues_;
  uint64_t sorted_queues_version_ = ~uint64_t(0);

  // The group, when there is more than one shard.
  uint32_t id_ = 0;
  std::vector<Shard*> peers_;
  GroupShared own_group_;
  GroupShared* group_ = &own_group_;
  std::unique_ptr<cron::Driver> cron_;

  int64_t catch_up_until_ms_ = 0;  // timers are held until then (0: not catching up)
  uint32_t catch_up_answers_pending_ = 0;
  uint64_t catch_up_round_ = 0;
  std::vector<CatchUpAsker> catch_up_askers_;

  bool shutting_down_ = false;
  int64_t shutdown_deadline_ms_ = 0;
  bool accept_paused_ = false;
  int64_t accept_resume_ms_ = 0;
};

}  // namespace werk::net
