#pragma once
// A typed call to another shard over the mailbox (core/mailbox.h): `run`
// executes on the target's thread and returns a value; the value travels
// back in the task and `done(value, abandoned)` receives it on the origin's
// thread. Results cross shards as values (core/op_status.h), never as reply
// bytes.
//
// Durability: unless `hold(value)` says otherwise, the value is held on the
// target until everything its log had appended when `run` returned is
// durable there, so what the origin learns never depends on a record that a
// crash could still take back. If the target's log fails first the task is
// abandoned: `done` gets `abandoned == true` and must not report success.
// If the target refuses what it logged instead (ShardRuntime::RefuseHeld), a
// result that can hold a status becomes the refusal. While the target's
// journal says writes are refused, nothing is held.

#include <optional>
#include <type_traits>
#include <utility>

#include "core/journal.h"
#include "core/mailbox.h"

namespace werk::core {

// The default rule: every result waits for what its call logged.
struct AlwaysHold {
  template <class T>
  bool operator()(const T&) const {
    return true;
  }
};

template <class RunFn, class DoneFn, class HoldFn = AlwaysHold>
class CallTask final : public CrossShardTask {
 public:
  using Result = std::invoke_result_t<RunFn&>;

  // `target_journal` is the target shard's; read only on its thread.
  CallTask(const Journal* target_journal, RunFn run, DoneFn done, HoldFn hold = HoldFn())
      : journal_(target_journal), run_(std::move(run)), done_(std::move(done)),
        hold_(std::move(hold)) {}

  void Run() override {
    result_.emplace(run_());
    if (hold_(*result_) && !journal_->writes_refused()) hold_lsn = journal_->appended_lsn();
  }
  void Done() override { done_(std::move(*result_), abandoned_); }
  void Abandon() override { abandoned_ = true; }
  void Refuse(const absl::Status& why) override {
    if constexpr (std::is_same_v<Result, absl::Status>) {
      result_.emplace(why);
    } else if constexpr (requires(Result r) { r.status(); r.ok(); }) {
      result_.emplace(Result(why));
    } else {
      abandoned_ = true;
    }
  }

 private:
  const Journal* journal_;
  RunFn run_;
  DoneFn done_;
  HoldFn hold_;
  std::optional<Result> result_;
  bool abandoned_ = false;
};

template <class RunFn, class DoneFn, class HoldFn = AlwaysHold>
CrossShardTask* MakeCall(const Journal* target_journal, RunFn run, DoneFn done,
                         HoldFn hold = HoldFn()) {
  return new CallTask<RunFn, DoneFn, HoldFn>(target_journal, std::move(run), std::move(done),
                                             std::move(hold));
}

}  // namespace werk::core
