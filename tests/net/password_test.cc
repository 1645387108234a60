#include "net/password.h"

#include <gtest/gtest.h>

namespace werk::net {
namespace {

TEST(Password, FaktoryTestVector) {
  // From Faktory's server unit test (reference §1.6).
  EXPECT_EQ(PasswordHash("foobar", "55104dc76695721d", 1545),
            "6d877f8e5544b1f2598768f817413ab8a357afffa924dedae99eb91472d4ec30");
}

TEST(Password, OneIterationIsPlainSha256) {
  // sha256("abc")
  EXPECT_EQ(PasswordHash("ab", "c", 1),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Password, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace werk::net
