#pragma once
// The job model.
//
// JobSpec is a job as a client pushed it, after validation: the fields the
// server needs, plus `args` and `custom` kept as the client's exact JSON bytes
// (never re-serialised). Job is the in-memory form owned by the state machine:
// one allocation holding the header and every immutable string, plus side
// objects that exist only while needed (the failure record after a FAIL, the
// reservation while a worker holds the job).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/intrusive_list.h"
#include "core/timer_wheel.h"
#include "core/types.h"

namespace werk::core {

// Faktory's `failure` object (reference §3.6). Timestamps are kept as the
// strings Faktory would emit, since clients may also push a job that already
// carries a failure.
struct Failure {
  int64_t retry_count = 0;
  int64_t remaining = 0;
  std::string failed_at;
  std::string next_at;
  std::string message;
  std::string errtype;
  std::vector<std::string> backtrace;
  bool operator==(const Failure&) const = default;
};

struct JobSpec {
  std::string jid;
  std::string jobtype;
  std::string queue;        // never empty once validated ("default")
  std::string args_json;    // a JSON array, the client's bytes
  std::string custom_json;  // a JSON object, or empty when absent
  std::string created_at;   // as given, or filled in by the server
  std::string at;           // as given; empty when absent
  UnixNanos at_ns = 0;      // parsed `at`; 0 when absent
  int64_t retry = 25;
  int64_t reserve_for = 0;
  int64_t backtrace = 0;
  std::optional<Failure> failure;
  bool operator==(const JobSpec&) const = default;
};

// A job's fields as views (into a record, a checkpoint item or a JobSpec):
// what Job::Create copies into its single allocation.
struct JobView {
  std::string_view jid, jobtype, queue, args_json, custom_json, created_at, at;
  int64_t retry = 25;
  int64_t reserve_for = 0;
  int64_t backtrace = 0;
  const Failure* failure = nullptr;
};

enum class JobState : uint8_t {
  kQueued = 1,
  kScheduled = 2,
  kRetry = 3,
  kDead = 4,
  kReserved = 5,
};

struct Reservation {
  std::string wid;
  UnixNanos reserved_at = 0;
  UnixNanos expires_at = 0;
};

struct QueueTag {};
class Queue;

class Job final : public ListHook<QueueTag>, public TimerHook {
 public:
  struct Deleter {
    void operator()(Job* j) const { Job::Destroy(j); }
  };
  using Ptr = std::unique_ptr<Job, Deleter>;

  static Ptr Create(const JobSpec& spec, uint64_t seq);
  static Ptr Create(const JobView& view, uint64_t seq);

  std::string_view jid() const { return Str(0); }
  std::string_view jobtype() const { return Str(1); }
  std::string_view queue_name() const { return Str(2); }
  std::string_view args_json() const { return Str(3); }
  std::string_view custom_json() const { return Str(4); }
  std::string_view created_at() const { return Str(5); }
  std::string_view at() const { return Str(6); }

  int64_t retry() const { return retry_; }
  int64_t reserve_for() const { return reserve_for_; }
  int64_t backtrace() const { return backtrace_; }
  uint64_t seq() const { return seq_; }

  JobState state = JobState::kQueued;
  // The snapshot session that emitted this job, or the one it was pushed
  // during (core/snapshot_session.h). Bookkeeping of a session, not state:
  // a const walk marks it. Sits in the padding after `state`.
  mutable uint32_t snap_gen = 0;
  // Sort key within the scheduled/retry/dead sets: due time, or purge time.
  // While queued, the job's queue position instead (StateMachine::Enqueue):
  // only the sets read it as a time, and a job is in no set while queued.
  UnixNanos set_key = 0;
  UnixNanos enqueued_at = 0;  // 0 = never enqueued
  Queue* queue = nullptr;     // while state == kQueued
  std::unique_ptr<Failure> failure;
  std::unique_ptr<Reservation> reservation;  // while state == kReserved

  // Bytes of the allocation, for memory accounting.
  size_t footprint_bytes() const;
  JobSpec ToSpec() const;

 private:
  static constexpr int kStrings = 7;
  Job() = default;
  ~Job() = default;
  static void Destroy(Job* j);
  std::string_view Str(int i) const {
    const char* base = reinterpret_cast<const char*>(this + 1);
    return {base + offsets_[i], size_t(offsets_[i + 1] - offsets_[i])};
  }

  uint32_t offsets_[kStrings + 1] = {};
  int64_t retry_ = 0;
  // Stored in 32 bits (clamped): reserve_for is validated to at most a day,
  // backtrace is a line count.
  int32_t reserve_for_ = 0;
  int32_t backtrace_ = 0;
  uint64_t seq_ = 0;
};

// snap_gen lives in padding: a job costs what it did before sliced snapshots.
static_assert(sizeof(Job) == 144, "Job grew: snap_gen must stay in the padding after state");

// Reservation length at FETCH: 0 → default, clamped to [min_seconds, max]
// (min_seconds is Faktory's 60 except in tests, ServerOptions::reserve_for_min_s).
int64_t EffectiveReserveSeconds(int64_t reserve_for, int64_t min_seconds);

}  // namespace werk::core
