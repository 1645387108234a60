#include "net/command_decoders.h"

#include <gtest/gtest.h>

namespace werk::net {
namespace {

TEST(CommandDecoders, Hello) {
  JobDecoder d;
  HelloArgs h;
  ASSERT_TRUE(DecodeHello(d, R"({"hostname":"h","wid":"w","pid":10229,"labels":["a","b"],"v":2,"pwdhash":"p","username":"u","extra":1})", &h).ok());
  EXPECT_EQ(h.hostname, "h");
  EXPECT_EQ(h.wid, "w");
  EXPECT_EQ(h.pid, 10229);
  EXPECT_EQ(h.labels, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(h.v, 2);
  EXPECT_FALSE(DecodeHello(d, R"({"v":"2"})", &h).ok());
  EXPECT_EQ(DecodeHello(d, R"({"v":300})", &h).message(), "protocol version out of range");
  EXPECT_FALSE(DecodeHello(d, R"({"v":2)", &h).ok());
  EXPECT_FALSE(DecodeHello(d, R"([])", &h).ok());
}

TEST(CommandDecoders, Ack) {
  JobDecoder d;
  std::string jid;
  ASSERT_TRUE(DecodeAck(d, R"({"jid":"abc"})", &jid).ok());
  EXPECT_EQ(jid, "abc");
  EXPECT_FALSE(DecodeAck(d, "", &jid).ok());
  EXPECT_EQ(DecodeAck(d, "{}", &jid).message(), "invalid ACK {}");
  EXPECT_FALSE(DecodeAck(d, R"({"jid":1})", &jid).ok());
  EXPECT_FALSE(DecodeAck(d, R"({"jid":"a","n":1})", &jid).ok());  // map[string]string
  EXPECT_FALSE(DecodeAck(d, R"("abc")", &jid).ok());
  EXPECT_FALSE(DecodeAck(d, "null", &jid).ok());
}

TEST(CommandDecoders, FailAndCleanse) {
  JobDecoder d;
  FailArgs f;
  ASSERT_TRUE(DecodeFail(d, R"({"jid":"j","errtype":"  ","message":" boom ","backtrace":["a"]})", &f).ok());
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
  EXPECT_FALSE(DecodeFail(d, R"({"jid":"j","backtrace":"x"})", &f).ok());
  EXPECT_EQ(DecodeFail(d, "", &f).message(), "invalid FAIL ");
}

TEST(CommandDecoders, Beat) {
  JobDecoder d;
  BeatArgs b;
  ASSERT_TRUE(DecodeBeat(d, R"({"wid":"w","current_state":"quiet","rss_kb":123})", &b).ok());
  EXPECT_EQ(b.current_state, "quiet");
  EXPECT_EQ(b.rss_kb, 123);
  EXPECT_EQ(DecodeBeat(d, R"({"wid":5})", &b).message(), R"(invalid BEAT {"wid":5})");
}

TEST(CommandDecoders, Mutate) {
  JobDecoder d;
  MutateArgs m;
  ASSERT_TRUE(DecodeMutate(d, R"({"cmd":"kill","target":"retries","filter":{"jids":["a"],"regexp":"*x*","jobtype":"T"}})", &m).ok());
  EXPECT_EQ(m.cmd, "kill");
  ASSERT_TRUE(m.filter.has_value());
  EXPECT_EQ(m.filter->jids, std::vector<std::string>{"a"});
  EXPECT_EQ(m.filter->regexp, "*x*");
  ASSERT_TRUE(DecodeMutate(d, R"({"cmd":"clear", "target":"dead"})", &m).ok());
  EXPECT_FALSE(m.filter.has_value());
  EXPECT_EQ(DecodeMutate(d, R"({"cmd":1})", &m).message(),
            "cannot unmarshal number into Go struct field Operation.cmd of type string");
}

}  // namespace
}  // namespace werk::net
