// werkctl's RESP reply parser (tools/werkctl/faktory_client.h): every reply
// form Faktory sends, replies split across reads, and what it refuses.

#include <gtest/gtest.h>

#include "tools/werkctl/faktory_client.h"

namespace werk::ctl {
namespace {

struct Parsed {
  ParseOutcome outcome;
  Reply reply;
  size_t consumed = 0;
};

Parsed Parse(std::string_view buf) {
  Parsed p;
  p.outcome = ParseReply(buf, &p.consumed, &p.reply);
  return p;
}

TEST(FaktoryReply, SimpleErrorIntegerBulkAndNull) {
  Parsed p = Parse("+OK\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.type, Reply::Type::kSimple);
  EXPECT_EQ(p.reply.text, "OK");
  EXPECT_EQ(p.consumed, 5u);
  p = Parse("-ERR unknown command PROMOTE\r\n+OK\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.type, Reply::Type::kError);
  EXPECT_EQ(p.reply.text, "ERR unknown command PROMOTE");
  EXPECT_EQ(p.consumed, 30u);
  p = Parse(":42\r\n");
  EXPECT_EQ(p.reply.type, Reply::Type::kInteger);
  EXPECT_EQ(p.reply.text, "42");
  p = Parse("$17\r\n{\"state\":\"quiet\"}\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.type, Reply::Type::kBulk);
  EXPECT_EQ(p.reply.text, "{\"state\":\"quiet\"}");
  EXPECT_EQ(p.consumed, 24u);
  p = Parse("$-1\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.type, Reply::Type::kNull);
  p = Parse("$0\r\n\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.type, Reply::Type::kBulk);
  EXPECT_EQ(p.reply.text, "");
  // The payload may hold CR and LF: only the length counts.
  p = Parse("$4\r\na\r\nb\r\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.text, "a\r\nb");
}

TEST(FaktoryReply, BareLfIsAccepted) {
  Parsed p = Parse("+OK\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.text, "OK");
  EXPECT_EQ(p.consumed, 4u);
  p = Parse("$3\nabc\n");
  ASSERT_EQ(p.outcome, ParseOutcome::kReply);
  EXPECT_EQ(p.reply.text, "abc");
  EXPECT_EQ(p.consumed, 7u);
}

TEST(FaktoryReply, EveryPrefixOfAReplyIsIncomplete) {
  for (const std::string whole : {"+HI {\"v\":2}\r\n", "$5\r\nhello\r\n", "-ERR x\r\n"}) {
    for (size_t n = 0; n < whole.size(); ++n) {
      Parsed p = Parse(std::string_view(whole).substr(0, n));
      EXPECT_EQ(p.outcome, ParseOutcome::kIncomplete) << whole << " cut at " << n;
    }
    EXPECT_EQ(Parse(whole).outcome, ParseOutcome::kReply);
  }
}

TEST(FaktoryReply, MalformedRepliesAreRefused) {
  for (const std::string bad : {"OK\r\n", "\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcd\r\n",
                                "$3\r\nabc\rX", "$99999999999\r\n", "*1\r\n"}) {
    Parsed p = Parse(bad);
    EXPECT_EQ(p.outcome, ParseOutcome::kMalformed) << bad;
    EXPECT_FALSE(p.reply.text.empty()) << bad;
  }
  // A bulk length above the bound is refused before its bytes arrive.
  EXPECT_EQ(Parse("$" + std::to_string(kReplyBytesMax + 1) + "\r\n").outcome,
            ParseOutcome::kMalformed);
}

}  // namespace
}  // namespace werk::ctl
