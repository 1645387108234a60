#include "cron/driver.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/time_format.h"

namespace werk::cron {
namespace {

int64_t ToMs(core::UnixNanos t) { return t / core::kNanosPerMilli; }

std::string TickName(int64_t tick_s) {
  return core::FormatRfc3339Nano(core::SecondsToNanos(tick_s));
}

}  // namespace

Driver::Driver(core::ShardRuntime* runtime, core::JobService* service, core::JobLimits limits)
    : runtime_(runtime), service_(service), limits_(limits) {}

void Driver::SetTable(std::shared_ptr<const Table> table) {
  table_ = std::move(table);
  const int64_t now_ms = ToMs(runtime_->clock().WallNow());  // the loop may not have run yet
  // An entry removed and added again is new again.
  absl::flat_hash_map<uint64_t, int64_t> loaded;
  for (const Entry& e : table_->entries) {
    auto it = loaded_ms_.find(e.id);
    loaded[e.id] = it != loaded_ms_.end() ? it->second : now_ms;
  }
  loaded_ms_ = std::move(loaded);
  if (scheduler_.started()) scheduler_.Replace(table_, ToMs(runtime_->now()));
  dirty_ = true;
}

void Driver::OnTurn() {
  if (stopped_ || !table_) return;
  const bool writable = service_->partition().writable();
  if (!writable) {
    if (active_) {
      active_ = false;
      dirty_ = true;
      spdlog::info("cron: not firing (this server cannot write: {})",
                   std::string(service_->partition().CheckWritable().message()));
    }
    return;
  }
  if (!active_) {
    if (!gathering_) Gather();
    return;
  }
  FireDue();
}

void Driver::Gather() {
  gathering_ = true;
  const uint64_t generation = ++generation_;
  using Ticks = std::vector<std::pair<uint64_t, int64_t>>;
  auto pending = service_->OnShards<Ticks>(
      service_->AllShards(),
      [](core::Partition& p, uint32_t) {
        const auto& fired = p.state().cron_fired();
        return Ticks(fired.begin(), fired.end());
      },
      [](const Ticks&) { return false; });  // logs nothing: nothing to wait for
  auto start = [this, generation](core::OpResult<std::vector<Ticks>> result) {
    if (generation != generation_) return;
    gathering_ = false;
    if (!result.ok() || stopped_) return;  // the log failed: no cron
    absl::flat_hash_map<uint64_t, int64_t> fired;
    for (const Ticks& shard : *result)
      for (const auto& [entry, tick] : shard) {
        auto [it, fresh] = fired.try_emplace(entry, tick);
        if (!fresh) it->second = std::max(it->second, tick);
      }
    if (!service_->partition().writable()) return;  // tried again next turn
    scheduler_.Start(table_, fired, ToMs(runtime_->now()), loaded_ms_);
    active_ = true;
    dirty_ = true;
    spdlog::info("cron: firing {} entries", table_->entries.size());
    FireDue();
  };
  if (pending.ready())
    start(std::move(pending.value()));
  else
    pending.Then(std::move(start));
}

void Driver::FireDue() {
  const int64_t now_ms = ToMs(runtime_->now());
  if (auto next = scheduler_.NextDueMs(); !next || *next > now_ms) return;
  std::vector<Scheduler::Miss> missed;
  std::vector<Scheduler::Fire> fires = scheduler_.Due(now_ms, &missed);
  for (const Scheduler::Miss& m : missed)
    spdlog::warn("cron: {} ({}): {}{} tick{} up to {} did not fire (catch_up = {}, grace {} s)",
                 m.entry->label, m.entry->origin, m.at_least ? "at least " : "", m.count,
                 m.count == 1 ? "" : "s", TickName(m.latest), CatchUpName(m.entry->catch_up),
                 m.entry->grace_s);
  if (!missed.empty()) dirty_ = true;
  for (Scheduler::Fire& f : fires) {
    core::CronPushRecord rec{f.entry->id, f.tick, f.entry->job};
    rec.job.jid = f.jid;
    // Validated at load; this fills in created_at.
    if (core::OpStatus v = core::ValidateJob(rec.job, runtime_->now(), limits_); !v.ok()) {
      Done(f, v);
      continue;
    }
    core::Pending<core::OpStatus> result = service_->OnOwner<core::OpStatus>(
        f.jid, [rec = std::move(rec)](core::Partition& p) { return p.CronPush(rec); });
    if (result.ready()) {
      // Pushed here: it counts once this shard's log has it (the journal
      // may still fail first).
      runtime_->Defer(
          [this, f, status = result.value()] {
            Done(f, runtime_->log_failed() ? core::LogFailed() : status);
          },
          runtime_->journal().appended_lsn());
    } else {
      result.Then([this, f](core::OpStatus s) { Done(f, s); });
    }
    dirty_ = true;
  }
}

void Driver::Done(const Scheduler::Fire& f, const core::OpStatus& status) {
  const int64_t now_ms = ToMs(runtime_->now());
  // Refused as fired already (the owner's ledger has the tick): it did
  // fire, once.
  if (status.ok() || absl::IsAlreadyExists(status)) {
    if (status.ok()) ++fired_total_;
    if (failing_.erase(f.entry_id))
      spdlog::info("cron: {} pushes again ({} fired)", f.label, TickName(f.tick));
    scheduler_.Fired(f.entry_id, f.tick, f.jid, now_ms - f.tick * 1000);
  } else {
    ++failed_total_;
    // Said once per entry until it pushes again (it is tried every kRetryMs).
    if (failing_.insert(f.entry_id).second)
      spdlog::warn("cron: {} tick {} ({}) was not pushed: {}; trying again every {} ms",
                   f.label, TickName(f.tick), f.jid, std::string(status.message()), kRetryMs);
    scheduler_.Failed(f.entry_id, f.tick, now_ms + kRetryMs);
  }
  dirty_ = true;
}

void Driver::OnDurable(core::Lsn) {
  if (!dirty_) return;
  BuildView(&view_);
  if (published_.Publish(view_)) dirty_ = false;
}

int64_t Driver::WaitBudgetNs() {
  if (!active_ || stopped_) return core::kNoDeadline;
  std::optional<int64_t> next = scheduler_.NextDueMs();
  if (!next) return core::kNoDeadline;
  const int64_t wait_ms = *next - ToMs(runtime_->clock().WallNow());
  return std::max<int64_t>(0, wait_ms) * core::kNanosPerMilli;
}

void Driver::BuildView(View* v) const {
  v->active = active_;
  v->fired_total = fired_total_;
  v->missed_total = scheduler_.missed_total();
  v->failed_total = failed_total_;
  v->entries.clear();
  if (!table_) return;
  v->entries.reserve(table_->entries.size());
  for (const Entry& e : table_->entries) {
    EntryView ev;
    ev.id = e.id;
    ev.label = e.label;
    ev.name = e.name;
    ev.schedule = e.schedule.expression();
    ev.timezone = e.schedule.zone_name();
    ev.catch_up = std::string(CatchUpName(e.catch_up));
    ev.grace_s = e.grace_s;
    ev.jobtype = e.job.jobtype;
    ev.queue = e.job.queue;
    if (const EntryState* st = scheduler_.state(e.id)) {
      ev.next = st->next;
      ev.last = st->last;
      ev.last_jid = st->last_jid;
      ev.last_late_ms = st->last_late_ms;
      ev.fired = st->fired;
      ev.missed = st->missed;
      ev.in_flight = st->in_flight;
    } else {
      ev.next = e.schedule.NextAfter(runtime_->now() / core::kNanosPerSecond);
    }
    v->entries.push_back(std::move(ev));
  }
}

}  // namespace werk::cron
