// Before serving: the global operations (core/job_service.h) a crash left
// applied on some shards only are completed (core/global_ops.h).

#include <chrono>
#include <memory>

#include <spdlog/spdlog.h>

#include "core/check.h"
#include "net/resp.h"
#include "net/shard_calls.h"

namespace werk::net {

void Shard::CommitRollForward(const std::vector<core::Mutation>& ops) {
  for (const auto& m : ops) {
    const auto& g = std::get<core::GlobalOpRecord>(m.body);
    std::string what;
    for (const auto& step : g.steps) {
      auto inner = core::DecodeMutation(step);
      if (!what.empty()) what += ", ";
      what += inner ? std::string(core::MutationTypeName(inner->type)) : "?";
    }
    spdlog::warn("shard {}: completing global operation {} of shard {} ({}) that a crash left "
                 "applied on other shards only",
                 id_, g.id, g.origin, what);
    WERK_CHECK(partition_.Commit(m));
  }
}

void Shard::RollForward(const std::vector<core::Mutation>& ops) {
  CommitRollForward(ops);
  // Durable before anything is served: otherwise a second crash could find
  // this shard two operations behind (or, on a primary with a standby,
  // start the same epoch twice: net/server.cc StartReplication).
  // Locally durable, that is: this runs at start, before any standby is
  // attached, so the log itself is asked, not the gate in front of it.
  core::Journal& log = wal_ ? static_cast<core::Journal&>(*wal_) : *journal_;
  log.Commit();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!log.failed() && log.durable_lsn() < log.appended_lsn() &&
         std::chrono::steady_clock::now() < deadline) {
    reactor().Poll(10'000'000);
    log.Commit();
  }
}

}  // namespace werk::net
