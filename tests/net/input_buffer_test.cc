#include "net/input_buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace werk::net {
namespace {

void Feed(InputBuffer& b, std::string_view s) {
  ASSERT_TRUE(b.Prepare(1 << 20));
  ASSERT_GE(b.writable(), s.size());
  std::memcpy(b.write_ptr(), s.data(), s.size());
  b.Produced(s.size());
}

TEST(InputBuffer, SplitsCrlfAndLf) {
  InputBuffer b;
  Feed(b, "PUSH a\r\nINFO\nFET");
  std::string_view line;
  ASSERT_TRUE(b.NextLine(&line));
  EXPECT_EQ(line, "PUSH a");
  ASSERT_TRUE(b.NextLine(&line));
  EXPECT_EQ(line, "INFO");
  EXPECT_FALSE(b.NextLine(&line));
  Feed(b, "CH q\r\r\n");
  ASSERT_TRUE(b.NextLine(&line));
  EXPECT_EQ(line, "FETCH q\r");  // only one CR is stripped, as Faktory does
}

TEST(InputBuffer, GrowsUpToTheLimitThenRefuses) {
  InputBuffer b;
  const size_t limit = 100 << 10;
  std::string chunk(4096, 'x');
  size_t total = 0;
  while (b.Prepare(limit)) {
    const size_t n = std::min(chunk.size(), b.writable());
    std::memcpy(b.write_ptr(), chunk.data(), n);
    b.Produced(n);
    total += n;
    std::string_view line;
    ASSERT_FALSE(b.NextLine(&line));
    ASSERT_LT(total, 2 * limit);
  }
  EXPECT_GE(b.size(), limit);
}

TEST(InputBuffer, CompactsConsumedBytes) {
  InputBuffer b;
  for (int i = 0; i < 10000; ++i) {
    Feed(b, "ACK {\"jid\":\"x\"}\r\n");
    std::string_view line;
    ASSERT_TRUE(b.NextLine(&line));
  }
  EXPECT_LE(b.capacity(), InputBuffer::kInitialBytes);
}

}  // namespace
}  // namespace werk::net
