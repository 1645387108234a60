#include "net/server.h"
#include "net/listen_socket.h"
#include "net/tls_context.h"

#include <netdb.h>
#include <sched.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/global_ops.h"
#include "core/limits.h"
#include "core/op_status.h"
#include "net/config.h"
#include "net/cpu_quota.h"
#include "net/data_dir_lock.h"
#include "net/manifest.h"
#include "net/promotion_marker.h"
#include "net/rejoin.h"
#include "net/repartition.h"
#include "net/replication_primary.h"
#include "net/replication_standby.h"
#include "net/server_slot.h"

namespace werk::net {

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() {
  if (web_) web_->Stop();
  if (promote_thread_.joinable()) promote_thread_.join();
  if (notifier_) notifier_->Stop();
  if (acceptor_) acceptor_->Stop();
  if (connector_) connector_->Stop();
  {
    std::lock_guard<std::mutex> l(mu_);
    abort_ = true;
  }
  cv_.notify_all();
  for (auto& slot : slots_)
    if (slot->thread.joinable()) slot->thread.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (replication_fd_ >= 0 && !acceptor_) ::close(replication_fd_);
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

absl::Status Server::Start() {
  std::error_code ec;
  if (!options_.data_dir.empty()) {
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return absl::FailedPreconditionError("cannot create the data directory " + options_.data_dir +
                                           ": " + ec.message());
    }
  }
  // One server per data directory, before anything in it is read.
  auto lock = DataDirLock::Acquire(options_.data_dir.empty() ? "." : options_.data_dir);
  if (!lock.ok()) return lock.status();
  lock_ = std::make_unique<DataDirLock>(std::move(*lock));
  // The cores this process may run on (taskset, cgroup cpusets), in order,
  // and the CPU time its cgroup may use (a container's CPU limit).
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &allowed)) cores_.push_back(cpu);
  }
  const bool standby = !options_.replica_of.empty();
  if (standby) {
    auto promoted = ReadPromotionMarker(options_.data_dir);
    if (!promoted.ok()) return promoted.status();
    if (promoted->has_value()) {
      // Promoted once, and now a standby again (deposed): it follows only a
      // primary of a newer epoch than its promotion's, and cuts what it
      // wrote that its new primary does not have (docs/replication.md
      // "Rejoin").
      const std::optional<uint64_t> epoch = PromotionMarkerEpoch(**promoted);
      if (!epoch)
        return absl::FailedPreconditionError(PromotionMarkerPath(options_.data_dir) +
                                             ": names no epoch: " + **promoted);
      min_primary_epoch_ = core::Epoch(*epoch + 1);
      spdlog::warn("replication: this data directory was {}; as a standby it follows only a "
                   "primary of epoch {} or newer",
                   **promoted, *epoch + 1);
    }
    if (auto st = AdoptPrimaryShape(); !st.ok()) return st;
  }
  if (auto st = CheckDeposedMarker(standby); !st.ok()) return st;
  if (options_.shards) {
    shard_count_ = options_.shards;
  } else {
    const std::optional<double> quota = CgroupCpuQuota();
    shard_count_ = DefaultShardCount(cores_.size(), quota);
    if (quota) {
      spdlog::info("{} shard(s): {} CPUs in this process's affinity mask, a CPU quota of {:.2f} "
                   "in its cgroup",
                   shard_count_, cores_.size(), *quota);
    } else {
      spdlog::info("{} shard(s): {} CPUs in this process's affinity mask, no CPU quota",
                   shard_count_, cores_.size());
    }
  }
  if (shard_count_ > core::kShardsMax)
    return absl::InvalidArgumentError("at most " + std::to_string(core::kShardsMax) + " shards");
  std::vector<std::string> notes;
  if (auto st = FinishLayoutSwitch(options_.data_dir, &notes); !st.ok()) return st;
  // Before the shape is checked: an install a crash cut short between its
  // two renames leaves a shard's log directory missing until it is done.
  if (auto st = FinishPendingInstalls(standby); !st.ok()) return st;
  std::vector<std::string> shape_notes;
  auto manifest = CheckDataDir(options_.data_dir, shard_count_, &shape_notes);
  if (!manifest.ok()) return manifest.status();
  for (const auto& n : shape_notes) spdlog::info("{}", n);
  spdlog::info("data directory {}: cluster {}, created {}, {} shards on disk", options_.data_dir,
               manifest->cluster_id, manifest->created_at, manifest->shards);
  const uint32_t on_disk = manifest->shards;
  cluster_id_ = manifest->cluster_id;
  if (standby && on_disk != shard_count_) {
    if (options_.shards)
      return absl::FailedPreconditionError(
          "a standby runs its primary's shard count: this data directory holds " +
          std::to_string(on_disk) + " shards and --shards asks for " +
          std::to_string(shard_count_));
    shard_count_ = on_disk;
  }
  if (on_disk != shard_count_) {
    spdlog::warn("the data directory holds {} shards and {} were asked for: re-partitioning",
                 on_disk, shard_count_);
    auto st = RepartitionLog(options_, core::SystemClock::Instance(), on_disk, shard_count_, &notes);
    for (const auto& n : notes) spdlog::warn("re-partitioning: {}", n);
    if (!st.ok()) return st;
  } else {
    for (const auto& n : notes) spdlog::warn("{}", n);
  }
  // Signals arrive through a signalfd shard 0 watches; they are blocked in
  // every thread. SIGPIPE is ignored (sends use MSG_NOSIGNAL anyway).
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC);
  if (signal_fd_ < 0) return absl::InternalError(std::string("signalfd: ") + std::strerror(errno));

  core::OpResult<int> fd = Listen(options_.binding, &port_);
  if (!fd.ok()) return fd.status();
  listen_fd_ = *fd;
  if (absl::Status st = StartWeb(); !st.ok()) return st;
  if (!options_.replication_binding.empty()) {
    // A standby binds it too, at start (an address in use is found now, not
    // at the promotion), and listens on it once promoted.
    int& replication_port = replication_port_;
    core::OpResult<int> rfd = Listen(options_.replication_binding, &replication_port);
    if (!rfd.ok()) return rfd.status();
    replication_fd_ = *rfd;
    std::string host, unused;
    SplitHostPort(options_.replication_binding, &host, &unused);
    replication_address_ = host + ":" + std::to_string(replication_port);
    if (standby) {
      spdlog::info("replication: {} (replication port {}) is where this standby will listen for a "
                   "standby of its own once promoted",
                   options_.replication_binding, replication_port);
    } else {
      spdlog::info("replication: listening for a standby on {} (replication port {}); writes wait "
                   "for its acknowledgement",
                   options_.replication_binding, replication_port);
    }
  }
  for (uint32_t i = 0; i < shard_count_; ++i) slots_.push_back(std::make_unique<Slot>());
  if (shard_count_ > 1) mailbox_ = std::make_unique<core::Mailbox>(shard_count_);
  for (uint32_t i = 0; i < shard_count_; ++i)
    slots_[i]->thread = std::thread(&Server::ShardThread, this, i);
  // Wait until every shard is built and recovered (or one failed).
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return built_ == shard_count_; });
  for (auto& slot : slots_)
    if (!slot->error.ok()) {
      abort_ = true;
      cv_.notify_all();
      return slot->error;
    }
  // The shards wait for `go_`: their states can be read here.
  uint64_t epoch = 1;
  for (auto& slot : slots_) epoch = std::max(epoch, slot->storage.wal->epoch().value());
  // A primary with a standby port begins a new run of its epoch at every
  // start (below, in StartReplication); only a promotion begins a new epoch.
  epoch_ = epoch;
  if (standby) {
    // A standby completes nothing itself: the primary's records will (and
    // promotion completes what is left).
    spdlog::info("replication: a standby of {}: writes are refused, the primary's log is "
                 "applied as it comes",
                 options_.replica_of);
    ConnectSettings cs{options_.replica_of, options_.password, cluster_id_, shard_count_};
    connector_ = std::make_unique<ReplicationConnector>(
        std::move(cs), /*retry_ms=*/1000,
        [this](uint32_t shard, ProvenPrimary link) {
          auto held = std::make_shared<ProvenPrimary>(std::move(link));
          Slot* slot = slots_[shard].get();
          slot->shard->runtime().PostFromOtherThread(
              [slot, held] { slot->standby->Attach(std::move(*held)); });
        },
        [this](const absl::Status& why) {
          // Once a promotion began, the link to the old primary is over:
          // what the connector says of it no longer stops this server.
          if (promotion_.load() == Promotion::kNone) StopFatally(why);
        });
    connector_->Start();
  } else {
    core::RollForwardPlan plan = PlanRollForward();
    for (uint32_t i = 0; i < shard_count_; ++i)
      slots_[i]->roll_forward = std::move(plan.per_shard[i]);
  }
  if (replication_fd_ >= 0 && !standby) StartAcceptor();
  if (web_backend_) {
    std::vector<Shard*> shards;
    for (auto& slot : slots_) shards.push_back(slot->shard.get());
    web_backend_->SetShards(std::move(shards));
  }
  go_ = true;
  cv_.notify_all();
  return absl::OkStatus();
}

