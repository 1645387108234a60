#include "net/command_decoders.h"

#include <gtest/gtest.h>

namespace werk::net {
namespace {

TEST(CommandDecoders, Hello) {
  JobDecoder d;
  HelloArgs h;
  std::string error;
  ASSERT_TRUE(DecodeHello(d, R"({"hostname":"h","wid":"w","pid":10229,"labels":["a","b"],"v":2,"pwdhash":"p","username":"u","extra":1})", &h, &error));
  EXPECT_EQ(h.hostname, "h");
  EXPECT_EQ(h.wid, "w");
  EXPECT_EQ(h.pid, 10229);
  EXPECT_EQ(h.labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.v, 2);
  EXPECT_FALSE(DecodeHello(d, R"({"v":"2"})", &h, &error));
  EXPECT_FALSE(DecodeHello(d, R"({"v":300})", &h, &error));
  EXPECT_FALSE(DecodeHello(d, R"({"v":2)", &h, &error));
  EXPECT_FALSE(DecodeHello(d, R"([])", &h, &error));
}

TEST(CommandDecoders, Ack) {
  JobDecoder d;
  std::string jid;
  ASSERT_TRUE(DecodeAck(d, R"({"jid":"abc"})", &jid));
  EXPECT_EQ(jid, "abc");
  EXPECT_FALSE(DecodeAck(d, "", &jid));
  EXPECT_FALSE(DecodeAck(d, "{}", &jid));
  EXPECT_FALSE(DecodeAck(d, R"({"jid":1})", &jid));
  EXPECT_FALSE(DecodeAck(d, R"({"jid":"a","n":1})", &jid));  // map[string]string
  EXPECT_FALSE(DecodeAck(d, R"("abc")", &jid));
  EXPECT_FALSE(DecodeAck(d, "null", &jid));
}

TEST(CommandDecoders, FailAndCleanse) {
  JobDecoder d;
  FailArgs f;
  ASSERT_TRUE(DecodeFail(d, R"({"jid":"j","errtype":"  ","message":" boom ","backtrace":["a"]})", &f));
  CleanseFailure(&f);
  EXPECT_EQ(f.errtype, "unknown");
  EXPECT_EQ(f.message, "boom");
  f.errtype = std::string(150, 'e');
  f.message = std::string(1500, 'm');
  f.backtrace.assign(80, "line");
  CleanseFailure(&f);
  EXPECT_EQ(f.errtype.size(), 100u);
  EXPECT_EQ(f.message.size(), 1000u);
  EXPECT_EQ(f.backtrace.size(), 50u);
  EXPECT_FALSE(DecodeFail(d, R"({"jid":"j","backtrace":"x"})", &f));
  EXPECT_FALSE(DecodeFail(d, "", &f));
}

TEST(CommandDecoders, Beat) {
  JobDecoder d;
  BeatArgs b;
  ASSERT_TRUE(DecodeBeat(d, R"({"wid":"w","current_state":"quiet","rss_kb":123})", &b));
  EXPECT_EQ(b.current_state, "quiet");
  EXPECT_EQ(b.rss_kb, 123);
  EXPECT_FALSE(DecodeBeat(d, R"({"wid":5})", &b));
}

TEST(CommandDecoders, Mutate) {
  JobDecoder d;
  MutateArgs m;
  std::string error;
  ASSERT_TRUE(DecodeMutate(d, R"({"cmd":"kill","target":"retries","filter":{"jids":["a"],"regexp":"*x*","jobtype":"T"}})", &m, &error));
  EXPECT_EQ(m.cmd, "kill");
  ASSERT_TRUE(m.filter.has_value());
  EXPECT_EQ(m.filter->jids, std::vector<std::string>{"a"});
  EXPECT_EQ(m.filter->regexp, "*x*");
  ASSERT_TRUE(DecodeMutate(d, R"({"cmd":"clear", "target":"dead"})", &m, &error));
  EXPECT_FALSE(m.filter.has_value());
  EXPECT_FALSE(DecodeMutate(d, R"({"cmd":1})", &m, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace werk::net
