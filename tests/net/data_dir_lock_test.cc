// One server per data directory: the lock excludes a second holder (also
// in this process: it is a lock of the open file, not of the process),
// names the holder, and is gone with its holder.

#include "net/data_dir_lock.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace werk::net {
namespace {

class DataDirLockTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_{"werk-lock"};
  const std::string& dir_ = tmp_.path();
};

TEST_F(DataDirLockTest, ASecondHolderIsRefusedWithTheDirectoryAndPid) {
  EXPECT_FALSE(DataDirLockHolder(dir_).has_value());
  auto first = DataDirLock::Acquire(dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(DataDirLockHolder(dir_), std::optional<pid_t>(::getpid()));
  auto second = DataDirLock::Acquire(dir_, /*wait_ms=*/0);
  ASSERT_FALSE(second.ok());
  const std::string why(second.status().message());
  EXPECT_NE(why.find(dir_), std::string::npos) << why;
  EXPECT_NE(why.find("pid " + std::to_string(::getpid())), std::string::npos) << why;
}

TEST_F(DataDirLockTest, ReleasedWithItsHolder) {
  {
    auto lock = DataDirLock::Acquire(dir_);
    ASSERT_TRUE(lock.ok());
    DataDirLock moved = std::move(*lock);  // still held after a move
    EXPECT_TRUE(DataDirLockHolder(dir_).has_value());
    EXPECT_FALSE(DataDirLock::Acquire(dir_, 0).ok());
  }
  EXPECT_FALSE(DataDirLockHolder(dir_).has_value());
  EXPECT_TRUE(DataDirLock::Acquire(dir_, 0).ok());
}

TEST_F(DataDirLockTest, AMissingDirectoryIsAClearError) {
  auto lock = DataDirLock::Acquire(dir_ + "/absent", 0);
  ASSERT_FALSE(lock.ok());
  EXPECT_NE(std::string(lock.status().message()).find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace werk::net
