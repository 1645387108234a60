#pragma once
// What the operator's tools ask of the shards beyond Faktory's commands
// (WERK JOB, WERK WORKERS, WERK WORKER; the Web UI's job and worker
// pages): the typed results of JobService::FindJob, ListWorkers and
// SetWorkerState. Paging through sets and queues is core/job_listing.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/mutation.h"

namespace werk::core {

// Where a job is, as its owner shard has it.
struct FoundJob {
  // "queue", "retries", "scheduled", "dead" or "working".
  std::string where;
  std::string queue;         // the job's queue
  std::string json;          // as FETCH renders it
  UnixNanos set_time = 0;    // retries/scheduled: when it runs; dead: when it is purged
  std::string wid;           // working: the process holding it
  UnixNanos reserved_at = 0;  // working
  UnixNanos expires_at = 0;   // working
  std::optional<Failure> failure;  // its last failure, if it failed
};

// A job a worker process holds (reserved, not ACKed or FAILed yet).
struct ReservedJob {
  std::string jid;
  std::string queue;
  std::string jobtype;
  UnixNanos reserved_at = 0;
  UnixNanos expires_at = 0;
};

// A worker process (a HELLO with a wid), as the shard owning its wid knows
// it, with the jobs reserved for its wid on every shard.
struct WorkerInfo {
  std::string wid;
  std::string hostname;
  int64_t pid = 0;
  std::vector<std::string> labels;
  UnixNanos started_at = 0;
  // Milliseconds since its last BEAT (or its HELLO).
  int64_t beat_age_ms = 0;
  int64_t rss_kb = 0;
  WorkerState state = WorkerState::kRunning;
  size_t connections = 0;
  size_t reserved_count = 0;  // all of them
  std::vector<ReservedJob> reserved;  // the first kWorkerReservedListed, oldest first
};

// Reservations listed per process: a bound on the reply, not on the count.
inline constexpr size_t kWorkerReservedListed = 1000;

const char* WorkerStateName(WorkerState s);

}  // namespace werk::core
