#include "net/reply_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace werk::net {
namespace {

using core::Lsn;

std::string ReleaseAll(ReplyQueue& q, uint64_t durable) {
  std::string out;
  q.Release(Lsn(durable), &out);
  return out;
}

TEST(ReplyQueueTest, RepliesLeaveInOrderOnceDurable) {
  ReplyQueue q;
  q.Append("a", Lsn(3));
  q.Append("b", Lsn(3));
  q.Append("c", Lsn(5));
  EXPECT_EQ(ReleaseAll(q, 2), "");
  EXPECT_EQ(ReleaseAll(q, 4), "ab");
  EXPECT_EQ(q.bytes(), 1u);
  EXPECT_EQ(ReleaseAll(q, 5), "c");
  EXPECT_TRUE(q.empty());
}

TEST(ReplyQueueTest, NothingPassesAnUnfilledHole) {
  ReplyQueue q;
  q.Append("1", Lsn(1));
  ReplyQueue::Hole h = q.OpenHole();
  q.Append("3", Lsn(1));
  EXPECT_EQ(q.holes(), 1u);
  EXPECT_EQ(ReleaseAll(q, 100), "1");  // "3" is durable but behind the hole
  EXPECT_FALSE(q.empty());
  q.Fill(h, "2", Lsn(0));
  EXPECT_EQ(q.holes(), 0u);
  EXPECT_EQ(ReleaseAll(q, 100), "23");
  EXPECT_TRUE(q.empty());
}

TEST(ReplyQueueTest, HolesFilledOutOfOrderKeepRequestOrder) {
  ReplyQueue q;
  ReplyQueue::Hole a = q.OpenHole();
  q.Append("-b-", Lsn(7));
  ReplyQueue::Hole c = q.OpenHole();
  ReplyQueue::Hole d = q.OpenHole();
  q.Append("-e-", Lsn(9));
  q.Fill(d, "-d-", Lsn(0));
  q.Fill(c, "-c-", Lsn(0));
  EXPECT_EQ(ReleaseAll(q, 100), "");  // the first is still out
  q.Fill(a, "-a-", Lsn(0));
  EXPECT_EQ(ReleaseAll(q, 8), "-a--b--c--d-");  // "-e-" waits for LSN 9
  EXPECT_EQ(ReleaseAll(q, 9), "-e-");
  EXPECT_TRUE(q.empty());
}

TEST(ReplyQueueTest, AFilledHoleStillWaitsForEarlierReplies) {
  ReplyQueue q;
  q.Append("first", Lsn(10));
  ReplyQueue::Hole h = q.OpenHole();
  q.Fill(h, "second", Lsn(0));  // durable on its owner already
  EXPECT_EQ(ReleaseAll(q, 9), "");
  EXPECT_EQ(ReleaseAll(q, 10), "firstsecond");
}

TEST(ReplyQueueTest, HoleOpenedAfterPartialReleaseFillsAtTheRightPlace) {
  ReplyQueue q;
  q.Append("xx", Lsn(1));
  q.Append("yy", Lsn(2));
  EXPECT_EQ(ReleaseAll(q, 1), "xx");
  ReplyQueue::Hole h = q.OpenHole();
  q.Append("zz", Lsn(2));
  q.Fill(h, "HH", Lsn(2));
  EXPECT_EQ(ReleaseAll(q, 2), "yyHHzz");
}

TEST(ReplyQueueTest, ReleaseAppendsBehindUnsentOutput) {
  ReplyQueue q;
  q.Append("new", Lsn(1));
  std::string out = "old";
  EXPECT_TRUE(q.Release(Lsn(1), &out));
  EXPECT_EQ(out, "oldnew");
  EXPECT_FALSE(q.Release(Lsn(1), &out));
}

TEST(ReplyQueueTest, ClearDropsHoles) {
  ReplyQueue q;
  q.OpenHole();
  q.Append("x", Lsn(1));
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.holes(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

}  // namespace
}  // namespace werk::net
