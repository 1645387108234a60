#pragma once
// The job operations of one shard, as a service callable without a socket
// (design §3 "Ownership"): the Faktory protocol layer (net/), cron, HTTP
// actions and werkctl all go through it. An operation runs on the shard
// that owns its job — here, or on another shard through the mailbox — and
// its result is typed (core/op_status.h) and comes back as a
// core::Pending (ready at once when it ran here). FETCH, with its blocking
// wait, is core::Fetcher (fetcher()).
//
// Every operation goes through the owner's core::Partition, which refuses
// writes in one place (CheckWritable: a standby, a failed log).
//
// Thread affinity: the shard's thread; peers are reached only through the
// runtime's mailbox.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fetcher.h"
#include "core/job_validation.h"
#include "core/op_status.h"
#include "core/partition.h"
#include "core/pending.h"
#include "core/shard_runtime.h"

namespace werk::core {

class JobService {
 public:
  JobService(ShardRuntime* runtime, Partition* partition);
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Joins the services of a shard group (`peers` in shard order, this one
  // included) before the loops run. Without it the shard owns every job.
  void JoinGroup(std::vector<JobService*> peers);
  uint32_t id() const { return runtime_->id(); }
  uint32_t shard_count() const { return uint32_t(peers_.size()); }
  // The shard owning a jid (core::ShardOf).
  uint32_t OwnerOf(std::string_view jid) const;

  Partition& partition() { return *partition_; }
  Fetcher& fetcher() { return fetcher_; }
  const Fetcher& fetcher() const { return fetcher_; }

  // PUSH: validates the job (ValidateJob) here, stores it on its owner.
  Pending<OpStatus> Push(JobSpec job);
  // ACK of a job (Faktory's rules: Partition::Ack).
  Pending<OpStatus> Ack(std::string jid);
  // FAIL of a reserved job; the failure is cleansed here (CleanseFailure).
  Pending<OpStatus> Fail(FailRequest fail);

  // Runs `op(Partition&) -> T` on the shard owning `key`: here, at once, or
  // there, the result held until what it logged is durable there. A result
  // whose owner's log failed first is AbandonedResult<T>().
  template <class T, class Op>
  Pending<T> OnOwner(std::string_view key, Op op) {
    const uint32_t owner = OwnerOf(key);
    if (owner == id()) return Pending<T>(op(*partition_));
    return OnShard<T>(owner, std::move(op));
  }

 private:
  // Runs `op` on shard `owner` (not this one).
  template <class T, class Op>
  Pending<T> OnShard(uint32_t owner, Op op);

  ShardRuntime* runtime_;
  Partition* partition_;
  Fetcher fetcher_;
  std::vector<JobService*> peers_{this};
};

template <class T, class Op>
Pending<T> JobService::OnShard(uint32_t owner, Op op) {
  Promise<T> promise;
  Pending<T> pending = promise.pending();
  runtime_->Call(
      owner, [peer = peers_[owner], op = std::move(op)]() mutable -> T { return op(*peer->partition_); },
      [promise = std::move(promise)](T value, bool abandoned) mutable {
        promise.Set(abandoned ? AbandonedResult<T>() : std::move(value));
      });
  return pending;
}

}  // namespace werk::core
