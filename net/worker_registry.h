#pragma once
// The connections of worker processes (a HELLO with a `wid`) held by this
// shard, grouped by wid: several connections of one process share an entry.
// The process itself — its details, heartbeat deadline and durable
// quiet/terminate state — is kept by the shard owning the wid
// (core/worker_table.h, core::JobService); this shard keeps the state as
// the owner last told it, for the wids it does not own.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/node_hash_map.h>

#include "core/mutation.h"
#include "core/string_hash.h"

namespace werk::net {

class Connection;

struct LocalWorker {
  std::string wid;
  std::vector<Connection*> connections;  // on this shard
  // The owner's quiet/terminate state as last heard (moves forward only
  // while this entry lives); unused on the owner, which reads its own.
  core::WorkerState state = core::WorkerState::kRunning;
};

class WorkerRegistry {
 public:
  LocalWorker* Find(std::string_view wid) {
    auto it = by_wid_.find(wid);
    return it == by_wid_.end() ? nullptr : it->second.get();
  }
  LocalWorker* GetOrCreate(std::string_view wid) {
    auto it = by_wid_.find(wid);
    if (it != by_wid_.end()) return it->second.get();
    auto p = std::make_unique<LocalWorker>();
    p->wid = std::string(wid);
    LocalWorker* raw = p.get();
    by_wid_.emplace(raw->wid, std::move(p));
    return raw;
  }
  void Erase(LocalWorker* p) {
    const std::string wid = p->wid;
    by_wid_.erase(wid);
  }

 private:
  absl::node_hash_map<std::string, std::unique_ptr<LocalWorker>, core::StringHash, core::StringEq>
      by_wid_;
};

}  // namespace werk::net
