// The operator's reads and actions over every shard (core/job_service.h):
// pages of sets and queues, a job by jid, worker processes and their
// quiet/terminate. Reads run on each shard as one bounded call, between its
// other work; nothing here waits on a log except SetWorkerState.

#include <algorithm>

#include <absl/container/flat_hash_map.h>

#include "core/job_json.h"
#include "core/job_service.h"

namespace werk::core {

const char* WorkerStateName(WorkerState s) {
  switch (s) {
    case WorkerState::kQuiet: return "quiet";
    case WorkerState::kTerminate: return "terminate";
    default: return "running";
  }
}

// --- Pages -----------------------------------------------------------------------------------

Pending<OpResult<JobPage>> JobService::ListJobs(ListRequest req) {
  using Page = OpResult<JobPage>;
  if (req.limit > kListLimitMax)
    return Page(InvalidRequest("limit is at most " + std::to_string(kListLimitMax)));
  if (req.target == ListTarget::kQueue && req.queue.empty())
    return Page(InvalidRequest("a queue listing needs the queue's name"));
  auto shared = std::make_shared<const ListRequest>(std::move(req));
  // A read logs nothing: no part waits for a log.
  auto parts = OnShards<ListPart>(
      AllShards(),
      [shared](Partition& p, uint32_t shard) { return ListShard(p.state(), shard, *shared); },
      [](const ListPart&) { return false; });
  return Map<Page>(std::move(parts), [shared](OpResult<std::vector<ListPart>> parts) -> Page {
    if (!parts.ok()) return parts.status();
    return MergeListParts(std::move(*parts), shared->limit);
  });
}

// --- One job ---------------------------------------------------------------------------------

namespace {

FoundJob Describe(const Job& j) {
  FoundJob f;
  f.queue = std::string(j.queue_name());
  AppendJobJson(f.json, j);
  if (j.failure) f.failure = *j.failure;
  switch (j.state) {
    case JobState::kQueued: f.where = "queue"; break;
    case JobState::kScheduled: f.where = "scheduled"; break;
    case JobState::kRetry: f.where = "retries"; break;
    case JobState::kDead: f.where = "dead"; break;
    case JobState::kReserved: f.where = "working"; break;
  }
  if (j.state != JobState::kQueued && j.state != JobState::kReserved) f.set_time = j.set_key;
  if (j.reservation) {
    f.wid = j.reservation->wid;
    f.reserved_at = j.reservation->reserved_at;
    f.expires_at = j.reservation->expires_at;
  }
  return f;
}

}  // namespace

Pending<OpResult<FoundJob>> JobService::FindJob(std::string jid) {
  using Found = OpResult<FoundJob>;
  return OnOwner<Found>(jid, [jid](Partition& p) -> Found {
    const Job* j = p.state().FindJob(jid);
    if (!j) return JobNotFound(jid);
    return Describe(*j);
  });
}

// --- Worker processes ------------------------------------------------------------------------

namespace {

// One shard's view: the processes it owns, and the jobs reserved here by
// wid (a process's jobs are on whichever shards own their jids).
struct WorkerPart {
  std::vector<WorkerInfo> owned;
  absl::flat_hash_map<std::string, std::vector<ReservedJob>> reserved;
  absl::flat_hash_map<std::string, size_t> reserved_count;
};

}  // namespace

Pending<OpResult<std::vector<WorkerInfo>>> JobService::ListWorkers() {
  using Workers = OpResult<std::vector<WorkerInfo>>;
  const std::vector<JobService*> peers = peers_;
  auto parts = OnShards<std::shared_ptr<WorkerPart>>(
      AllShards(),
      [peers](Partition& p, uint32_t shard) {
        auto part = std::make_shared<WorkerPart>();
        const JobService& s = *peers[shard];
        const int64_t mono = s.runtime_->mono_ms();
        s.workers_.ForEach([&](const WorkerProcess& w) {
          WorkerInfo info;
          info.wid = w.wid;
          info.hostname = w.hostname;
          info.pid = w.pid;
          info.labels = w.labels;
          info.started_at = w.started_at;
          info.beat_age_ms = std::max<int64_t>(0, mono - w.last_beat_mono_ms);
          info.rss_kb = w.rss_kb;
          info.state = p.state().worker_state(w.wid);
          info.connections = w.total_connections();
          part->owned.push_back(std::move(info));
        });
        const auto& list = p.state().reserved_jobs();
        for (const Job* j = list.Front(); j; j = list.Next(j)) {
          if (!j->reservation) continue;
          const std::string& wid = j->reservation->wid;
          if (++part->reserved_count[wid] > kWorkerReservedListed) continue;
          part->reserved[wid].push_back(ReservedJob{std::string(j->jid()),
                                                    std::string(j->queue_name()),
                                                    std::string(j->jobtype()),
                                                    j->reservation->reserved_at,
                                                    j->reservation->expires_at});
        }
        return part;
      },
      [](const std::shared_ptr<WorkerPart>&) { return false; });
  return Map<Workers>(std::move(parts), [](OpResult<std::vector<std::shared_ptr<WorkerPart>>> parts)
                                            -> Workers {
    if (!parts.ok()) return parts.status();
    std::vector<WorkerInfo> out;
    for (auto& part : *parts)
      for (auto& w : part->owned) out.push_back(std::move(w));
    std::sort(out.begin(), out.end(),
              [](const WorkerInfo& a, const WorkerInfo& b) { return a.wid < b.wid; });
    for (WorkerInfo& w : out) {
      for (auto& part : *parts) {
        if (auto it = part->reserved_count.find(w.wid); it != part->reserved_count.end())
          w.reserved_count += it->second;
        if (auto it = part->reserved.find(w.wid); it != part->reserved.end())
          for (auto& r : it->second) w.reserved.push_back(std::move(r));
      }
      std::sort(w.reserved.begin(), w.reserved.end(), [](const ReservedJob& a, const ReservedJob& b) {
        return a.reserved_at != b.reserved_at ? a.reserved_at < b.reserved_at : a.jid < b.jid;
      });
      if (w.reserved.size() > kWorkerReservedListed) w.reserved.resize(kWorkerReservedListed);
    }
    return out;
  });
}

Pending<OpResult<size_t>> JobService::SetWorkerState(std::string wid, WorkerState state) {
  using Moved = OpResult<size_t>;
  if (state == WorkerState::kRunning)
    return Moved(InvalidRequest("a worker's state moves only forward: quiet or terminate"));
  if (wid != "all") {
    auto one = [wid, state](JobService& s) -> Moved {
      WorkerProcess* p = s.workers_.Find(wid);
      if (!p) return UnknownWorker(wid);
      const WorkerState before = s.partition_->state().worker_state(wid);
      OpResult<WorkerState> moved = s.MoveWorkerState(p, state);
      if (!moved.ok()) return moved.status();
      return size_t(before < state ? 1 : 0);
    };
    const uint32_t owner = OwnerOf(wid);
    if (owner == id()) return Moved(one(*this));
    return OnShard<Moved>(owner, std::move(one));
  }
  const std::vector<JobService*> peers = peers_;
  auto parts = OnShards<Moved>(AllShards(), [peers, state](Partition&, uint32_t shard) -> Moved {
    JobService& s = *peers[shard];
    std::vector<WorkerProcess*> procs;
    s.workers_.ForEach([&](const WorkerProcess& w) { procs.push_back(s.workers_.Find(w.wid)); });
    size_t n = 0;
    for (WorkerProcess* p : procs) {
      const WorkerState before = s.partition_->state().worker_state(p->wid);
      OpResult<WorkerState> moved = s.MoveWorkerState(p, state);
      if (!moved.ok()) return moved.status();
      n += before < state ? 1 : 0;
    }
    return n;
  });
  return Map<Moved>(std::move(parts), [](OpResult<std::vector<Moved>> parts) -> Moved {
    if (!parts.ok()) return parts.status();
    size_t n = 0;
    for (Moved& m : *parts) {
      if (!m.ok()) return m.status();
      n += *m;
    }
    return n;
  });
}

}  // namespace werk::core
