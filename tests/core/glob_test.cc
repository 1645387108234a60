#include <gtest/gtest.h>

#include "core/state_machine.h"

namespace werk::core {
namespace {

TEST(Glob, RedisStyleMatching) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("*\"jobtype\":\"Foo\"*", R"({"jid":"x","jobtype":"Foo","args":[]})"));
  EXPECT_FALSE(GlobMatch("*\"jobtype\":\"Foo\"*", R"({"jobtype":"Bar"})"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-c]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("a\\*b", "a*b"));
  EXPECT_FALSE(GlobMatch("a\\*b", "axb"));
  EXPECT_TRUE(GlobMatch("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(GlobMatch("*a*b*c*", "xxaxxcxxbxx"));
}

TEST(Glob, HostilePatternIsNotExponential) {
  const std::string text(5000, 'a');
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*a*b", text));
}

}  // namespace
}  // namespace werk::core