core::RollForwardPlan Server::PlanRollForward() {
  std::vector<const core::StateMachine*> sms;
  for (auto& slot : slots_) sms.push_back(&slot->shard->state());
  core::RollForwardPlan plan = core::PlanRollForward(sms, core::SystemClock::Instance().WallNow());
  for (const auto& n : plan.notes) spdlog::error("recovery: {}", n);
  return plan;
}

void Server::StartAcceptor() {
  ReplicationAcceptor::Settings rs{options_.password, cluster_id_, shard_count_};
  acceptor_ = std::make_unique<ReplicationAcceptor>(
      replication_fd_, std::move(rs), [this] { return core::Epoch(epoch_.load()); },
      [this](ProvenStandby link) {
        const uint32_t shard = link.handshake->shard();
        auto held = std::make_shared<ProvenStandby>(std::move(link));
        Slot* slot = slots_[shard].get();
        slot->shard->runtime().PostFromOtherThread(
            [slot, held] { slot->primary->Attach(std::move(*held)); });
      });
  acceptor_->Start();
}

// Each shard lives entirely on its own thread: its io_uring must be used by
// the thread that created it.
void Server::ShardThread(uint32_t id) {
  Slot& slot = *slots_[id];
  if (shard_count_ > 1 && !cores_.empty()) {
    // Shard i on the i-th allowed core (round robin when there are more
    // shards than cores).
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(cores_[id % cores_.size()], &cpus);
    pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
  }
  try {
    slot.shard = std::make_unique<Shard>(options_, core::SystemClock::Instance());
    // The replication threads hand links to this shard from the start.
    slot.shard->runtime().EnableForeignPosts();
    auto storage = OpenShardStorage(*slot.shard, options_, core::SystemClock::Instance(), id);
    if (!storage.ok()) {
      // Recovery names the file; the directory says which shard's.
      slot.error =
          absl::Status(storage.status().code(), ShardLogDir(options_.data_dir, id) + ": " +
                                                    std::string(storage.status().message()));
    } else {
      slot.storage = std::move(*storage);
      if (slot.storage.checkpointer) slot.storage.checkpointer->set_hold(&hold_checkpoints_);
      Report(id);
    }
  } catch (const std::exception& e) {
    slot.error = absl::InternalError(e.what());
  }
  {
    std::unique_lock<std::mutex> l(mu_);
    ++built_;
    cv_.notify_all();
    cv_.wait(l, [&] { return go_ || abort_; });
    if (abort_ || !slot.error.ok()) return;
  }
  std::vector<Shard*> peers;
  for (auto& s : slots_) peers.push_back(s->shard.get());
  slot.shard->JoinGroup(id, std::move(peers), mailbox_.get(), &group_);
  StartReplication(id);
  slot.shard->set_promote_handler([this, id](std::function<void(core::OpStatus)> done) {
    return Promote(id, std::move(done));
  });
  slot.shard->RollForward(slot.roll_forward);
  slot.shard->PublishStats();
  {
    // No shard serves (or is woken by another) before every shard joined
    // the group and made its roll-forward durable.
    std::unique_lock<std::mutex> l(mu_);
    ++joined_;
    cv_.notify_all();
    cv_.wait(l, [&] { return joined_ == shard_count_ || abort_; });
    if (abort_) return;
  }
  // Every shard accepts on the one socket; each new socket goes to the shards
  // in turn (Shard::OnAccept).
  slot.shard->AddListener(listen_fd_, Shard::Listener::kShared);
  if (id == 0) {
    slot.shard->WatchStopFd(signal_fd_);
    slot.shard->EnableCron(options_.cron);
  }
  slot.shard->Run();
  slot.journal_failed = slot.shard->journal_failed();
  // One shard stopping (signal or log failure) stops them all.
  group_.stop = true;
  for (auto& s : slots_) s->shard->WakeFromOtherThread();
}

