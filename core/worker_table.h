#pragma once
// Worker processes (a HELLO with a `wid`), as the shard owning the wid
// (hash(wid) % shards) keeps them (reference §4.7): the details the process
// gave, its heartbeat deadline, and how many connections each shard holds
// for it. Several connections of one process share an entry. The entry is
// forgotten when its last connection closes or when no BEAT came in time.
// The quiet/terminate state is not kept here but in the state machine,
// where it is durable (Mutation::SetWorkerState).
//
// Thread affinity: the owner's shard thread.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/node_hash_map.h>

#include "core/limits.h"
#include "core/string_hash.h"
#include "core/timer_wheel.h"
#include "core/types.h"

namespace werk::core {

// What a HELLO with a wid says of its process.
struct WorkerHello {
  std::string wid;
  std::string hostname;
  int64_t pid = 0;
  std::vector<std::string> labels;
  int64_t version = 0;
};

// A BEAT: the process's own view of its state ("", "quiet", "terminate").
struct WorkerBeat {
  std::string wid;
  std::string current_state;
  int64_t rss_kb = 0;
};

struct WorkerProcess : TimerHook {  // armed at the heartbeat deadline
  std::string wid;
  std::string hostname;
  int64_t pid = 0;
  std::vector<std::string> labels;
  int64_t version = 0;
  UnixNanos started_at = 0;
  int64_t last_beat_mono_ms = 0;
  int64_t rss_kb = 0;
  std::array<uint32_t, kShardsMax> connections{};  // per shard
  size_t total_connections() const {
    size_t n = 0;
    for (uint32_t c : connections) n += c;
    return n;
  }
};

class WorkerTable {
 public:
  WorkerTable(int64_t heartbeat_timeout_ms, int64_t now_ms)
      : timeout_ms_(heartbeat_timeout_ms), deadlines_(now_ms) {}
  WorkerTable(const WorkerTable&) = delete;
  WorkerTable& operator=(const WorkerTable&) = delete;

  WorkerProcess* Find(std::string_view wid) const;
  // A connection of `hello.wid` opened on shard `from`. A process with no
  // connection yet (new, or known only from the log) takes `hello`'s
  // details and gets its heartbeat deadline.
  WorkerProcess& Attach(const WorkerHello& hello, uint32_t from, UnixNanos now, int64_t mono_ms);
  // One closed on `from`. Returns the process when it has no connection
  // left (the caller forgets it), nullptr otherwise or if unknown.
  WorkerProcess* Detach(std::string_view wid, uint32_t from);
  // A BEAT: pushes the deadline back. nullptr if the process is unknown.
  WorkerProcess* Beat(const WorkerBeat& beat, int64_t mono_ms);
  // A process known only from the log (its quiet/terminate state): it is
  // forgotten unless it comes back before its deadline.
  void Adopt(std::string_view wid, UnixNanos now, int64_t mono_ms);
  void Erase(WorkerProcess* p);
  // Up to `max` processes whose deadline passed, now disarmed.
  size_t Expired(int64_t mono_ms, WorkerProcess** out, size_t max) {
    TimerHook* fired[64];
    const size_t n = deadlines_.Advance(mono_ms, fired, std::min<size_t>(max, 64));
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<WorkerProcess*>(fired[i]);
    return n;
  }
  std::optional<int64_t> NextDeadlineMs() const { return deadlines_.NextEventTick(); }

  size_t size() const { return by_wid_.size(); }
  // Moves whenever a process is added or removed.
  uint64_t version() const { return version_; }
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& [wid, p] : by_wid_) fn(*p);
  }

 private:
  WorkerProcess& GetOrCreate(std::string_view wid);
  void ArmDeadline(WorkerProcess& p, int64_t mono_ms);

  int64_t timeout_ms_;
  TimerWheel deadlines_;  // monotonic ms
  absl::node_hash_map<std::string, std::unique_ptr<WorkerProcess>, StringHash, StringEq> by_wid_;
  uint64_t version_ = 0;
};

}  // namespace werk::core
