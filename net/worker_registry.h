#pragma once
// Worker processes (HELLO with a `wid`), grouped by wid: several connections
// of one process share an entry (reference §4.7). The entry is forgotten when
// its last connection closes or when no BEAT arrived for 60 s; the latter
// also closes its connections. The quiet/terminate state is not kept here but
// in the state machine, where it is durable.
//
// With several shards a process's connections may sit on any of them. The
// shard that owns the wid (hash(wid) % shards) keeps the process entry: its
// details, heartbeat deadline and durable state, and how many connections
// each other shard holds. Every other shard with connections of the process
// keeps an entry of its own with just those connections and the state as the
// owner last told it (shard_workers.cc).

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <absl/container/node_hash_map.h>

#include "core/limits.h"
#include "core/mutation.h"
#include "core/string_hash.h"
#include "core/types.h"
#include "net/connection.h"

namespace werk::net {

struct WorkerProcess {
  std::string wid;
  std::string hostname;
  int64_t pid = 0;
  std::vector<std::string> labels;
  int64_t version = 0;
  core::UnixNanos started_at = 0;
  int64_t last_beat_mono_ms = 0;
  int64_t rss_kb = 0;
  std::vector<Connection*> connections;  // on this shard
  ConnTimer heartbeat;
  // On the owner: connections the process holds on each other shard.
  std::array<uint32_t, core::kShardsMax> remote_connections{};
  // Elsewhere: the owner's quiet/terminate state as last heard (moves forward
  // only while this entry lives).
  core::WorkerState state = core::WorkerState::kRunning;

  size_t total_connections() const {
    size_t n = connections.size();
    for (uint32_t r : remote_connections) n += r;
    return n;
  }
};

class WorkerRegistry {
 public:
  WorkerProcess* Find(std::string_view wid) {
    auto it = by_wid_.find(wid);
    return it == by_wid_.end() ? nullptr : it->second.get();
  }
  // The process entry for `wid`, created (and `*created` set) if absent.
  WorkerProcess* GetOrCreate(std::string_view wid, bool* created) {
    auto it = by_wid_.find(wid);
    *created = it == by_wid_.end();
    if (!*created) return it->second.get();
    auto p = std::make_unique<WorkerProcess>();
    p->wid = std::string(wid);
    p->heartbeat.kind = ConnTimer::Kind::kHeartbeat;
    p->heartbeat.worker = p.get();
    WorkerProcess* raw = p.get();
    by_wid_.emplace(raw->wid, std::move(p));
    ++version_;
    return raw;
  }
  void Erase(WorkerProcess* p) {
    by_wid_.erase(p->wid);
    ++version_;
  }
  size_t size() const { return by_wid_.size(); }
  // Moves whenever a process is added or removed.
  uint64_t version() const { return version_; }
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& [wid, p] : by_wid_) fn(*p);
  }

 private:
  absl::node_hash_map<std::string, std::unique_ptr<WorkerProcess>, core::StringHash,
                      core::StringEq>
      by_wid_;
  uint64_t version_ = 0;
};

}  // namespace werk::net
