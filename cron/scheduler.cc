#include "cron/scheduler.h"

#include <algorithm>

namespace werk::cron {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Where an entry's next tick is looked for after: its last tick, or when
// its ticks began to count, whichever is later.
int64_t From(const EntryState& st) {
  return st.last ? std::max(*st.last, st.since) : st.since;
}

}  // namespace

void Scheduler::Requeue(uint64_t id, EntryState& st) {
  if (st.due_ms >= 0) waiting_.erase({st.due_ms, id});
  st.due_ms = -1;
  if (st.in_flight || !st.next) return;
  st.due_ms = std::max(*st.next * 1000, st.retry_at_ms);
  waiting_.insert({st.due_ms, id});
}

void Scheduler::Start(std::shared_ptr<const Table> table,
                      const absl::flat_hash_map<uint64_t, int64_t>& fired, int64_t now_ms,
                      const absl::flat_hash_map<uint64_t, int64_t>& loaded_ms) {
  const int64_t now_s = FloorDiv(now_ms, 1000);
  absl::flat_hash_map<uint64_t, EntryState> states;
  entries_.clear();
  waiting_.clear();
  for (const Entry& e : table->entries) {
    entries_[e.id] = &e;
    EntryState st;
    if (auto it = states_.find(e.id); it != states_.end()) st = std::move(it->second);
    st.due_ms = -1;
    if (auto it = fired.find(e.id); it != fired.end() && (!st.last || *st.last < it->second))
      st.last = it->second;
    // One that never fired: its ticks count from when it was loaded (one
    // that did continues from its last tick).
    if (!st.last && st.since == INT64_MIN) {
      auto it = loaded_ms.find(e.id);
      st.since = it != loaded_ms.end() ? std::min(now_s, FloorDiv(it->second, 1000)) : now_s;
    }
    if (!st.in_flight) st.next = e.schedule.NextAfter(From(st));
    states.emplace(e.id, std::move(st));
  }
  states_ = std::move(states);
  table_ = std::move(table);
  for (auto& [id, st] : states_) Requeue(id, st);
}

void Scheduler::Replace(std::shared_ptr<const Table> table, int64_t now_ms) {
  const int64_t now_s = FloorDiv(now_ms, 1000);
  absl::flat_hash_map<uint64_t, EntryState> states;
  absl::flat_hash_map<uint64_t, const Entry*> entries;
  waiting_.clear();
  for (const Entry& e : table->entries) {
    entries[e.id] = &e;
    EntryState st;
    auto old = states_.find(e.id);
    if (old != states_.end()) {
      st = std::move(old->second);
      const Entry* before = entries_[e.id];
      // Same identity, other schedule (an entry with a name): its ticks
      // start after now, so no tick of the new schedule counts as missed.
      const bool moved = before->schedule.expression() != e.schedule.expression() ||
                         before->schedule.zone_name() != e.schedule.zone_name();
      if (moved) {
        st.since = now_s;
        if (!st.in_flight) st.next = e.schedule.NextAfter(now_s);
      }
    } else {
      st.since = now_s;
      st.next = e.schedule.NextAfter(now_s);
    }
    st.due_ms = -1;
    states.emplace(e.id, std::move(st));
  }
  states_ = std::move(states);
  entries_ = std::move(entries);
  table_ = std::move(table);
  for (auto& [id, st] : states_) Requeue(id, st);
}

uint64_t Scheduler::CountTicks(const Entry& e, int64_t from, int64_t to, uint64_t* budget,
                               bool* at_least) {
  uint64_t n = 0;
  std::optional<int64_t> t = from;
  for (; t && *t < to && n < kMissCountMax && *budget > 0; t = e.schedule.NextAfter(*t)) {
    ++n;
    --*budget;
  }
  if (t && *t < to) *at_least = true;
  return n;
}

std::vector<Scheduler::Fire> Scheduler::Due(int64_t now_ms, std::vector<Miss>* missed) {
  std::vector<Fire> fires;
  if (!table_) return fires;
  const int64_t now_s = FloorDiv(now_ms, 1000);
  uint64_t budget = kMissCountBudget;
  while (!waiting_.empty() && waiting_.begin()->first <= now_ms) {
    const uint64_t id = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    const Entry& e = *entries_[id];
    EntryState& st = states_[id];
    st.due_ms = -1;
    // The latest tick due: the one waited for, or a later one when the
    // server could not fire in time (down, no primary, a stalled loop).
    const int64_t waited = *st.next;
    int64_t tick = waited;
    if (std::optional<int64_t> latest = e.schedule.LatestAtOrBefore(now_s))
      tick = std::max(tick, *latest);
    const int64_t late_ms = now_ms - tick * 1000;
    bool at_least = false;
    if (late_ms > e.grace_s * 1000 && e.catch_up == CatchUp::kSkip) {
      const uint64_t n = CountTicks(e, waited, tick, &budget, &at_least) + 1;
      st.missed += n;
      missed_total_ += n;
      if (missed) missed->push_back({&e, tick, n, at_least});
      // Passed over for good: a later start does not look at them again.
      st.since = now_s;
      st.next = e.schedule.NextAfter(now_s);
      Requeue(id, st);
      continue;
    }
    if (tick > waited) {
      const uint64_t n = CountTicks(e, waited, tick, &budget, &at_least);
      st.missed += n;
      missed_total_ += n;
      if (missed) {
        std::optional<int64_t> before = e.schedule.LatestAtOrBefore(tick - 1);
        missed->push_back({&e, before.value_or(waited), n, at_least});
      }
      // Counted once: a retry of `tick` does not count them again.
      st.next = tick;
    }
    st.in_flight = true;
    st.retry_at_ms = 0;
    fires.push_back({&e, e.id, e.label, tick, TickJid(e.id, tick), late_ms});
  }
  return fires;
}

void Scheduler::Fired(uint64_t entry, int64_t tick, std::string jid, int64_t late_ms) {
  auto it = states_.find(entry);
  if (it == states_.end()) return;  // removed by a reload meanwhile
  EntryState& st = it->second;
  st.in_flight = false;
  if (!st.last || *st.last < tick) {
    st.last = tick;
    st.last_jid = std::move(jid);
    st.last_late_ms = late_ms;
  }
  ++st.fired;
  // From the tick, or from when a reload changed the schedule meanwhile.
  st.next = entries_[entry]->schedule.NextAfter(std::max(tick, st.since));
  Requeue(entry, st);
}

void Scheduler::Failed(uint64_t entry, int64_t tick, int64_t retry_at_ms) {
  auto it = states_.find(entry);
  if (it == states_.end()) return;
  EntryState& st = it->second;
  st.in_flight = false;
  st.retry_at_ms = retry_at_ms;
  // The tick stays due: the next Due decides again (it may be late by then).
  if (!st.next || *st.next > tick) st.next = tick;
  Requeue(entry, st);
}

std::optional<int64_t> Scheduler::NextDueMs() const {
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

const EntryState* Scheduler::state(uint64_t entry) const {
  auto it = states_.find(entry);
  return it == states_.end() ? nullptr : &it->second;
}

}  // namespace werk::cron
