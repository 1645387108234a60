// The shard runtime without Faktory (core/shard_runtime.h): the order of an
// iteration's turns, deferred calls waiting for durability, the loop's
// sleep bounded by the participants, a log failure, and a group of shards
// stopping together.

#include "core/shard_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace werk::core {
namespace {

// Writes down every hook it gets, and can log a record on its turn.
class Recorder final : public Participant {
 public:
  Recorder(std::string name, std::vector<std::string>* log, Journal* journal = nullptr)
      : name_(std::move(name)), log_(log), journal_(journal) {}

  void OnWake(int64_t late_ms) override {
    log_->push_back(name_ + ".wake");
    last_late_ms = late_ms;
  }
  void OnTurn() override {
    log_->push_back(name_ + ".turn");
    if (journal_ && append_on_turn) last_appended = journal_->Append("r");
  }
  void OnDurable(Lsn durable) override {
    log_->push_back(name_ + ".durable");
    last_durable = durable;
  }
  void OnLogFailed() override { log_->push_back(name_ + ".failed"); }
  void OnStop() override { log_->push_back(name_ + ".stop"); }
  void OnStopped(ShardRuntime&) override { log_->push_back(name_ + ".stopped"); }
  int64_t WaitBudgetNs() override { return budget; }
  bool Quiescent() const override { return quiescent; }

  bool append_on_turn = false;
  bool quiescent = true;
  int64_t budget = kNoDeadline;
  int64_t last_late_ms = 0;
  Lsn last_appended{0};
  Lsn last_durable{0};

 private:
  std::string name_;
  std::vector<std::string>* log_;
  Journal* journal_;
};

class ShardRuntimeTest : public ::testing::Test {
 protected:
  ShardRuntimeTest() : runtime_(clock_, 64), a_("a", &log_, &journal_), b_("b", &log_) {
    runtime_.AttachJournal(&journal_);
    runtime_.AddParticipant(&a_);
    runtime_.AddParticipant(&b_);
  }
  ManualClock clock_;
  VolatileJournal journal_;
  ShardRuntime runtime_;
  std::vector<std::string> log_;
  Recorder a_, b_;
};

TEST_F(ShardRuntimeTest, AnIterationGivesTurnsInOrderAndCommitsBeforeDurable) {
  a_.append_on_turn = true;
  runtime_.RunOnce(0);
  EXPECT_EQ(log_, (std::vector<std::string>{"a.wake", "b.wake", "a.turn", "b.turn", "a.durable",
                                            "b.durable"}));
  // What a turn appended is durable by the time OnDurable runs (group commit).
  EXPECT_EQ(a_.last_durable, a_.last_appended);
  EXPECT_EQ(journal_.records(), 1u);
}

TEST_F(ShardRuntimeTest, TheClockIsReadOnceAtTheWakeUp) {
  clock_.Advance(5 * kNanosPerMilli);
  runtime_.RunOnce(0);
  const UnixNanos seen = runtime_.now();
  EXPECT_EQ(seen, clock_.WallNow());
  EXPECT_EQ(runtime_.mono_ms(), clock_.MonotonicNow() / kNanosPerMilli);
  clock_.Advance(kNanosPerSecond);
  EXPECT_EQ(runtime_.now(), seen);  // until the next iteration
}

TEST_F(ShardRuntimeTest, DeferredCallWaitsUntilItsLsnIsDurable) {
  a_.append_on_turn = true;
  runtime_.RunOnce(0);  // LSN 1 durable
  bool ran = false;
  runtime_.Defer([&] { ran = true; }, Lsn(2));
  runtime_.RunOnce(0);  // appends and commits LSN 2 after the deferred step
  EXPECT_FALSE(ran);
  runtime_.RunOnce(0);
  EXPECT_TRUE(ran);
}

TEST_F(ShardRuntimeTest, DeferredCallsRunOnTheNextIterationNotAtOnce) {
  int runs = 0;
  runtime_.Defer([&] {
    ++runs;
    runtime_.Defer([&] { ++runs; });  // deferred again: not in the same iteration
  });
  EXPECT_EQ(runs, 0);
  runtime_.RunOnce(0);
  EXPECT_EQ(runs, 1);
  runtime_.RunOnce(0);
  EXPECT_EQ(runs, 2);
}

// A thread that is not a shard (the replication acceptor) hands work to
// the loop: it runs on the loop's thread, in the order posted, and wakes a
// loop that sleeps without a deadline.
TEST_F(ShardRuntimeTest, PostsFromAnotherThreadRunOnTheLoopInOrderAndWakeIt) {
  runtime_.EnableForeignPosts();
  std::vector<int> ran;
  std::atomic<bool> posted{false};
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread other([&] {
    for (int i = 0; i < 3; ++i)
      runtime_.PostFromOtherThread([&, i] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        ran.push_back(i);
      });
    posted = true;
  });
  while (!posted) std::this_thread::yield();
  other.join();
  // Sleeps until woken: the posts' wake-up ends the wait at once.
  while (ran.size() < 3) runtime_.RunOnce(-1);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
}

