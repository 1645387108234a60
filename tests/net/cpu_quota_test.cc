// The default shard count: the affinity mask, capped by the cgroup's CPU
// quota, read from a cgroup tree laid out as the kernel mounts it.

#include "net/cpu_quota.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace werk::net {
namespace {

namespace fs = std::filesystem;

class CpuQuota : public ::testing::Test {
 protected:
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories(fs::path(root_ + rel).parent_path());
    std::ofstream(root_ + rel) << text;
  }
  testing::TempDir dir_{"werk-cgroup"};
  const std::string& root_ = dir_.path();
};

TEST_F(CpuQuota, CgroupV2LimitOfTheProcessCgroup) {
  Write("/kubepods/pod1/ctr/cpu.max", "200000 100000\n");
  auto q = CgroupCpuQuota("0::/kubepods/pod1/ctr\n", root_);
  ASSERT_TRUE(q.has_value());
  EXPECT_DOUBLE_EQ(*q, 2.0);
}

TEST_F(CpuQuota, CgroupV2TightestAncestorWins) {
  Write("/kubepods/pod1/ctr/cpu.max", "max 100000\n");
  Write("/kubepods/pod1/cpu.max", "150000 100000\n");
  Write("/kubepods/cpu.max", "800000 100000\n");
  auto q = CgroupCpuQuota("0::/kubepods/pod1/ctr\n", root_);
  ASSERT_TRUE(q.has_value());
  EXPECT_DOUBLE_EQ(*q, 1.5);
}

TEST_F(CpuQuota, CgroupV2InsideANamespaceReadsTheMountRoot) {
  // A container with its own cgroup namespace sees itself at "/".
  Write("/cpu.max", "50000 100000\n");
  auto q = CgroupCpuQuota("0::/\n", root_);
  ASSERT_TRUE(q.has_value());
  EXPECT_DOUBLE_EQ(*q, 0.5);
}

TEST_F(CpuQuota, NoLimitAnywhere) {
  Write("/user.slice/cpu.max", "max 100000\n");
  EXPECT_FALSE(CgroupCpuQuota("0::/user.slice\n", root_).has_value());
  EXPECT_FALSE(CgroupCpuQuota("0::/nowhere\n", root_).has_value());
  EXPECT_FALSE(CgroupCpuQuota("", root_).has_value());
  // Garbage is no limit, not a crash.
  Write("/bad/cpu.max", "lots 0\n");
  EXPECT_FALSE(CgroupCpuQuota("0::/bad\n", root_).has_value());
}

TEST_F(CpuQuota, CgroupV1CfsQuota) {
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  auto q = CgroupCpuQuota("12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n", root_);
  ASSERT_TRUE(q.has_value());
  EXPECT_DOUBLE_EQ(*q, 3.0);
  // -1: no quota.
  Write("/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
  EXPECT_FALSE(CgroupCpuQuota("4:cpu,cpuacct:/docker/abc\n", root_).has_value());
}

TEST(DefaultShardCount, AffinityCappedByTheQuotaRoundedUp) {
  EXPECT_EQ(DefaultShardCount(64, 2.0), 2u);   // a 2-CPU container on a 64-core node
  EXPECT_EQ(DefaultShardCount(64, 2.5), 3u);
  EXPECT_EQ(DefaultShardCount(64, 0.25), 1u);
  EXPECT_EQ(DefaultShardCount(4, 16.0), 4u);   // the mask is tighter
  EXPECT_EQ(DefaultShardCount(8, std::nullopt), 8u);
  EXPECT_EQ(DefaultShardCount(0, std::nullopt), 1u);
}

}  // namespace
}  // namespace werk::net
