// Worker processes across shards (core/job_service.h, core/worker_table.h),
// driven without sockets: the owner of a wid keeps the process; shards
// holding connections hear of its state and of its heartbeat expiring.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/job_service.h"
#include "tests/core/service_group.h"

namespace werk::core {
namespace {

// What one shard's protocol layer was told.
struct Listener final : WorkerListener {
  void OnWorkerState(const std::string& wid, WorkerState state) override { states[wid] = state; }
  void OnWorkerExpired(const std::string& wid) override { expired.push_back(wid); }
  std::map<std::string, WorkerState> states;
  std::vector<std::string> expired;
};

class JobServiceWorkersTest : public ServiceGroupTest {
 protected:
  void SetUp() override {
    ServiceGroupTest::SetUp();
    listeners_.resize(GetParam());
    for (int s = 0; s < GetParam(); ++s) At(s).set_worker_listener(&listeners_[s]);
  }
  // A wid that shard `owner` owns.
  std::string WidOn(int owner) { return JidOn(owner, "wid"); }
  WorkerState Attach(int shard, const std::string& wid) {
    Outcome<WorkerState> state(At(shard).AttachWorker(WorkerHello{wid, "host", 42, {"l"}, 2}));
    Turn();
    EXPECT_TRUE(state.has_value());
    return state.has_value() ? *state : WorkerState::kRunning;
  }
  OpResult<WorkerState> Beat(int shard, const std::string& wid, std::string state = "") {
    Outcome<OpResult<WorkerState>> r(At(shard).Beat(WorkerBeat{wid, std::move(state), 1000}));
    Turn();
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : OpResult<WorkerState>(InvalidRequest("no answer"));
  }
  const WorkerProcess* Process(int owner, const std::string& wid) {
    return At(owner).workers().Find(wid);
  }
  std::vector<Listener> listeners_;
};

TEST_P(JobServiceWorkersTest, TheOwnerCountsEveryShardsConnectionsAndForgetsTheProcessAfterTheLast) {
  const int owner = GetParam() - 1;
  const std::string wid = WidOn(owner);
  for (int s = 0; s < GetParam(); ++s) EXPECT_EQ(Attach(s, wid), WorkerState::kRunning);
  const WorkerProcess* p = Process(owner, wid);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->total_connections(), size_t(GetParam()));
  EXPECT_EQ(p->hostname, "host");
  EXPECT_EQ(p->pid, 42);
  for (int s = 0; s < GetParam(); ++s) {
    At(s).DetachWorker(wid);
    Turn();
  }
  EXPECT_EQ(Process(owner, wid), nullptr);
}

TEST_P(JobServiceWorkersTest, ABeatMovesTheStateForwardOnlyAndEveryShardHears) {
  const int owner = GetParam() - 1;
  const std::string wid = WidOn(owner);
  for (int s = 0; s < GetParam(); ++s) Attach(s, wid);
  EXPECT_EQ(*Beat(0, wid), WorkerState::kRunning);
  EXPECT_EQ(*Beat(0, wid, "quiet"), WorkerState::kQuiet);
  EXPECT_EQ(*Beat(0, wid, ""), WorkerState::kQuiet);  // never back
  EXPECT_EQ(nodes_[owner]->partition.state().worker_state(wid), WorkerState::kQuiet);
  for (int s = 0; s < GetParam(); ++s) {
    if (s == owner) continue;  // the owner reads its own state machine
    EXPECT_EQ(listeners_[s].states[wid], WorkerState::kQuiet) << "shard " << s;
  }
  // A process attaching anew learns the state in the HELLO's answer.
  EXPECT_EQ(Attach(0, wid), WorkerState::kQuiet);
  // The last connection gone: the durable state is forgotten too.
  for (int s = 0; s < GetParam(); ++s) At(s).DetachWorker(wid);
  At(0).DetachWorker(wid);
  Turn();
  EXPECT_EQ(nodes_[owner]->partition.state().worker_state(wid), WorkerState::kRunning);
}

TEST_P(JobServiceWorkersTest, AnUnknownProcessGetsAnError) {
  const OpResult<WorkerState> r = Beat(0, WidOn(GetParam() - 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST_P(JobServiceWorkersTest, WithoutABeatInTimeEveryShardClosesItsConnections) {
  const int owner = GetParam() - 1;
  const std::string wid = WidOn(owner);
  for (int s = 0; s < GetParam(); ++s) Attach(s, wid);
  clock_.Advance((kHeartbeatTimeoutSeconds - 1) * kNanosPerSecond);
  Turn();  // the shards' time moves on at their next iteration
  EXPECT_TRUE(Beat(0, wid).ok());  // pushes the deadline back
  clock_.Advance((kHeartbeatTimeoutSeconds - 1) * kNanosPerSecond);
  Turn();
  for (auto& l : listeners_) EXPECT_TRUE(l.expired.empty());
  clock_.Advance(2 * kNanosPerSecond);
  Turn();
  for (int s = 0; s < GetParam(); ++s)
    EXPECT_EQ(listeners_[s].expired, std::vector<std::string>{wid}) << "shard " << s;
  EXPECT_EQ(Process(owner, wid), nullptr);
  EXPECT_EQ(At(owner).worker_stats().reaped, 1u);
  // The closing connections' detaches find nothing to count down.
  for (int s = 0; s < GetParam(); ++s) At(s).DetachWorker(wid);
  Turn();
  EXPECT_EQ(Process(owner, wid), nullptr);
}

TEST_P(JobServiceWorkersTest, AProcessKnownOnlyFromTheLogIsForgottenUnlessItComesBack) {
  const int owner = GetParam() - 1;
  const std::string gone = WidOn(owner), back = WidOn(owner);
  for (const std::string& wid : {gone, back})
    ASSERT_TRUE(nodes_[owner]->partition.Commit(
        Mutation::SetWorkerState(clock_.WallNow(), wid, WorkerState::kTerminate)));
  At(owner).AdoptRecoveredWorkers();
  EXPECT_EQ(At(owner).workers().size(), 2u);
  EXPECT_EQ(Attach(0, back), WorkerState::kTerminate);
  clock_.Advance((kHeartbeatTimeoutSeconds + 1) * kNanosPerSecond);
  Turn();
  EXPECT_EQ(Process(owner, gone), nullptr);
  EXPECT_EQ(nodes_[owner]->partition.state().worker_state(gone), WorkerState::kRunning);
}

INSTANTIATE_TEST_SUITE_P(Shards, JobServiceWorkersTest, ::testing::Values(1, 2, 3),
                         [](const auto& info) { return std::to_string(info.param) + "shards"; });

}  // namespace
}  // namespace werk::core