void Server::ReleaseShards() {
  // The shards (and their rings) on this thread, in order.
  for (auto& slot : slots_) {
    slot->primary.reset();
    slot->standby.reset();
    slot->storage.checkpointer.reset();
    slot->storage.gate.reset();
    slot->storage.wal.reset();
    slot->storage.storage.reset();
    slot->shard.reset();
  }
}

void Server::StartReplication(uint32_t id) {
  Slot& slot = *slots_[id];
  if (!options_.replication_binding.empty() && options_.replica_of.empty()) {
    // Each run of a primary is logged as this shard's first record of the
    // run: its epoch and a random id. A standby may hold records this
    // primary appended and then lost (sent before they were synced here, at
    // a crash): the new run writes other records at those LSNs, and only
    // the run tells them apart, so the standby is told it diverged instead
    // of going on past them. The number stays: numbers order promotions,
    // and a restart that took a new one could outrank the promotion of its
    // own standby (docs/replication.md "Epochs").
    const core::Epoch epoch(epoch_.load());
    wal::Wal* wal = slot.storage.wal.get();
    wal->SetEpoch(epoch);
    const bool logged = slot.shard->partition().Commit(core::Mutation::NewEpoch(
        core::SystemClock::Instance().WallNow(),
        core::EpochRecord{epoch.value(), wal->appended_lsn().next().value(),
                          replication_address_, run_id_}));
    WERK_CHECK(logged);
    AttachPrimary(id, /*alone=*/false);
  } else if (!options_.replica_of.empty()) {
    slot.shard->set_role(core::Role::kStandby, options_.replica_of);
    slot.standby = std::make_unique<ReplicationStandby>(
        id, &slot.shard->runtime(), slot.storage.wal.get(), &slot.shard->partition(),
        connector_.get(), [this](const absl::Status& why) { StopFatally(why); },
        [this](uint32_t shard, core::Lsn fork, std::optional<core::Lsn> alone_since) {
          OnDiverged(shard, fork, alone_since);
        },
        min_primary_epoch_);
    slot.standby->set_bootstrap(StandbyBootstrap(id));
    slot.shard->runtime().AddParticipant(slot.standby.get());
    ReplicationStandby* standby = slot.standby.get();
    wal::Wal* wal = slot.storage.wal.get();
    slot.shard->set_replication_reporter([standby, wal, this](ReplicationSummary* r) {
      const StandbyLinkStats st = standby->stats();
      r->standby = true;
      r->epoch = wal->epoch().value();
      r->peer = options_.replica_of;
      r->linked = st.linked;
      r->acked_lsn = st.acked_lsn;
      r->lag = st.primary_durable_lsn > st.applied_lsn ? st.primary_durable_lsn - st.applied_lsn
                                                       : 0;
      r->sessions = st.sessions;
    });
    slot.standby->Begin();
  }
}

