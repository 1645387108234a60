#pragma once
// What fires when (invariant I5, docs/cron.md "Exactly once, missed ticks
// and failover"): the entries of a table, the latest tick fired of each, and
// the time. Pure logic: the driver (cron/driver.h) turns its decisions into
// pushes and tells it how they ended; tests drive it with any clock.
//
// Each entry has a next tick. When it is due the entry fires — but at most
// one tick, the latest one due, never a burst:
//   - late by at most the entry's grace: the latest due tick fires (a
//     restart or a failover across a tick costs lateness, not the tick);
//   - later than that: catch_up "once" fires it anyway, late; "skip"
//     fires nothing and goes on with the first tick after now.
// An entry has at most one tick in flight; its next tick is computed from
// the tick that fired.
//
// Thread affinity: one thread (the cron shard's).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/container/btree_set.h>
#include <absl/container/flat_hash_map.h>

#include "cron/entry.h"

namespace werk::cron {

// One entry's state, as INFO shows it.
struct EntryState {
  std::optional<int64_t> next;      // the tick it waits for (unix seconds)
  std::optional<int64_t> last;      // the latest tick fired (from the log or here)
  std::string last_jid;             // the jid of `last`, when it fired here
  int64_t last_late_ms = 0;         // how late `last` was pushed, when here
  bool in_flight = false;           // a tick's push is under way
  uint64_t fired = 0;               // ticks fired here since start
  uint64_t missed = 0;              // ticks that did not fire (late, or skipped)
  int64_t retry_at_ms = 0;          // after a failed push: not before then
  // Ticks at or before this (unix seconds) are not the entry's to fire: it
  // was not in the table then, its schedule changed since, or they were
  // already passed over (skipped). INT64_MIN: from its last tick.
  int64_t since = INT64_MIN;
  int64_t due_ms = -1;              // its key in the queue of waiting entries (-1: none)
};

class Scheduler {
 public:
  struct Fire {
    const Entry* entry;  // valid until the table is replaced
    uint64_t entry_id;
    std::string label;
    int64_t tick;
    std::string jid;
    int64_t late_ms;  // now - tick
  };

  // A start (process start, promotion, a write refusal lifted): `table`'s
  // entries continue from `fired` (entry id -> latest tick fired, from the
  // shards' logs); an entry with none starts at its first tick after it was
  // loaded (`loaded_ms`, by id; now if absent) — so a standby promoted after
  // a tick of an entry the primary never fired treats that tick as missed,
  // like any other. Ticks in flight stay in flight.
  void Start(std::shared_ptr<const Table> table,
             const absl::flat_hash_map<uint64_t, int64_t>& fired, int64_t now_ms,
             const absl::flat_hash_map<uint64_t, int64_t>& loaded_ms = {});
  // A reload: entries that stay keep their state; new ones start at their
  // first tick after now (ticks before an entry was in the table were never
  // scheduled, so they are not missed). Unchanged ids keep in-flight ticks.
  void Replace(std::shared_ptr<const Table> table, int64_t now_ms);
  bool started() const { return table_ != nullptr; }

  // A tick that did not fire: it (and `count` - 1 before it) passed.
  struct Miss {
    const Entry* entry;
    int64_t latest;  // the latest tick missed
    uint64_t count;  // how many (at least, when `at_least`)
    bool at_least;   // the count stopped at a bound
  };
  // Counting missed ticks walks the schedule: at most this many steps per
  // entry, and per Due call in all (after a long outage with many entries
  // the counts are lower bounds rather than a stall of the loop).
  static constexpr uint64_t kMissCountMax = 1'000;
  static constexpr uint64_t kMissCountBudget = 20'000;

  // The ticks to push now, each entry's in flight from here on; the ticks
  // passed over go to `missed` (for the log), if given.
  std::vector<Fire> Due(int64_t now_ms, std::vector<Miss>* missed = nullptr);
  // The push of `entry`'s `tick` is durable (or the owner had it already).
  void Fired(uint64_t entry, int64_t tick, std::string jid, int64_t late_ms);
  // It failed (the log refused it): tried again not before `retry_at_ms`.
  void Failed(uint64_t entry, int64_t tick, int64_t retry_at_ms);

  // When Due next has something (unix ms), if ever.
  std::optional<int64_t> NextDueMs() const;

  const Table* table() const { return table_.get(); }
  const EntryState* state(uint64_t entry) const;
  // How many ticks were missed since start, over every entry.
  uint64_t missed_total() const { return missed_total_; }

 private:
  // Queues `st` (of entry `id`) to wait for its next tick, if it has one
  // and nothing in flight; takes it out of the queue first.
  void Requeue(uint64_t id, EntryState& st);
  // How many ticks of `e` lie in [from, to), spending at most `*budget`
  // steps (and kMissCountMax); `*at_least` when it stopped early.
  static uint64_t CountTicks(const Entry& e, int64_t from, int64_t to, uint64_t* budget,
                             bool* at_least);

  std::shared_ptr<const Table> table_;
  absl::flat_hash_map<uint64_t, const Entry*> entries_;  // of table_, by id
  absl::flat_hash_map<uint64_t, EntryState> states_;
  // Entries waiting for a tick: (due ms, id).
  absl::btree_set<std::pair<int64_t, uint64_t>> waiting_;
  uint64_t missed_total_ = 0;
};

}  // namespace werk::cron
