// The published stats snapshot (net/stats_publisher.h): it shows durable
// state only, exactly the state at the durable point (other threads reading
// it: tests/core/published_test.cc).

#include "net/stats_publisher.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/journal.h"

namespace werk::net {
namespace {

// A journal whose commits become durable only when the test says so.
class SlowJournal final : public core::Journal {
 public:
  core::Lsn Append(std::string_view) override { return appended_ = appended_.next(); }
  void Commit() override {}
  core::Lsn appended_lsn() const override { return appended_; }
  core::Lsn durable_lsn() const override { return durable_; }
  bool failed() const override { return false; }
  void MakeDurable(core::Lsn lsn) { durable_ = lsn; }

 private:
  core::Lsn appended_{0};
  core::Lsn durable_{0};
};

// The "state" is a number of jobs; each write adds one and logs a record.
class StatsPublisherTest : public ::testing::Test {
 protected:
  StatsPublisherTest()
      : runtime_(clock_, 64),
        publisher_(
            &runtime_,
            [this](ShardSummary* s) {
              s->working = jobs_;
              ++builds_;
            },
            [this] { return commands_; }) {
    runtime_.AttachJournal(&journal_);
    runtime_.AddParticipant(&publisher_);
  }
  void Write() {
    ++jobs_;
    journal_.Append("r");
  }
  uint64_t Seen() const { return publisher_.Read()->working; }

  core::ManualClock clock_;
  SlowJournal journal_;
  core::ShardRuntime runtime_;
  StatsPublisher publisher_;
  uint64_t jobs_ = 0;
  uint64_t commands_ = 0;
  uint64_t builds_ = 0;
};

TEST_F(StatsPublisherTest, ShowsOnlyDurableStateAndExactlyTheStateAtTheDurablePoint) {
  publisher_.PublishNow();
  EXPECT_EQ(Seen(), 0u);
  Write();  // LSN 1
  runtime_.RunOnce(0);
  EXPECT_EQ(Seen(), 0u);  // not durable yet
  Write();
  Write();  // LSN 2, 3 in the next iteration's group commit
  runtime_.RunOnce(0);
  journal_.MakeDurable(core::Lsn(1));
  runtime_.RunOnce(0);
  EXPECT_EQ(Seen(), 1u);  // the state at LSN 1, not 3
  journal_.MakeDurable(core::Lsn(3));
  runtime_.RunOnce(0);
  EXPECT_EQ(Seen(), 3u);
}

TEST_F(StatsPublisherTest, FiguresNoRecordChangesAreRefreshedToo) {
  publisher_.PublishNow();
  builds_ = 0;
  runtime_.RunOnce(0);
  runtime_.RunOnce(0);
  EXPECT_EQ(builds_, 0u);  // nothing changed: nothing rebuilt
  ++commands_;
  runtime_.RunOnce(0);
  EXPECT_EQ(builds_, 1u);
  clock_.Advance(StatsPublisher::kRefreshMillis * core::kNanosPerMilli);
  runtime_.RunOnce(0);
  EXPECT_EQ(builds_, 2u);  // at least every kRefreshMillis
}

}  // namespace
}  // namespace werk::net