void Server::AttachPrimary(uint32_t id, bool alone) {
  Slot& slot = *slots_[id];
  wal::Wal* wal = slot.storage.wal.get();
  slot.primary = std::make_unique<ReplicationPrimary>(
      slot.shard.get(), wal, slot.storage.gate.get(),
      StandbyPolicyOptions{options_.standby_policy, options_.standby_timeout_ms}, alone);
  slot.primary->set_depose([this](core::Epoch by, std::string holder) {
    return Depose(by, std::move(holder));
  });
  slot.shard->runtime().AddParticipant(slot.primary.get());
  ReplicationPrimary* primary = slot.primary.get();
  slot.shard->set_replication_reporter([primary, wal](ReplicationSummary* r) {
    const PrimaryLinkStats st = primary->stats();
    r->standby = false;
    r->epoch = wal->epoch().value();
    r->peer = st.standby;
    r->linked = st.attached;
    r->acked_lsn = st.acked_lsn;
    r->lag = wal->appended_lsn().value() > st.acked_lsn
                 ? wal->appended_lsn().value() - st.acked_lsn
                 : 0;
    r->sessions = st.sessions;
    r->policy = std::string(wal::StandbyPolicyName(st.policy));
    r->state = st.state == wal::StandbyWatch::State::kAlone      ? "alone"
               : st.state == wal::StandbyWatch::State::kRefusing ? "refusing"
                                                                  : "sync";
    r->waiting_ms = st.waiting_ms;
  });
}

void Server::StopFatally(const absl::Status& why) {
  {
    std::lock_guard<std::mutex> l(fatal_mu_);
    if (fatal_.empty()) fatal_ = std::string(why.message());
  }
  group_.stop = true;
  for (auto& s : slots_)
    if (s->shard) s->shard->WakeFromOtherThread();
}

