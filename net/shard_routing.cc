// Work that crosses shards: joining the group, and the replies of commands
// that ran on the shard owning their job (core::JobService) or on several.

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "core/json_writer.h"
#include "core/ownership.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

void Shard::Notify(uint32_t target, std::function<void(Shard&)> fn) {
  runtime_.Post(target, [peer = peers_[target], fn = std::move(fn)] { fn(*peer); });
}

void Shard::JoinGroup(uint32_t id, std::vector<Shard*> peers, core::Mailbox* mailbox,
                      GroupShared* group) {
  id_ = id;
  peers_ = std::move(peers);
  group_ = group;
  std::vector<core::ShardRuntime*> runtimes;
  std::vector<core::JobService*> services;
  for (Shard* p : peers_) {
    runtimes.push_back(&p->runtime_);
    services.push_back(&p->service_);
  }
  runtime_.JoinGroup(id, std::move(runtimes), mailbox, &group->stop);
  service_.JoinGroup(std::move(services));
}

uint32_t Shard::OwnerOf(std::string_view key) const {
  if (peers_.size() <= 1) return id_;
  return core::ShardOf(key, uint32_t(peers_.size()));
}

void Shard::Answer(Connection* c, core::Pending<core::OpStatus> result) {
  if (result.ready()) return ReplyStatus(c, result.value());
  ++c->inflight_;  // the connection outlives the forwarded command
  ReplyQueue::Hole hole = c->staged_.OpenHole(c->command_, c->command_read_ns_);
  result.Then([this, c, hole](core::OpStatus status) { OnForwardReply(c, hole, status); });
}

void Shard::OnForwardReply(Connection* c, ReplyQueue::Hole hole, const core::OpStatus& status) {
  --c->inflight_;
  if (c->closing()) {  // its reply queue is gone
    MaybeFinishClose(c);
    return;
  }
  // The owner held the result until its own log made it durable, and it
  // depends on nothing logged here: it waits only for the replies before it.
  // (An owner whose log failed first answered LogFailed: core/job_service.h.)
  if (status.ok()) {
    c->staged_.Fill(hole, kOkReply, core::Lsn(0));
  } else {
    c->staged_.Fill(hole, StatusReply(status), core::Lsn(0));
  }
  AwaitRelease(c);
  ProcessInput(c);  // if it waited for a forwarded command to come back
}

}  // namespace werk::net
