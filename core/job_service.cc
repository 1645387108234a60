#include "core/job_service.h"

#include "core/ownership.h"

namespace werk::core {

JobService::JobService(ShardRuntime* runtime, Partition* partition, int64_t heartbeat_timeout_ms)
    : runtime_(runtime),
      partition_(partition),
      fetcher_(runtime, partition),
      workers_(heartbeat_timeout_ms, runtime->mono_ms()) {}

void JobService::JoinGroup(std::vector<JobService*> peers) {
  peers_ = std::move(peers);
  std::vector<Fetcher*> fetchers;
  for (JobService* p : peers_) fetchers.push_back(&p->fetcher_);
  fetcher_.JoinGroup(std::move(fetchers));
}

uint32_t JobService::OwnerOf(std::string_view jid) const {
  if (peers_.size() <= 1) return id();
  return ShardOf(jid, uint32_t(peers_.size()));
}

Pending<OpStatus> JobService::Push(JobSpec job) {
  if (OpStatus valid = ValidateJob(job, runtime_->now(), partition_->options().limits); !valid.ok())
    return valid;
  const uint32_t owner = OwnerOf(job.jid);
  if (owner == id()) return partition_->Push(std::move(job));
  return OnShard<OpStatus>(owner, [job = std::move(job)](JobService& s) mutable {
    return s.partition_->Push(std::move(job));
  });
}

Pending<OpStatus> JobService::Ack(std::string jid) {
  const uint32_t owner = OwnerOf(jid);
  if (owner == id()) return partition_->Ack(jid);
  return OnShard<OpStatus>(owner, [jid = std::move(jid)](JobService& s) { return s.partition_->Ack(jid); });
}

Pending<OpStatus> JobService::Fail(FailRequest fail) {
  if (fail.jid.empty()) return InvalidRequest("missing JID");
  CleanseFailure(&fail);
  const uint32_t owner = OwnerOf(fail.jid);
  if (owner == id()) return partition_->Fail(std::move(fail));
  return OnShard<OpStatus>(owner, [fail = std::move(fail)](JobService& s) mutable {
    return s.partition_->Fail(std::move(fail));
  });
}

}  // namespace werk::core