absl::Status Server::AdoptPrimaryShape() {
  auto manifest = ReadManifest(options_.data_dir);
  if (!manifest.ok()) return manifest.status();
  if (manifest->has_value()) return absl::OkStatus();
  if (!ListShardDirs(options_.data_dir).empty())
    return absl::FailedPreconditionError(
        options_.data_dir + " holds shard logs but no MANIFEST: a standby starts from an empty "
        "data directory or from one it made itself");
  ConnectSettings cs{options_.replica_of, options_.password, "", 1};
  // The primary may be starting too: it is given a minute.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  absl::StatusOr<PrimaryShape> shape;
  for (;;) {
    shape = ProbePrimary(cs);
    if (shape.ok() || absl::IsUnauthenticated(shape.status()) ||
        std::chrono::steady_clock::now() > give_up)
      break;
    spdlog::warn("replication: cannot reach the primary {} yet: {}", options_.replica_of,
                 std::string(shape.status().message()));
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!shape.ok())
    return absl::Status(shape.status().code(),
                        "a new standby must reach its primary " + options_.replica_of +
                            " to learn its cluster: " + std::string(shape.status().message()));
  if (options_.shards && options_.shards != shape->shard_count)
    return absl::FailedPreconditionError(
        "the primary runs " + std::to_string(shape->shard_count) +
        " shards and --shards asks for " + std::to_string(options_.shards) +
        ": a standby runs its primary's shard count");
  std::vector<std::string> notes;
  auto made = CheckDataDir(options_.data_dir, shape->shard_count, &notes, shape->cluster_id);
  if (!made.ok()) return made.status();
  spdlog::info("replication: a new standby of cluster {} ({} shards), from the primary {}",
               shape->cluster_id, shape->shard_count, options_.replica_of);
  return absl::OkStatus();
}

void Server::Report(uint32_t id) {
  const Slot& slot = *slots_[id];
  const auto& r = slot.storage.recovery;
  for (const auto& note : r.notes) spdlog::warn("recovery (shard {}): {}", id, note);
  for (const auto& what : slot.storage.skipped_records)
    spdlog::critical("shard {}: started WITHOUT the record at {} (--skip-record)", id, what);
  const auto& sm = slot.shard->state();
  spdlog::info(
      "recovered {} in {:.1f} ms: checkpoint at LSN {} ({} items), {} records replayed, next LSN "
      "{}; {} jobs ({} queued, {} scheduled, {} retries, {} dead, {} reserved)",
      ShardLogDir(options_.data_dir, id), slot.storage.recovery_ms, r.checkpoint_lsn.value(),
      r.checkpoint_items, r.records_replayed, r.last_lsn.next().value(), sm.job_count(),
      sm.queued_total(),
      sm.scheduled_size(), sm.retries_size(), sm.dead_size(), sm.reserved_size());
  if (id == 0 && options_.unsafe_no_fsync) {
    spdlog::warn("--unsafe-no-fsync: the log is NOT synced; a power loss can lose acknowledged "
                 "jobs. Development and benchmarking only.");
  }
}

int Server::Run() {
  spdlog::info("werk listening on {} (port {}), pid {}, {} shard{}", options_.binding, port_,
               getpid(), shard_count_, shard_count_ == 1 ? "" : "s");
  for (auto& slot : slots_)
    if (slot->thread.joinable()) slot->thread.join();
  // The web server reads the shards: it stops before they are released.
  if (web_) web_->Stop();
  // A promotion under way sees the shards stopped and gives up.
  if (promote_thread_.joinable()) promote_thread_.join();
  if (notifier_) notifier_->Stop();
  if (acceptor_) acceptor_->Stop();
  if (connector_) connector_->Stop();
  std::string fatal;
  {
    std::lock_guard<std::mutex> l(fatal_mu_);
    fatal = fatal_;
  }
  if (!fatal.empty()) {
    ReleaseShards();
    spdlog::critical("werk stopped: {}", fatal);
    return 1;
  }
  if (restart_.load() && group_.signalled.load()) {
    // The operator's stop wins over a rejoin's restart: the pending cut
    // (the REJOIN file) runs at the next start.
    restart_ = false;
    spdlog::warn("werk stopped by a signal; the restart it was making is left to the next start");
  }
  if (restart_.load()) {
    ReleaseShards();
    spdlog::warn("werk stopped, to start again");
    return 0;
  }
  for (auto& slot : slots_) {
    if (slot->journal_failed) {
      // Not the log: what was held for the standby was given up at the stop
      // (the standby silent, or this server deposed).
      if (slot->storage.gate && slot->storage.gate->abandoned() &&
          !(slot->storage.wal && slot->storage.wal->failed())) {
        spdlog::critical("werk stopped with replies it never sent: {}",
                         slot->storage.gate->abandon_reason());
        return 1;
      }
      spdlog::critical("werk stopped because a write-ahead log failed: {}",
                       slot->storage.wal ? slot->storage.wal->failure() : std::string("unknown"));
      return 1;
    }
  }
  ReleaseShards();
  spdlog::info("werk stopped");
  return 0;
}

}  // namespace werk::net
