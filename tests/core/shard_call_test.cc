// Typed calls between shards (core/shard_call.h): the value comes home only
// once the target's log made what the call logged durable, a failed log
// abandons it, and a hold rule lets a partial result through early.

#include "core/shard_call.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/op_status.h"

namespace werk::core {
namespace {

// Two shards driven by hand: `a` calls `b`, whose journal is `log`.
class ShardCallTest : public ::testing::Test {
 protected:
  ShardCallTest() : mailbox_(2), a_(&mailbox_, 0), b_(&mailbox_, 1) {
    b_.set_hold_handler([this](CrossShardTask* t) {
      if (log_.failed()) {
        t->Abandon();
        b_.Return(t);
      } else {
        held_.push_back(t);
      }
    });
  }
  // One iteration of each shard; `b` returns what its log made durable.
  void Iterate() {
    b_.Poll();
    log_.Commit();
    std::vector<CrossShardTask*> still;
    for (CrossShardTask* t : held_) {
      if (log_.failed()) t->Abandon();
      if (log_.failed() || t->hold_lsn <= log_.durable_lsn())
        b_.Return(t);
      else
        still.push_back(t);
    }
    held_ = std::move(still);
    b_.Flush();
    a_.Poll();
  }

  Mailbox mailbox_;
  ShardMailbox a_, b_;
  VolatileJournal log_;
  std::vector<CrossShardTask*> held_;
};

TEST_F(ShardCallTest, ValueComesHomeOnceTheTargetsRecordsAreDurable) {
  std::optional<OpResult<int>> got;
  a_.Submit(1, MakeCall(
                   &log_,
                   [this]() -> OpResult<int> {
                     log_.Append("record");
                     return 42;
                   },
                   [&](OpResult<int> v, bool abandoned) {
                     EXPECT_FALSE(abandoned);
                     got = std::move(v);
                   }));
  b_.Poll();  // ran, held: its record is not durable yet
  a_.Poll();
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(held_.size(), 1u);
  Iterate();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(**got, 42);
}

TEST_F(ShardCallTest, FailedLogAbandonsTheCallAndTheStatusSaysSo) {
  std::optional<OpStatus> got;
  bool was_abandoned = false;
  a_.Submit(1, MakeCall(
                   &log_,
                   [this]() -> OpStatus {
                     log_.Append("record");
                     return OkStatus();
                   },
                   [&](OpStatus s, bool abandoned) {
                     was_abandoned = abandoned;
                     got = abandoned ? AbandonedResult<OpStatus>() : s;
                   }));
  log_.FailAtNextCommit();
  Iterate();
  Iterate();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(was_abandoned);
  EXPECT_EQ(got->code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(std::string(got->message()), std::string(kLogFailedMessage));
}

TEST_F(ShardCallTest, HoldRuleLetsAPartialResultComeBackAtOnce) {
  std::vector<Progress> got;
  auto hold = [](const OpResult<Progress>& r) { return !(r.ok() && *r == Progress::kMore); };
  for (Progress p : {Progress::kMore, Progress::kDone}) {
    a_.Submit(1, MakeCall(
                     &log_,
                     [this, p]() -> OpResult<Progress> {
                       log_.Append("slice");
                       return p;
                     },
                     [&](OpResult<Progress> r, bool) { got.push_back(*r); }, hold));
  }
  b_.Poll();
  b_.Flush();
  a_.Poll();
  // The partial one is home without waiting for its record; the last waits.
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], Progress::kMore);
  Iterate();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], Progress::kDone);
}

TEST(OpStatus, ErrorsCarryFaktorysMessages) {
  EXPECT_EQ(JobNotFound("abc").message(), "Job not found abc");
  EXPECT_EQ(JobNotFound("abc").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(UnknownWorker("").message(), "unknown worker ");
  EXPECT_EQ(JidInUse("j1").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(AbandonedResult<OpResult<int>>().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(AbandonedResult<int>(), 0);
}

}  // namespace
}  // namespace werk::core