TEST_F(ShardRuntimeTest, LogFailureIsHeardOnceAndStopsTheShard) {
  a_.append_on_turn = true;
  journal_.FailAtNextCommit();
  runtime_.RunOnce(0);
  EXPECT_TRUE(runtime_.log_failed());
  EXPECT_EQ(std::count(log_.begin(), log_.end(), "a.failed"), 1);
  EXPECT_EQ(std::count(log_.begin(), log_.end(), "a.durable"), 0);
  runtime_.RunOnce(0);
  EXPECT_EQ(std::count(log_.begin(), log_.end(), "a.failed"), 1);
  EXPECT_EQ(std::count(log_.begin(), log_.end(), "a.stop"), 1);
  EXPECT_TRUE(runtime_.stopped());
}

TEST_F(ShardRuntimeTest, StopsOnceEveryParticipantIsQuiescent) {
  b_.quiescent = false;
  runtime_.RequestStop();
  runtime_.RunOnce(0);
  EXPECT_TRUE(runtime_.stopping());
  EXPECT_EQ(std::count(log_.begin(), log_.end(), "b.stop"), 1);
  EXPECT_FALSE(runtime_.stopped());
  b_.quiescent = true;
  EXPECT_TRUE(runtime_.stopped());
  runtime_.Run();  // returns at once, and calls OnStopped
  EXPECT_EQ(log_.back(), "b.stopped");
}

TEST_F(ShardRuntimeTest, TheLoopSleepsNoLongerThanTheShortestBudget) {
  // The manual clock stands still, so the loop wakes "early" by exactly the
  // sleep it planned: OnWake's lateness is minus the budget it used.
  a_.budget = 3 * kNanosPerMilli;
  b_.budget = 7 * kNanosPerMilli;
  runtime_.RunOnce(5 * kNanosPerSecond);
  EXPECT_EQ(a_.last_late_ms, -3);
  runtime_.RunOnce(2 * kNanosPerMilli);  // the caller's bound is shorter
  EXPECT_EQ(a_.last_late_ms, -2);
  runtime_.Defer([] {});
  runtime_.RunOnce(5 * kNanosPerSecond);  // a deferred call is ready: no sleep
  EXPECT_EQ(a_.last_late_ms, 0);
}

// Two shards turned by this thread: a typed call, a post, and the group
// stopping together.
TEST(ShardRuntimeGroup, CallsCrossAndTheGroupStopsTogether) {
  ManualClock clock;
  VolatileJournal j0, j1;
  ShardRuntime r0(clock, 64), r1(clock, 64);
  r0.AttachJournal(&j0);
  r1.AttachJournal(&j1);
  Mailbox mailbox(2);
  std::atomic<bool> stop{false};
  r0.JoinGroup(0, {&r0, &r1}, &mailbox, &stop);
  r1.JoinGroup(1, {&r0, &r1}, &mailbox, &stop);
  std::vector<std::string> log;
  Recorder p1("p1", &log, &j1);
  r1.AddParticipant(&p1);

  int got = 0;
  bool posted = false;
  r0.Call(
      1,
      [&j1] {
        j1.Append("remote");
        return 7;
      },
      [&](int v, bool abandoned) {
        EXPECT_FALSE(abandoned);
        got = v;
      });
  r0.Post(1, [&posted] { posted = true; });
  for (int i = 0; i < 4 && got == 0; ++i) {
    r0.RunOnce(0);
    r1.RunOnce(0);
  }
  EXPECT_EQ(got, 7);
  EXPECT_TRUE(posted);
  EXPECT_EQ(j1.durable_lsn(), Lsn(1));  // the value came home once durable

  // One shard stopping stops the group; neither is done before the other.
  p1.quiescent = false;
  r0.RequestStop();
  for (int i = 0; i < 4; ++i) {
    r0.RunOnce(0);
    r1.RunOnce(0);
  }
  EXPECT_TRUE(r1.stopping());
  EXPECT_FALSE(r0.stopped());  // r1 still has work
  p1.quiescent = true;
  for (int i = 0; i < 4; ++i) {
    r0.RunOnce(0);
    r1.RunOnce(0);
  }
  EXPECT_TRUE(r0.stopped());
  EXPECT_TRUE(r1.stopped());
}

}  // namespace
}  // namespace werk::core
