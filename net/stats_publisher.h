#pragma once
// A shard's stats (its part of INFO: net/info.h) published for other threads
// to read without a mailbox round trip (core/published.h): INFO on any shard
// reads every shard's snapshot; /metrics and the Web UI will.
//
// A snapshot shows durable state only, and exactly the state at the durable
// point: after each iteration that changed anything the shard builds one,
// tagged with the LSN its journal had appended (the end of that iteration's
// group commit), and publishes it once the journal is durable up to there —
// in the OnDurable turn, which runs before the shard's results for other
// shards go home. So a client that got +OK for a write sees it in an INFO it
// sends afterwards, on any shard. (One iteration's appends split over more
// than one write of the log would be seen once the last of them is durable.)
// Figures that no record changes (commands, connections, the loop's and the
// log's own counters) are refreshed at least every kRefreshMillis.
//
// Snapshots are recycled: they live in a ring of kPendingMax slots, built in
// place, and a publication swaps the one it replaces into the slot, to be
// built into again; so an iteration's snapshot costs no allocation and no
// move of a ShardSummary.
//
// While nothing new becomes durable for long (a primary waiting for its
// standby, or refusing writes without one), at most kPendingMax snapshots
// wait (the newest is rebuilt in place), and the published one keeps its
// durable state but has its replication figures — which no record changes
// and which say why nothing moves — refreshed every kRefreshMillis.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/participant.h"
#include "core/published.h"
#include "core/shard_runtime.h"
#include "net/info.h"

namespace werk::net {

class StatsPublisher final : public core::Participant {
 public:
  static constexpr int64_t kRefreshMillis = 100;
  static constexpr size_t kPendingMax = 16;

  // `build` fills a snapshot in (reusing what it holds); `activity` moves
  // whenever a figure that no record changes does (a command served, a
  // connection opened or closed).
  StatsPublisher(core::ShardRuntime* runtime, std::function<void(ShardSummary*)> build,
                 std::function<uint64_t()> activity)
      : runtime_(runtime), build_(std::move(build)), activity_(std::move(activity)) {}

  void OnDurable(core::Lsn durable) override;
  // Builds and publishes at once, whatever is durable (before the loop
  // runs: recovery made everything in the state machine durable).
  void PublishNow();
  // Any thread: a copy of the latest snapshot (none before the first).
  std::optional<ShardSummary> Read() const { return published_.Read(); }

 private:
  struct Pending {
    core::Lsn lsn;
    ShardSummary summary;
  };
  // The i-th oldest snapshot waiting for durability.
  Pending& pending(size_t i) { return ring_[(head_ + i) % kPendingMax]; }
  // Builds a snapshot tagged `lsn`: into a new slot, or, with every slot
  // waiting, into the newest again.
  void BuildPending(core::Lsn lsn);
  void PopPending() {
    head_ = (head_ + 1) % kPendingMax;
    --pending_count_;
  }
  // Nothing new is durable: the published snapshot with the newest
  // replication figures, at most every kRefreshMillis.
  void RefreshStale(int64_t mono_ms);

  core::ShardRuntime* runtime_;
  std::function<void(ShardSummary*)> build_;
  std::function<uint64_t()> activity_;
  core::Published<ShardSummary> published_;
  std::array<Pending, kPendingMax> ring_;  // built, waiting for durability; LSN order
  size_t head_ = 0;
  size_t pending_count_ = 0;
  core::Lsn built_lsn_{0};
  uint64_t built_activity_ = 0;
  int64_t built_mono_ms_ = 0;
  int64_t published_mono_ms_ = 0;
};

}  // namespace werk::net
