#include "net/reply_queue.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

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

// What the shard times replies by (Shard::Release): each leaving mark's
// command, read time and number of replies.
TEST(ReplyQueueTest, ReleaseReportsEachReplysCommandAndReadTime) {
  ReplyQueue q;
  q.Append("+OK\r\n", Lsn(3), CommandKind::kPush, 100);
  q.Append("+OK\r\n", Lsn(3), CommandKind::kBeat, 100);  // another command: its own
  q.Append("+OK\r\n", Lsn(3), CommandKind::kBeat, 100);  // same LSN, command, time: shared
  ReplyQueue::Hole h = q.OpenHole(CommandKind::kAck, 200);
  q.Append("x", Lsn(4));  // untimed (a handshake reply)
  struct Left {
    CommandKind kind;
    int64_t read_ns;
    uint32_t replies;
  };
  std::vector<Left> left;
  std::string out;
  auto record = [&](CommandKind k, int64_t t, uint32_t n) { left.push_back({k, t, n}); };
  EXPECT_TRUE(q.Release(Lsn(9), &out, record));
  ASSERT_EQ(left.size(), 2u);  // not past the hole
  EXPECT_EQ(left[0].kind, CommandKind::kPush);
  EXPECT_EQ(left[0].read_ns, 100);
  EXPECT_EQ(left[0].replies, 1u);
  EXPECT_EQ(left[1].kind, CommandKind::kBeat);
  EXPECT_EQ(left[1].replies, 2u);
  q.Fill(h, "+OK\r\n", Lsn(0));
  left.clear();
  EXPECT_TRUE(q.Release(Lsn(9), &out, record));
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].kind, CommandKind::kAck);
  EXPECT_EQ(left[0].read_ns, 200);
  EXPECT_EQ(left[1].kind, CommandKind::kUntimed);
  EXPECT_EQ(out, "+OK\r\n+OK\r\n+OK\r\n+OK\r\nx");
}

TEST(ReplyQueueTest, RefusedRepliesBecomeOneErrorEachInTheirPlace) {
  ReplyQueue q;
  q.Append("ok1 ", Lsn(2));   // durable: stays
  q.Append("ok2 ", Lsn(7));   // two replies of one LSN above the durable one
  q.Append("ok3 ", Lsn(7));
  ReplyQueue::Hole h = q.OpenHole();  // another shard's answer: stays a hole
  q.Append("info ", Lsn(0));  // independent: stays
  q.Append("ok4 ", Lsn(9));
  q.Refuse(Lsn(5), "E ");
  EXPECT_EQ(ReleaseAll(q, 5), "ok1 E E ");
  q.Fill(h, "remote ", Lsn(0));
  EXPECT_EQ(ReleaseAll(q, 5), "remote info E ");
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

// Random appends, holes, fills and releases against a model: a reply is sent
// once it and every reply before it are known and durable, and the bytes
// sent are always a prefix of the replies in request order.
TEST(ReplyQueueTest, MatchesAModelUnderRandomOperations) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    ReplyQueue q;
    struct Entry {
      std::string bytes;
      uint64_t lsn;
      bool known;
      ReplyQueue::Hole hole;
    };
    std::vector<Entry> model;  // every reply in request order
    size_t sent_entries = 0;
    std::string sent;
    uint64_t appended = 0, durable = 0;
    for (int step = 0; step < 400; ++step) {
      const int op = int(rng() % 4);
      if (op == 0) {  // a local reply, waiting for what was appended so far
        if (rng() % 2) ++appended;
        std::string b = "r" + std::to_string(model.size()) + ";";
        q.Append(b, core::Lsn(appended));
        model.push_back({b, appended, true, nullptr});
      } else if (op == 1) {  // a forwarded command
        model.push_back({"f" + std::to_string(model.size()) + ";", 0, false, q.OpenHole()});
      } else if (op == 2) {  // some forwarded command comes back
        std::vector<size_t> open;
        for (size_t i = sent_entries; i < model.size(); ++i)
          if (!model[i].known) open.push_back(i);
        if (open.empty()) continue;
        Entry& e = model[open[rng() % open.size()]];
        e.known = true;
        q.Fill(e.hole, e.bytes, core::Lsn(0));
      } else {  // the log makes progress
        durable = std::min<uint64_t>(appended, durable + rng() % 3);
        q.Release(core::Lsn(durable), &sent);
        while (sent_entries < model.size() && model[sent_entries].known &&
               model[sent_entries].lsn <= durable)
          ++sent_entries;
        std::string expected;
        for (size_t i = 0; i < sent_entries; ++i) expected += model[i].bytes;
        ASSERT_EQ(sent, expected) << "seed " << seed << " step " << step;
      }
      size_t holes = 0, staged = 0;
      for (size_t i = sent_entries; i < model.size(); ++i) {
        holes += !model[i].known;
        if (model[i].known) staged += model[i].bytes.size();
      }
      ASSERT_EQ(q.holes(), holes) << "seed " << seed;
      ASSERT_EQ(q.bytes(), staged) << "seed " << seed;
    }
  }
}

}  // namespace
}  // namespace werk::net
